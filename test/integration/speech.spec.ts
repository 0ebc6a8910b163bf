/**
 * Speech recognition in a live call (issue #6 item 6): the callee's audio out of Asterisk through the audio tap
 * (snoop `spy=in` + externalMedia RTP + mixing bridge), into the Vosk websocket client, and back as text.
 * Real: Asterisk over ARI (an AriAdapter with its own `asr-` application), the tap's RTP over UDP into this process,
 * the websocket client, a sipp callee (test/sipp/speak.xml: silent 1 s, then 7.05 s of PCMA speech, then silent,
 * hanging up 13 s after the answer). Fake: the Vosk server (test/support/fake-vosk-server.ts) — everything but the
 * model: an energy detector finds the utterance and "recognises" the next scripted phrase.
 */
import { AriAdapter, type ChannelSession } from '../../activities/ari/ari-adapter';
import { createLogger } from '../../activities/logger';
import { AudioTaps, tapIds } from '../../activities/speech/audio-tap';
import { VoskRecognizer } from '../../activities/speech/vosk-recognizer';
import { FakeVoskServer } from '../support/fake-vosk-server';
import { testConfig, uniqueName } from '../support/servers';
import { until } from '../support/wait';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';

/** sipp ports of this suite: 5700-5749 (media 20000 + 10·(port mod 1000), control 30000 + port mod 1000). */
const SPEAK_PORT = 5700;
/** speak.xml: speech starts 1 s after the answer; g711a.pcap is voiced until its end, 7.05 s later. */
const SPEECH_FROM_MS = 1_000 + 600;
const SPEECH_TO_MS = 1_000 + 7_050;
const PHRASES = ['我想了解一下', '不需要'];

const config = testConfig({ MEDIA_RTP_PORTS: '40700-40749' });
const logger = createLogger(config.logLevel, 'speech-test');
const app = uniqueName('asr-');
let ari: AriAdapter;
let taps: AudioTaps;
let vosk: FakeVoskServer;
let recognizer: VoskRecognizer;
let callee: SippCallee | undefined;

async function call(): Promise<ChannelSession> {
  return ari.originate({
    channelId: uniqueName('asr-call-'),
    endpoint: `PJSIP/${config.sip.trunkEndpoint}/sip:8613800000001@127.0.0.1:${SPEAK_PORT}`,
    timeoutSeconds: 10,
  });
}

/** What Asterisk holds of a call's tap: its channels and its bridge (with the channels in it). */
async function tapInAsterisk(channelId: string): Promise<{ channels: string[]; bridge?: string[] }> {
  const ids = tapIds(channelId);
  const [channels, bridges] = await Promise.all([ari.ari.channels.list(), ari.ari.bridges.list()]);
  return {
    channels: channels.map((c) => c.id).filter((id) => id === ids.snoop || id === ids.media),
    bridge: bridges.find((b) => b.id === ids.bridge)?.channels as string[] | undefined,
  };
}

const noTapLeft = async (channelId: string) => {
  const left = await tapInAsterisk(channelId);
  return left.channels.length === 0 && left.bridge === undefined && taps.openCount === 0;
};

/** Level and smoothness of 16-bit LE PCM: speech in the right byte order is smooth, swapped bytes are noise. */
function measure(pcm: Buffer): { rms: number; roughness: number } {
  let sum = 0;
  let diff = 0;
  let prev = 0;
  const n = pcm.length / 2;
  for (let i = 0; i < n; i++) {
    const s = pcm.readInt16LE(i * 2);
    sum += s * s;
    diff += Math.abs(s - prev);
    prev = s;
  }
  const rms = Math.sqrt(sum / n);
  return { rms, roughness: diff / n / (rms || 1) };
}

beforeAll(async () => {
  ari = await AriAdapter.connect({ ...config.ari, app }, logger);
  // externalMedia needs chan_rtp (UnicastRTP), which needs res_rtp_multicast; say so instead of a bare 500.
  await ari.ari.asterisk.getModule({ moduleName: 'chan_rtp.so' }).catch(() => {
    throw new Error(
      'Asterisk has no chan_rtp.so: config/asterisk/modules.conf must load chan_rtp and res_rtp_multicast',
    );
  });
  vosk = await FakeVoskServer.start({ phrases: PHRASES });
  taps = await AudioTaps.start(ari, { app, ...config.asr }, logger);
  recognizer = new VoskRecognizer(taps, { url: vosk.url, sampleRate: config.asr.sampleRate }, logger);
  callee = await startCallee('speak', SPEAK_PORT);
});

afterAll(async () => {
  await taps?.closeAll();
  stopCallees(callee ? [callee] : []);
  await vosk?.close();
  await ari?.close();
});

describe('speech recognition in a live call', () => {
  it('hears what the callee says after they stop, then silence; the tap goes with the call', async () => {
    const session = await call();
    const answeredAt = await session.answered;

    // Turn 1: the callee speaks 1.6–8.05 s after the answer; the fake ends the utterance after 600 ms of silence.
    let spokeAt: number | undefined;
    const listening = recognizer.listen(session.id, {
      timeoutMs: 15_000,
      signal: new AbortController().signal,
      onSpeech: () => (spokeAt = Date.now()),
    });
    // The same tap, read by the test too, to check what the recogniser is fed.
    const stream = await taps.open(session.id);
    expect(stream).toBeDefined();
    const heardPcm: { at: number; pcm: Buffer }[] = [];
    const sub = stream!.subscribe((pcm) => heardPcm.push({ at: Date.now(), pcm }));
    const inAsterisk = await until(async () => {
      const t = await tapInAsterisk(session.id);
      return t.channels.length === 2 && t.bridge?.length === 2 && t;
    }, 'the tap in Asterisk');
    expect(inAsterisk.bridge?.sort()).toEqual([tapIds(session.id).media, tapIds(session.id).snoop].sort());

    const heard = await listening;
    const resolvedAt = Date.now();
    sub.unsubscribe();
    expect(heard?.text).toBe(PHRASES[0]);
    const speechEnd = answeredAt + SPEECH_TO_MS;
    logger.info(
      {
        endOfSpeechToResult: resolvedAt - speechEnd,
        reportedEndMinusTrueEnd: heard!.at - speechEnd,
        speechStartToOnSpeech: spokeAt! - (answeredAt + SPEECH_FROM_MS),
        packets: stream!.stats.packets,
      },
      'speech timing',
    );
    // The result comes after the callee stopped (600 ms endpoint, plus RTP, padding and websocket latency) ...
    expect(resolvedAt - speechEnd).toBeGreaterThanOrEqual(500);
    expect(resolvedAt - speechEnd).toBeLessThan(2_000);
    // ... and says when they stopped.
    expect(Math.abs(heard!.at - speechEnd)).toBeLessThan(600);
    // The first partial came once the callee had talked for a while (the fake needs 200 ms of voice).
    expect(spokeAt! - (answeredAt + SPEECH_FROM_MS)).toBeGreaterThanOrEqual(0);
    expect(spokeAt! - (answeredAt + SPEECH_FROM_MS)).toBeLessThan(1_500);

    // What reached the recogniser: 16 kHz audio in the right byte order (speech is smooth, swapped bytes are not).
    const session1 = vosk.sessions.at(-1)!;
    expect(session1.config).toEqual({ sample_rate: 16000, words: true });
    expect(session1.unexpectedText).toEqual([]);
    expect(session1.utterances).toHaveLength(1);
    const speech = Buffer.concat(
      heardPcm.filter((c) => c.at > answeredAt + 3_000 && c.at < answeredAt + 7_000).map((c) => c.pcm),
    );
    expect(speech.length).toBeGreaterThan(3 * 16000 * 2 * 0.9);
    const level = measure(speech);
    expect(level.rms).toBeGreaterThan(300);
    expect(level.roughness).toBeLessThan(0.5);
    logger.info({ ...level, bytes: speech.length }, 'tap audio during speech');

    // Turn 2: the callee says nothing more: the listen ends at its timeout with nothing heard.
    const t0 = Date.now();
    expect(await recognizer.listen(session.id, { timeoutMs: 2_000, signal: new AbortController().signal })).toBe(
      undefined,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_990);
    // One websocket per listen, each ended with the exact eof the server expects.
    await until(() => vosk.sessions.slice(-2).every((s) => s.eof), 'eof on both sessions', 2_000);
    expect(vosk.sessions.at(-1)!.unexpectedText).toEqual([]);
    expect(vosk.sessions.at(-1)!.utterances).toEqual([]);

    // The callee hangs up (13 s after the answer): snoop, externalMedia and bridge all go.
    await session.destroyed;
    await until(() => noTapLeft(session.id), 'the tap removed from Asterisk', 5_000);
    await until(() => vosk.openSessions === 0, 'the recogniser sessions closed', 5_000);
  }, 40_000);

  it('our own hang-up tears the tap down too, and an aborted listen ends at once', async () => {
    const session = await call();
    await session.answered;
    const abort = new AbortController();
    const listening = recognizer.listen(session.id, { timeoutMs: 10_000, signal: abort.signal });
    await until(async () => (await tapInAsterisk(session.id)).bridge?.length === 2, 'the tap in Asterisk');
    await ari.hangup(session);
    await session.destroyed;
    const t0 = Date.now();
    abort.abort();
    expect(await listening).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(100);
    await until(() => noTapLeft(session.id), 'the tap removed from Asterisk', 5_000);
  }, 20_000);

  it('sweep removes what a crashed worker left of a tap whose call is gone', async () => {
    const ghost = uniqueName('asr-ghost-');
    const ids = tapIds(ghost);
    await ari.ari.channels.externalMedia({
      app,
      channelId: ids.media,
      external_host: '127.0.0.1:9',
      format: 'slin16',
      encapsulation: 'rtp',
      transport: 'udp',
    });
    await ari.ari.bridges.createWithId({ bridgeId: ids.bridge, type: 'mixing' });
    await ari.ari.bridges.addChannel({ bridgeId: ids.bridge, channel: ids.media });
    expect(await tapInAsterisk(ghost)).toEqual({ channels: [ids.media], bridge: [ids.media] });
    expect(await taps.sweep()).toBeGreaterThanOrEqual(1);
    await until(() => noTapLeft(ghost), 'the orphaned tap removed', 5_000);
  });

  it('a listen on a channel that is gone hears nothing and leaves nothing behind', async () => {
    const channelId = uniqueName('asr-gone-');
    const t0 = Date.now();
    expect(await recognizer.listen(channelId, { timeoutMs: 500, signal: new AbortController().signal })).toBe(
      undefined,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(490);
    await until(() => noTapLeft(channelId), 'nothing of the tap left', 5_000);
  });
});
