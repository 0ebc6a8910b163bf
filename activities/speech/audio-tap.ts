/**
 * The callee's audio of a live call, out of Asterisk and into this process, for speech recognition.
 *
 * How, per call (all through ARI, with ids derived from the call's channel id so a tap is found again and never
 * doubled):
 * - a **snoop channel** `<id>-asr-snoop` on the call, `spy=in` (what Asterisk reads from the callee, not the robot's
 *   prompts), `whisper=none`, in the worker's Stasis application;
 * - an **externalMedia channel** `<id>-asr-media`: Asterisk's chan_rtp (UnicastRTP) sends the bridge's audio as RTP
 *   over UDP to `MEDIA_RTP_HOST:<port>`, a socket of this process bound to a port of `MEDIA_RTP_PORTS`;
 * - a **mixing bridge** `<id>-asr` joining the two.
 * The call channel itself is untouched: it stays out of any bridge, so prompts, DTMF and hang-up handling of the
 * media activities do not change.
 *
 * Format: `slin16` (16 kHz) or `slin` (8 kHz) by `ASR_SAMPLE_RATE` — linear PCM, so no codec runs here; RTP carries
 * it big-endian and {@link l16ToLittleEndian} turns it into what recognisers read. 16 kHz is what Vosk's models are
 * trained on; the callee's 8 kHz G.711 is upsampled by Asterisk.
 *
 * Lifecycle: a tap is opened lazily by the first listen of a call and shared by its later listens; it is torn down
 * (snoop and externalMedia hung up, bridge destroyed, socket closed) when the call channel — or one of the tap's own
 * channels — is destroyed. After an ARI reconnect, and once at start, {@link AudioTaps.sweep} removes tap channels
 * and bridges whose call no longer exists (left by a crashed worker or a missed ChannelDestroyed).
 *
 * **Gaps become silence.** Measured on Asterisk 22.10.1 (test/integration/speech.spec.ts): the mixing bridge sends a
 * 20 ms packet every 20 ms from the moment it is built, silence included (payload type 118, 640 bytes of slin16,
 * a bare 12-byte header), and the callee's
 * speech arrives in the right byte order (smooth, at the level sipp sent). Still, a streaming recogniser must never
 * wait for trailing silence that does not come (a packet lost, a late first packet, a bridge that stops mixing), so
 * each subscriber gets a continuous stream paced by the wall clock: when no packet came for {@link JITTER_MS},
 * zeros fill the gap.
 *
 * Asterisk config this module needs: chan_rtp.so and res_rtp_multicast.so loaded (chan_rtp needs the latter's
 * symbols; config/asterisk/modules.conf must not `noload` them), res_stasis_snoop; Asterisk must reach
 * MEDIA_RTP_HOST over UDP.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AriAdapter } from '../ari/ari-adapter';
import type { Logger } from '../logger';
import { l16ToLittleEndian, parseRtp, PT_COMFORT_NOISE } from './rtp';

export interface AudioTapConfig {
  /** The Stasis application of the ARI connection that owns the calls (ARI_APP). */
  app: string;
  /** Where Asterisk sends the RTP: an address of this host as Asterisk reaches it; the socket binds to it too. */
  rtpHost: string;
  /** UDP ports this process may bind, one per call being listened to. */
  rtpPorts: Readonly<{ from: number; to: number }>;
  sampleRate: 8000 | 16000;
}

/** Audio as a recogniser reads it: 16-bit little-endian mono PCM at {@link AudioStream.sampleRate}. */
export interface AudioSubscription {
  /** Wall-clock time (ms since the epoch) of the first sample delivered to this subscriber. */
  startedAt: number;
  unsubscribe(): void;
}

export interface AudioStream {
  readonly channelId: string;
  readonly sampleRate: number;
  /**
   * Receive the callee's audio from now on, as a continuous stream (gaps filled with silence), preceded by up to
   * `preRollMs` of what was heard just before (speech that began while the robot was still talking).
   */
  subscribe(onPcm: (pcm: Buffer) => void, opts?: { preRollMs?: number }): AudioSubscription;
  /** RTP packets taken from Asterisk so far, and the local UDP port they arrive on. */
  readonly stats: Readonly<{ packets: number; port: number }>;
}

/** Where the recogniser gets a call's audio; undefined when the call's channel is gone. */
export interface AudioSource {
  open(channelId: string): Promise<AudioStream | undefined>;
}

/** Without a packet for this long, a subscriber's stream is padded with silence. */
export const JITTER_MS = 60;
const TICK_MS = 20;
/** How much recent audio a tap keeps for pre-roll. */
const KEEP_MS = 1_000;

/** The ARI resources of one call's tap. */
export function tapIds(channelId: string): { snoop: string; media: string; bridge: string } {
  return { snoop: `${channelId}-asr-snoop`, media: `${channelId}-asr-media`, bridge: `${channelId}-asr` };
}

/** The call channel id a tap resource belongs to, or undefined for anything else. */
export function callOfTapResource(id: string): string | undefined {
  return /^(.+)-asr(?:-snoop|-media)?$/.exec(id)?.[1];
}

interface Subscriber {
  onPcm: (pcm: Buffer) => void;
  startedAt: number;
  /** Samples delivered. */
  delivered: number;
}

/** One call's socket and the subscribers reading it. */
class Tap implements AudioStream {
  private readonly subscribers = new Set<Subscriber>();
  private readonly recent: { at: number; pcm: Buffer }[] = [];
  private source?: string;
  private ticker?: NodeJS.Timeout;
  private packets = 0;
  private closed = false;

  constructor(
    readonly channelId: string,
    private readonly socket: Socket,
    private readonly port: number,
    readonly sampleRate: number,
  ) {
    socket.on('message', (msg, from) => this.onPacket(msg, `${from.address}:${from.port}`));
  }

  get stats() {
    return { packets: this.packets, port: this.port };
  }

  private onPacket(msg: Buffer, from: string): void {
    // Latch on the first sender (Asterisk's UnicastRTP port); anything else reaching the port is ignored.
    this.source ??= from;
    if (from !== this.source) return;
    const rtp = parseRtp(msg);
    if (!rtp || rtp.payloadType === PT_COMFORT_NOISE || rtp.payload.length < 2) return;
    const pcm = l16ToLittleEndian(rtp.payload);
    this.packets++;
    const now = Date.now();
    this.recent.push({ at: now, pcm });
    while ((this.recent[0]?.at ?? now) < now - KEEP_MS) this.recent.shift();
    for (const s of this.subscribers) this.deliver(s, pcm);
  }

  private deliver(s: Subscriber, pcm: Buffer): void {
    s.delivered += pcm.length / 2;
    s.onPcm(pcm);
  }

  /** Pad every subscriber that has had nothing for JITTER_MS up to the present. */
  private tick(): void {
    const now = Date.now();
    for (const s of this.subscribers) {
      const due = Math.floor(((now - s.startedAt - JITTER_MS) * this.sampleRate) / 1000);
      if (due > s.delivered) this.deliver(s, Buffer.alloc((due - s.delivered) * 2));
    }
  }

  subscribe(onPcm: (pcm: Buffer) => void, opts: { preRollMs?: number } = {}): AudioSubscription {
    const now = Date.now();
    const preRoll = opts.preRollMs ? this.recent.filter((r) => r.at >= now - opts.preRollMs!).map((r) => r.pcm) : [];
    const first = Buffer.concat(preRoll);
    const s: Subscriber = {
      onPcm,
      startedAt: now - Math.round((first.length / 2 / this.sampleRate) * 1000),
      delivered: 0,
    };
    if (this.closed) return { startedAt: s.startedAt, unsubscribe: () => undefined };
    this.subscribers.add(s);
    if (first.length) this.deliver(s, first);
    this.ticker ??= setInterval(() => this.tick(), TICK_MS).unref();
    return {
      startedAt: s.startedAt,
      unsubscribe: () => {
        this.subscribers.delete(s);
        if (!this.subscribers.size) this.stopTicker();
      },
    };
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscribers.clear();
    this.stopTicker();
    this.socket.close();
  }
}

interface Entry {
  ready: Promise<Tap | undefined>;
  tap?: Tap;
  /** The call (or a tap channel) was destroyed, or the registry closed: whatever opening creates is removed. */
  gone: boolean;
}

/**
 * The taps of the calls one worker process holds: at most one per call channel. One ChannelDestroyed listener
 * serves them all (a listener per call would trip EventEmitter's leak warning at a hundred calls).
 */
export class AudioTaps implements AudioSource {
  private readonly entries = new Map<string, Entry>();
  private nextPort: number;
  private stopped = false;

  private constructor(
    private readonly adapter: AriAdapter,
    private readonly cfg: AudioTapConfig,
    private readonly logger: Logger,
  ) {
    this.nextPort = cfg.rtpPorts.from;
    adapter.ari.on('ChannelDestroyed', (event) => {
      const call = this.entries.has(event.channel.id) ? event.channel.id : callOfTapResource(event.channel.id);
      if (call && this.entries.has(call)) void this.close(call);
    });
    adapter.onReconnected(() => void this.afterReconnect());
  }

  /** The registry, after removing what earlier processes left behind. */
  static async start(adapter: AriAdapter, cfg: AudioTapConfig, logger: Logger): Promise<AudioTaps> {
    if (cfg.rtpPorts.from > cfg.rtpPorts.to) throw new Error('rtpPorts: from must not exceed to');
    const taps = new AudioTaps(adapter, cfg, logger);
    await taps.sweep();
    return taps;
  }

  /** Calls with a tap open (or opening). */
  get openCount(): number {
    return this.entries.size;
  }

  /**
   * The call's tap, opened on first use. Undefined when the call channel no longer exists. Rejects when Asterisk
   * refuses the tap (chan_rtp not loaded, say) or no UDP port of the range is free; nothing is left behind then.
   */
  open(channelId: string): Promise<AudioStream | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    let entry = this.entries.get(channelId);
    if (!entry) {
      const e: Entry = { gone: false, ready: Promise.resolve(undefined) };
      e.ready = this.create(channelId, e).catch(async (err: unknown) => {
        await this.close(channelId);
        throw err;
      });
      this.entries.set(channelId, e);
      entry = e;
    }
    return entry.ready;
  }

  private async create(channelId: string, entry: Entry): Promise<Tap | undefined> {
    const ids = tapIds(channelId);
    const ari = this.adapter.ari;
    const { socket, port } = await this.bind();
    const tap = new Tap(channelId, socket, port, this.cfg.sampleRate);
    entry.tap = tap;
    if (entry.gone) tap.close();
    const steps: (() => Promise<unknown>)[] = [
      () =>
        ari.channels.externalMedia({
          app: this.cfg.app,
          channelId: ids.media,
          external_host: `${this.cfg.rtpHost}:${port}`,
          format: this.cfg.sampleRate === 16000 ? 'slin16' : 'slin',
          encapsulation: 'rtp',
          transport: 'udp',
        }),
      () =>
        ari.channels.snoopChannelWithId({
          channelId,
          snoopId: ids.snoop,
          app: this.cfg.app,
          spy: 'in',
          whisper: 'none',
        }),
      () => ari.bridges.createWithId({ bridgeId: ids.bridge, type: 'mixing', name: ids.bridge }),
      () => ari.bridges.addChannel({ bridgeId: ids.bridge, channel: [ids.snoop, ids.media] }),
    ];
    try {
      for (const step of steps) {
        if (entry.gone) break;
        await step();
      }
    } catch (err) {
      // The snoop is refused with 404 when the call has already gone: that is no fault of the tap.
      if (isNotFound(err) && !(await this.adapter.channelExists(channelId).catch(() => true))) {
        await this.close(channelId);
        return undefined;
      }
      throw err;
    }
    if (entry.gone) {
      // Closed while opening: the resources created after that close must go too.
      await this.removeResources(channelId);
      return undefined;
    }
    this.logger.debug({ channelId, port }, 'audio tap open');
    return tap;
  }

  /** A UDP socket on the next free port of the range (round robin, so a port just freed is not reused at once). */
  private async bind(): Promise<{ socket: Socket; port: number }> {
    const { from, to } = this.cfg.rtpPorts;
    const size = to - from + 1;
    for (let i = 0; i < size; i++) {
      const port = this.nextPort;
      this.nextPort = port >= to ? from : port + 1;
      const socket = createSocket(this.cfg.rtpHost.includes(':') ? 'udp6' : 'udp4');
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(port, this.cfg.rtpHost, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        socket.on('error', (err) => this.logger.warn({ err, port }, 'audio tap socket error'));
        return { socket, port };
      } catch (err) {
        socket.close();
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    throw new Error(`no free UDP port in ${from}-${to} on ${this.cfg.rtpHost} for an audio tap`);
  }

  /** Tear a call's tap down: socket closed, tap channels hung up, bridge destroyed. Idempotent. */
  async close(channelId: string): Promise<void> {
    const entry = this.entries.get(channelId);
    if (entry) {
      entry.gone = true;
      entry.tap?.close();
      this.entries.delete(channelId);
    }
    await this.removeResources(channelId);
  }

  private async removeResources(channelId: string): Promise<void> {
    const ids = tapIds(channelId);
    const ari = this.adapter.ari;
    const results = await Promise.allSettled([
      ari.channels.hangup({ channelId: ids.media }),
      ari.channels.hangup({ channelId: ids.snoop }),
      ari.bridges.destroy({ bridgeId: ids.bridge }),
    ]);
    for (const r of results) {
      if (r.status === 'rejected' && !isNotFound(r.reason)) {
        this.logger.warn({ channelId, err: r.reason as unknown }, 'audio tap: could not remove an ARI resource');
      }
    }
  }

  /**
   * Remove tap channels and bridges whose call channel no longer exists (a worker that crashed, or a
   * ChannelDestroyed missed while the websocket was down). Safe with other workers on the same Asterisk: a live
   * call's tap is never touched.
   */
  async sweep(): Promise<number> {
    const ari = this.adapter.ari;
    const [channels, bridges] = await Promise.all([ari.channels.list(), ari.bridges.list()]);
    const live = new Set(channels.map((c) => c.id));
    const orphans = new Set<string>();
    for (const id of [...channels.map((c) => c.id), ...bridges.map((b) => b.id)]) {
      const call = callOfTapResource(id);
      if (call && !live.has(call)) orphans.add(call);
    }
    for (const call of orphans) await this.close(call);
    if (orphans.size) this.logger.info({ calls: orphans.size }, 'audio taps of ended calls removed');
    return orphans.size;
  }

  private async afterReconnect(): Promise<void> {
    try {
      for (const channelId of [...this.entries.keys()]) {
        if (!(await this.adapter.channelExists(channelId))) await this.close(channelId);
      }
      await this.sweep();
    } catch (err) {
      this.logger.error({ err }, 'audio taps: reconciling after an ARI reconnect failed');
    }
  }

  /** Close every tap (worker shutdown). */
  async closeAll(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.entries.keys()].map((id) => this.close(id)));
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { message?: string; statusCode?: number };
  return e?.statusCode === 404 || /not found|404/i.test(e?.message ?? '');
}
