/**
 * **A FAKE Vosk server** — a test double for alphacephei/vosk-server (`websocket/asr_server.py`), the one peer of
 * speech recognition that cannot run here (it needs a Kaldi model download). It speaks the same websocket protocol:
 * a `{"config": {...}}` text message, binary 16-bit little-endian PCM answered one message per message
 * (`{"partial": …}` or, at an endpoint, `{"text": …, "result": [words with start/end]}`), and the exact text
 * `{"eof" : 1}` answered with the final result before the server closes.
 *
 * What is fake is only the model: instead of decoding, an energy voice-activity detector (RMS per 20 ms frame)
 * finds an utterance — at least `minSpeechMs` of voice — and its end — `endSilenceMs` of silence after it — and the
 * "recognised" text is the next phrase of a scripted list. Word times are the utterance's real position in the
 * audio received, so callers can check timing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeVoskOptions {
  /** Answered in order, one per utterance heard (across all sessions); '' once exhausted. */
  phrases: string[];
  /** RMS of a 20 ms frame above which it is voice. Default 100 (of 32767). */
  energyThreshold?: number;
  /** Voice needed before an utterance counts. Default 200 ms. */
  minSpeechMs?: number;
  /** Silence after voice that ends an utterance. Default 600 ms. */
  endSilenceMs?: number;
}

export interface HeardUtterance {
  text: string;
  /** Seconds into the session's audio. */
  start: number;
  end: number;
}

/** What the fake saw of one websocket session. */
export interface FakeVoskSession {
  config?: Record<string, unknown>;
  sampleRate: number;
  /** Bytes of audio received. */
  bytes: number;
  messages: number;
  utterances: HeardUtterance[];
  /** Text messages that were neither a config nor the exact eof (the real server would feed them to the model). */
  unexpectedText: string[];
  eof: boolean;
  closed: boolean;
}

const FRAME_MS = 20;

export class FakeVoskServer {
  readonly sessions: FakeVoskSession[] = [];
  private readonly phrases: string[];

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly opts: Required<FakeVoskOptions>,
  ) {
    this.phrases = [...opts.phrases];
    wss.on('connection', (ws) => this.serve(ws));
  }

  static async start(options: FakeVoskOptions): Promise<FakeVoskServer> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new FakeVoskServer(http, wss, {
      energyThreshold: 100,
      minSpeechMs: 200,
      endSilenceMs: 600,
      ...options,
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** Sessions still open. */
  get openSessions(): number {
    return this.sessions.filter((s) => !s.closed).length;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private serve(ws: WebSocket): void {
    const s: FakeVoskSession = {
      sampleRate: 8000,
      bytes: 0,
      messages: 0,
      utterances: [],
      unexpectedText: [],
      eof: false,
      closed: false,
    };
    this.sessions.push(s);
    const { energyThreshold, minSpeechMs, endSilenceMs } = this.opts;
    let carry = Buffer.alloc(0);
    let frames = 0; // frames analysed
    let voiceRun = 0; // ms of voice in a row, before an utterance is confirmed
    let inUtterance = false;
    let start = 0;
    let lastVoiceEnd = 0;
    let silenceRun = 0;
    const seconds = (frame: number) => (frame * FRAME_MS) / 1000;
    const final = (u?: HeardUtterance) =>
      JSON.stringify(
        u
          ? {
              result: u.text
                .split(/\s+/)
                .filter(Boolean)
                .map((word, i, all) => {
                  const step = (u.end - u.start) / all.length;
                  return { conf: 1, start: u.start + i * step, end: u.start + (i + 1) * step, word };
                }),
              text: u.text,
            }
          : { text: '' },
      );
    const endUtterance = (): HeardUtterance => {
      const u = { text: this.phrases.shift() ?? '', start: seconds(start), end: seconds(lastVoiceEnd) };
      s.utterances.push(u);
      inUtterance = false;
      voiceRun = 0;
      silenceRun = 0;
      return u;
    };

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      s.messages++;
      if (!isBinary) {
        const text = data.toString('utf8');
        if (text.includes('config')) {
          s.config = (JSON.parse(text) as { config: Record<string, unknown> }).config;
          if (typeof s.config.sample_rate === 'number') s.sampleRate = s.config.sample_rate;
          return; // the real server does not answer a config
        }
        if (text === '{"eof" : 1}') {
          s.eof = true;
          ws.send(final(inUtterance ? endUtterance() : undefined));
          ws.close(1000);
          return;
        }
        s.unexpectedText.push(text);
        return;
      }
      s.bytes += data.length;
      const frameBytes = ((s.sampleRate * FRAME_MS) / 1000) * 2;
      carry = Buffer.concat([carry, data]);
      let ended: HeardUtterance | undefined;
      for (; carry.length >= frameBytes; carry = carry.subarray(frameBytes), frames++) {
        let sum = 0;
        for (let i = 0; i < frameBytes; i += 2) sum += carry.readInt16LE(i) ** 2;
        const voiced = Math.sqrt(sum / (frameBytes / 2)) > energyThreshold;
        if (!inUtterance) {
          voiceRun = voiced ? voiceRun + FRAME_MS : 0;
          if (voiceRun >= minSpeechMs) {
            inUtterance = true;
            start = frames + 1 - voiceRun / FRAME_MS;
            lastVoiceEnd = frames + 1;
            silenceRun = 0;
          }
        } else if (voiced) {
          lastVoiceEnd = frames + 1;
          silenceRun = 0;
        } else {
          silenceRun += FRAME_MS;
          if (silenceRun >= endSilenceMs) ended = endUtterance();
        }
      }
      ws.send(ended ? final(ended) : JSON.stringify({ partial: inUtterance ? (this.phrases[0] ?? '') : '' }));
    });
    ws.on('close', () => (s.closed = true));
  }
}
