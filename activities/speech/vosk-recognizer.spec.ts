/**
 * The Vosk client: message parsing, and listen() against the fake Vosk server (test/support/fake-vosk-server.ts,
 * a fake: the model cannot run here) over a real websocket. The call's audio comes from a synthetic source here
 * (a tone burst, then silence, paced in real time); test/integration/speech.spec.ts feeds it from Asterisk.
 */
import { createServer } from 'node:net';
import { FakeVoskServer } from '../../test/support/fake-vosk-server';
import { createLogger } from '../logger';
import type { AudioSource, AudioStream } from './audio-tap';
import { listenForBargeIn } from './recognizer';
import { normalizeRecognizedText, parseVoskMessage, VoskRecognizer } from './vosk-recognizer';

const RATE = 16000;
const logger = createLogger('silent', 'vosk-test');

/** Audio of one call: `toneMs` of a 440 Hz tone after `silenceMs` of silence, then silence, in 20 ms frames. */
function syntheticCall(shape: { silenceMs?: number; toneMs: number }): AudioSource & {
  subscribers: number;
  startedAt: number;
} {
  const source = {
    subscribers: 0,
    startedAt: 0,
    open: (channelId: string): Promise<AudioStream | undefined> =>
      Promise.resolve({
        channelId,
        sampleRate: RATE,
        stats: { packets: 0, port: 0 },
        subscribe: (onPcm: (pcm: Buffer) => void) => {
          source.subscribers++;
          const startedAt = Date.now();
          source.startedAt = startedAt;
          let frame = 0;
          const timer = setInterval(() => {
            const pcm = Buffer.alloc((RATE / 50) * 2);
            const t = frame * 20;
            if (t >= (shape.silenceMs ?? 0) && t < (shape.silenceMs ?? 0) + shape.toneMs) {
              for (let i = 0; i < RATE / 50; i++) {
                pcm.writeInt16LE(
                  Math.round(3000 * Math.sin((2 * Math.PI * 440 * (frame * (RATE / 50) + i)) / RATE)),
                  i * 2,
                );
              }
            }
            frame++;
            onPcm(pcm);
          }, 20);
          return {
            startedAt,
            unsubscribe: () => {
              source.subscribers--;
              clearInterval(timer);
            },
          };
        },
      }),
  };
  return source;
}

const never = () => new AbortController().signal;

describe('parseVoskMessage', () => {
  it('reads partials, finals with word times, finals without, and alternatives', () => {
    expect(parseVoskMessage('{"partial" : "我 要"}')).toEqual({ kind: 'partial', text: '我要' });
    expect(
      parseVoskMessage(
        '{"result" : [{"conf": 1, "end": 1.02, "start": 0.5, "word": "不"}, {"conf": 0.9, "end": 1.5, "start": 1.02, "word": "需要"}], "text" : "不 需要"}',
      ),
    ).toEqual({ kind: 'final', text: '不需要', end: 1.5 });
    expect(parseVoskMessage('{"text" : ""}')).toEqual({ kind: 'final', text: '' });
    expect(parseVoskMessage('{"alternatives": [{"text": "好 的", "confidence": 300}, {"text": "号 的"}]}')).toEqual({
      kind: 'final',
      text: '好的',
    });
  });

  it('ignores what it does not understand', () => {
    expect(parseVoskMessage('not json')).toEqual({ kind: 'other' });
    expect(parseVoskMessage('42')).toEqual({ kind: 'other' });
    expect(parseVoskMessage('{"text": 7}')).toEqual({ kind: 'other' });
  });
});

describe('normalizeRecognizedText', () => {
  it('joins Chinese words and keeps the spaces Latin words need', () => {
    expect(normalizeRecognizedText(' 我 要  退订 ')).toBe('我要退订');
    expect(normalizeRecognizedText('我 要 call 你')).toBe('我要 call 你');
    expect(normalizeRecognizedText('yes  please')).toBe('yes please');
    expect(normalizeRecognizedText('好 ， 再见')).toBe('好，再见');
  });
});

describe(VoskRecognizer.name, () => {
  let vosk: FakeVoskServer;

  beforeEach(async () => {
    vosk = await FakeVoskServer.start({ phrases: ['好的', '再见'] });
  });
  afterEach(async () => {
    await vosk.close();
  });

  it('answers the first final text, with the time the speech ended, and ends the session with eof', async () => {
    const audio = syntheticCall({ silenceMs: 200, toneMs: 800 });
    const sut = new VoskRecognizer(audio, { url: vosk.url, sampleRate: RATE }, logger);
    const partials: string[] = [];
    const t0 = Date.now();
    const heard = await sut.listen('c1', { timeoutMs: 5_000, signal: never(), onSpeech: (p) => partials.push(p) });
    const took = Date.now() - t0;
    expect(heard?.text).toBe('好的');
    // Tone ends 1 s in; the fake waits for 600 ms of silence; audio goes out in 100 ms messages.
    expect(took).toBeGreaterThanOrEqual(1_550);
    expect(took).toBeLessThan(2_300);
    // The time of the last word's end in the audio, on the clock of the audio's first sample.
    expect(heard!.at - audio.startedAt).toBe(1_000);
    expect(partials).toEqual(['好的']);
    await expectSessionEnded(vosk, audio);
    expect(vosk.sessions[0]).toMatchObject({ config: { sample_rate: RATE, words: true }, unexpectedText: [] });
  });

  it('hears nothing in silence: undefined at the timeout, never earlier', async () => {
    const audio = syntheticCall({ toneMs: 0 });
    const sut = new VoskRecognizer(audio, { url: vosk.url, sampleRate: RATE }, logger);
    const t0 = Date.now();
    expect(await sut.listen('c1', { timeoutMs: 700, signal: never() })).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(695);
    await expectSessionEnded(vosk, audio);
    expect(vosk.sessions[0]!.bytes).toBeGreaterThan(0);
  });

  it('stops at once when aborted, mid-utterance', async () => {
    const audio = syntheticCall({ toneMs: 5_000 });
    const sut = new VoskRecognizer(audio, { url: vosk.url, sampleRate: RATE }, logger);
    const abort = new AbortController();
    const listening = sut.listen('c1', { timeoutMs: 5_000, signal: abort.signal, onSpeech: () => abort.abort() });
    expect(await listening).toBeUndefined();
    await expectSessionEnded(vosk, audio);
    expect(vosk.sessions[0]!.utterances).toEqual([{ text: '好的', start: 0, end: expect.any(Number) as number }]);
  });

  it('a recogniser that cannot be reached turns the listen into silence until the timeout', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const audio = syntheticCall({ toneMs: 500 });
    const sut = new VoskRecognizer(audio, { url: `ws://127.0.0.1:${closedPort}`, sampleRate: RATE }, logger);
    const t0 = Date.now();
    expect(await sut.listen('c1', { timeoutMs: 600, signal: never() })).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(595);
    expect(audio.subscribers).toBe(0);
  });

  it('a tap that cannot be opened (Asterisk refuses it) also means silence until the timeout', async () => {
    const broken: AudioSource = { open: () => Promise.reject(new Error('Allocation failed')) };
    const sut = new VoskRecognizer(broken, { url: vosk.url, sampleRate: RATE }, logger);
    const t0 = Date.now();
    expect(await sut.listen('c1', { timeoutMs: 300, signal: never() })).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(295);
    expect(vosk.sessions).toEqual([]);
  });

  it('listenForBargeIn says "speaking" at the first partial, well before the text', async () => {
    const audio = syntheticCall({ toneMs: 800 });
    const sut = new VoskRecognizer(audio, { url: vosk.url, sampleRate: RATE }, logger);
    const t0 = Date.now();
    const { speaking, result } = listenForBargeIn(sut, 'c1', { timeoutMs: 5_000, signal: never() });
    expect(await speaking).toBe('speaking');
    const spokeAfter = Date.now() - t0;
    expect(spokeAfter).toBeLessThan(700);
    expect((await result)?.text).toBe('好的');
    expect(Date.now() - t0).toBeGreaterThan(spokeAfter + 600);
  });
});

async function expectSessionEnded(vosk: FakeVoskServer, audio: { subscribers: number }): Promise<void> {
  expect(audio.subscribers).toBe(0);
  for (let i = 0; i < 50 && vosk.openSessions; i++) await new Promise((r) => setTimeout(r, 20));
  expect(vosk.openSessions).toBe(0);
  expect(vosk.sessions.every((s) => s.eof)).toBe(true);
}
