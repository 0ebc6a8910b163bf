/**
 * The worker's one connection to Asterisk's REST Interface (ARI), and the calls it owns.
 *
 * Asterisk config this module needs (templates in config/asterisk/): http.conf with the HTTP server enabled
 * (127.0.0.1:8088 by default), ari.conf with a read-write user, pjsip.conf with the trunk endpoint named by
 * SIP_TRUNK_ENDPOINT. Channels are originated straight into the Stasis application `ARI_APP`; there is no dialplan
 * on the outbound path.
 *
 * Invariants:
 * - A session is registered under the caller-chosen channel id BEFORE the originate request, so no event of the
 *   new channel can be missed.
 * - Sessions are removed in pairs with ChannelDestroyed (the last event of a channel).
 * - A dropped websocket reconnects with backoff (ari-client); after a reconnect every open session is checked
 *   against Asterisk and channels that no longer exist are settled as lost (the caller records 呼损), and so are
 *   playbacks that ended while nobody listened (their PlaybackFinished is gone for good). When the backoff gives up,
 *   every open session is settled as lost and the adapter reports itself disconnected — never silence.
 *
 * What Asterisk 22 (22.10.1, measured by test/e2e/transfer-worker-crash.e2e-spec.ts and by hand) does with the
 * channels of an application whose websocket went away (the worker was killed, or its connection dropped):
 * - the application stays registered but inactive (`ari show apps` still lists it); its channels stay up in Stasis
 *   (`dialplan.app_name` Stasis, `app_data` the application), with their snoop channel and live recording still
 *   writing and a playback in progress still playing to its end; their events are dropped;
 * - any other application may take such a channel over ({@link AriAdapter.adopt}): subscribe to its events and drive
 *   it (play, stop a playback by id, bridge it with its own channels, hang it up) — ARI's channel controls are not
 *   bound to the application the channel entered; a play is queued behind the playback in progress;
 * - a channel originated into the inactive application is hung up as it answers (it cannot enter Stasis);
 * - the same application name connecting again gets the events of its channels again (the subscriptions survive),
 *   but not the ones it missed.
 */
import { connect, type Client } from 'ari-client';
import type { Logger } from '../logger';

export interface DestroyedInfo {
  cause?: number;
  causeText?: string;
  at: number;
  /** The channel vanished without a ChannelDestroyed we could see (Asterisk restart, lost websocket). */
  lost?: boolean;
}

export type PlaybackEnd = 'done' | 'failed' | 'hangup';

/** A DTMF key and when Asterisk received it (ms since the epoch). */
export interface KeyPress {
  digit: string;
  at: number;
}

/** A pending wait for a key; `cancel` withdraws it so a later key is not lost to a waiter nobody reads. */
export interface KeyWait {
  promise: Promise<KeyPress>;
  cancel(): void;
}

/** The verdict of Asterisk's answering-machine detection (app_amd's AMDSTATUS and AMDCAUSE). */
export interface AmdVerdict {
  status: 'HUMAN' | 'MACHINE' | 'NOTSURE' | 'HANGUP';
  cause: string;
}

export interface AriConfig {
  url: string;
  username: string;
  password: string;
  app: string;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** One channel's events, as promises. */
export class ChannelSession {
  private readonly answeredD = deferred<number>();
  private readonly destroyedD = deferred<DestroyedInfo>();
  private readonly playbacks = new Map<string, (end: PlaybackEnd) => void>();
  /** Every key of the call, in order (for the call record). */
  readonly dtmf: string[] = [];
  /** Keys nobody has read yet: a key pressed between two turns answers the next one. */
  private readonly unreadKeys: KeyPress[] = [];
  private readonly keyWaiters: ((key: KeyPress) => void)[] = [];
  private readonly stasisArgsWaiters: ((args: string[]) => void)[] = [];
  answeredAt?: number;
  destroyedInfo?: DestroyedInfo;
  /** Time of our own hang-up request, if we made one before the channel went away. */
  hangupRequestedAt?: number;
  /**
   * Asterisk itself hung the channel up (a soft hang-up nobody on the call asked for: the PBX shutting down or
   * restarting, an operator's `channel request hangup`). The call then ends as lost (呼损), not as a normal end.
   */
  systemHangupAt?: number;

  constructor(readonly id: string) {}

  /** Resolves with the answer time; never rejects (a channel that is not answered is destroyed instead). */
  get answered(): Promise<number> {
    return this.answeredD.promise;
  }

  get destroyed(): Promise<DestroyedInfo> {
    return this.destroyedD.promise;
  }

  onAnswered(at: number): void {
    if (this.answeredAt !== undefined || this.destroyedInfo) return;
    this.answeredAt = at;
    this.answeredD.resolve(at);
  }

  onDestroyed(info: DestroyedInfo): void {
    if (this.destroyedInfo) return;
    this.destroyedInfo = info;
    for (const settle of this.playbacks.values()) settle('hangup');
    this.playbacks.clear();
    this.destroyedD.resolve(info);
  }

  onDtmf(key: KeyPress): void {
    this.dtmf.push(key.digit);
    const waiter = this.keyWaiters.shift();
    if (waiter) waiter(key);
    else this.unreadKeys.push(key);
  }

  /** The next key: one already pressed and not yet read, or the next to come. */
  nextKey(): KeyWait {
    const unread = this.unreadKeys.shift();
    if (unread) return { promise: Promise.resolve(unread), cancel: () => undefined };
    let waiter!: (key: KeyPress) => void;
    const promise = new Promise<KeyPress>((resolve) => (waiter = resolve));
    this.keyWaiters.push(waiter);
    return {
      promise,
      cancel: () => {
        const i = this.keyWaiters.indexOf(waiter);
        if (i >= 0) this.keyWaiters.splice(i, 1);
      },
    };
  }

  /** The channel (re-)entered the application with arguments (back from a dialplan detour). */
  onStasisArgs(args: string[]): void {
    for (const waiter of this.stasisArgsWaiters.splice(0)) waiter(args);
  }

  /** Resolves with the arguments of the channel's next return to the application. */
  nextStasisArgs(): Promise<string[]> {
    return new Promise((resolve) => this.stasisArgsWaiters.push(resolve));
  }

  /** Playbacks started on the channel whose end has not been seen yet. */
  pendingPlaybacks(): string[] {
    return [...this.playbacks.keys()];
  }

  expectPlayback(playbackId: string): Promise<PlaybackEnd> {
    if (this.destroyedInfo) return Promise.resolve('hangup');
    return new Promise((resolve) => this.playbacks.set(playbackId, resolve));
  }

  onPlaybackEnd(playbackId: string, end: PlaybackEnd): void {
    const settle = this.playbacks.get(playbackId);
    this.playbacks.delete(playbackId);
    settle?.(end);
  }
}

export interface OriginateRequest {
  channelId: string;
  endpoint: string;
  callerId?: string;
  timeoutSeconds: number;
  /** Channel variables, e.g. `PJSIP_HEADER(add,Call-Info)` for an agent phone's auto-answer. */
  variables?: Record<string, string>;
}

export class AriAdapter {
  private readonly sessions = new Map<string, ChannelSession>();
  private connected = false;
  private started = false;
  private stopped = false;
  private readonly reconnectHooks: (() => void)[] = [];

  private constructor(
    private readonly client: Client,
    private readonly cfg: AriConfig,
    private readonly logger: Logger,
  ) {}

  /** Connect, subscribe to the application and wire the event handlers. Throws if Asterisk is unreachable. */
  static async connect(cfg: AriConfig, logger: Logger): Promise<AriAdapter> {
    const client = await quietly(() => connect(cfg.url, cfg.username, cfg.password));
    const adapter = new AriAdapter(client, cfg, logger);
    adapter.wire();
    await client.start(cfg.app);
    adapter.connected = true;
    adapter.started = true;
    logger.info({ url: cfg.url, app: cfg.app }, 'ARI connected');
    return adapter;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Run `hook` after every re-connection (Asterisk may have restarted and lost what was pushed at run time). */
  onReconnected(hook: () => void): void {
    this.reconnectHooks.push(hook);
  }

  /** The underlying ari-client, for modules that drive ARI resources of their own (recordings, dynamic config). */
  get ari(): Client {
    return this.client;
  }

  private wire(): void {
    const c = this.client;
    const sessionOf = (event: unknown): ChannelSession | undefined => {
      const id = (event as { channel?: { id?: string } }).channel?.id;
      return id ? this.sessions.get(id) : undefined;
    };
    c.on('StasisStart', (event) => {
      const s = sessionOf(event);
      s?.onAnswered(Date.parse(event.timestamp) || Date.now());
      const args = typeof event.args === 'string' ? [event.args] : event.args;
      if (args.length) s?.onStasisArgs(args);
    });
    c.on('ChannelDtmfReceived', (event) =>
      sessionOf(event)?.onDtmf({ digit: event.digit, at: Date.parse(event.timestamp) || Date.now() }),
    );
    c.on('PlaybackFinished', (event) => {
      const target = event.playback.target_uri.replace(/^channel:/, '');
      this.sessions
        .get(target)
        ?.onPlaybackEnd(event.playback.id, event.playback.state === 'failed' ? 'failed' : 'done');
    });
    c.on('ChannelHangupRequest', (event) => {
      const s = sessionOf(event);
      if (s && event.soft && s.hangupRequestedAt === undefined) s.systemHangupAt = Date.now();
    });
    c.on('ChannelDestroyed', (event) => {
      const s = sessionOf(event);
      if (!s) return;
      s.onDestroyed({
        cause: event.cause,
        causeText: event.cause_txt,
        at: Date.parse(event.timestamp) || Date.now(),
        ...(s.systemHangupAt !== undefined ? { lost: true } : {}),
      });
      this.sessions.delete(s.id);
    });
    c.on('WebSocketReconnecting', (err) => {
      this.connected = false;
      this.logger.warn({ err }, 'ARI websocket lost; reconnecting');
    });
    c.on('WebSocketConnected', () => {
      // The first connection is announced by connect(); only a re-connection needs reconciling.
      if (!this.started || this.connected) return;
      this.connected = true;
      void this.reconcile();
      for (const hook of this.reconnectHooks) hook();
    });
    c.on('WebSocketMaxRetries', (err) => {
      this.connected = false;
      this.logger.error({ err }, 'ARI websocket gave up reconnecting; open calls are settled as lost');
      this.settleAllLost();
    });
  }

  /**
   * After a reconnect: any channel Asterisk no longer knows ended while we were not listening, and so did any playback
   * it no longer knows (a hold-music loop waiting for that PlaybackFinished would otherwise wait for ever).
   */
  private async reconcile(): Promise<void> {
    this.logger.info({ open: this.sessions.size }, 'ARI reconnected; reconciling channels');
    for (const s of [...this.sessions.values()]) {
      try {
        if (!(await this.channelExists(s.id))) {
          s.onDestroyed({ at: Date.now(), lost: true });
          this.sessions.delete(s.id);
          continue;
        }
        for (const playbackId of s.pendingPlaybacks()) {
          if (!(await this.playbackExists(playbackId))) s.onPlaybackEnd(playbackId, 'done');
        }
      } catch (err) {
        this.logger.warn({ channelId: s.id, err }, 'channel not reconciled after the reconnect');
      }
    }
  }

  private async playbackExists(playbackId: string): Promise<boolean> {
    try {
      await this.client.playbacks.get({ playbackId });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private settleAllLost(): void {
    for (const s of this.sessions.values()) s.onDestroyed({ at: Date.now(), lost: true });
    this.sessions.clear();
  }

  async channelExists(channelId: string): Promise<boolean> {
    try {
      await this.client.channels.get({ channelId });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Take over a channel placed by an earlier execution of the same attempt, possibly from another worker whose ARI
   * application (and so whose event stream) is gone: subscribe this application to the channel's events, then read
   * its state. Returns undefined when Asterisk no longer has the channel. The channel stays in the Stasis
   * application it entered (see the header: this application may drive it all the same); events from before the
   * subscription are not replayed, so the caller rebuilds what it needs (the answer time, say) from its own records.
   */
  async adopt(channelId: string): Promise<{ session: ChannelSession; up: boolean } | undefined> {
    let session = this.sessions.get(channelId);
    if (!session) {
      session = new ChannelSession(channelId);
      this.sessions.set(channelId, session);
    }
    try {
      await this.client.applications.subscribe({ applicationName: this.cfg.app, eventSource: `channel:${channelId}` });
      const channel = await this.client.channels.get({ channelId });
      return { session, up: channel.state === 'Up' };
    } catch (err) {
      if (!isNotFound(err) && !isUnprocessable(err)) throw err;
      this.sessions.delete(channelId);
      session.onDestroyed({ at: Date.now(), lost: true });
      return undefined;
    }
  }

  /**
   * Originate into the Stasis app with a caller-chosen id. The session exists before the request, so no event is
   * missed. A rejected request settles the session as lost and rethrows.
   */
  async originate(req: OriginateRequest): Promise<ChannelSession> {
    if (this.sessions.has(req.channelId)) throw new Error(`channel ${req.channelId} already has a session`);
    const session = new ChannelSession(req.channelId);
    this.sessions.set(req.channelId, session);
    try {
      await this.client.channels.originate({
        endpoint: req.endpoint,
        app: this.cfg.app,
        channelId: req.channelId,
        timeout: req.timeoutSeconds,
        ...(req.callerId ? { callerId: req.callerId } : {}),
        ...(req.variables ? { variables: req.variables } : {}),
      });
    } catch (err) {
      this.sessions.delete(req.channelId);
      session.onDestroyed({ at: Date.now(), lost: true });
      throw err;
    }
    return session;
  }

  /** Start a playback and resolve when it ends (or the channel hangs up). */
  async play(session: ChannelSession, media: string, playbackId: string): Promise<PlaybackEnd> {
    const ended = session.expectPlayback(playbackId);
    try {
      await this.client.channels.play({ channelId: session.id, media, playbackId });
    } catch (err) {
      if (isNotFound(err)) return 'hangup';
      throw err;
    }
    return ended;
  }

  /**
   * Answering-machine detection on an answered channel: a detour through the dialplan's [waihu-amd] context, where
   * app_amd listens to the callee's greeting, and back into this application with the verdict. The channel stays
   * subscribed meanwhile, so a hang-up during the detection is seen. Undefined when the channel went away first.
   */
  async detectMachine(session: ChannelSession): Promise<AmdVerdict | undefined> {
    const back = session.nextStasisArgs();
    await this.client.applications.subscribe({ applicationName: this.cfg.app, eventSource: `channel:${session.id}` });
    await this.client.channels.setChannelVar({ channelId: session.id, variable: 'WAIHU_ARI_APP', value: this.cfg.app });
    await this.client.channels.continueInDialplan({
      channelId: session.id,
      context: 'waihu-amd',
      extension: 's',
      priority: 1,
    });
    const args = await Promise.race([back, session.destroyed.then(() => undefined)]);
    if (!args || args[0] !== 'amd') return undefined;
    const status = args[1] as AmdVerdict['status'];
    return {
      status: ['HUMAN', 'MACHINE', 'NOTSURE', 'HANGUP'].includes(status) ? status : 'NOTSURE',
      cause: args[2] ?? '',
    };
  }

  /** Stop a playback (a barge-in); one that has already ended is not an error. */
  async stopPlayback(playbackId: string): Promise<void> {
    try {
      await this.client.playbacks.stop({ playbackId });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Hang up; a channel already gone is not an error. */
  async hangup(session: ChannelSession): Promise<void> {
    if (session.destroyedInfo) return;
    session.hangupRequestedAt ??= Date.now();
    try {
      await this.client.channels.hangup({ channelId: session.id, reason: 'normal' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The channel was already gone: the other side hung up first, not us.
      session.hangupRequestedAt = undefined;
    }
  }

  close(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    this.connected = false;
    this.client.stop();
    return Promise.resolve();
  }
}

/**
 * ari-client's bundled swagger-client prints "This API is using a deprecated version of Swagger!" with console.log
 * on every connect (it reads Asterisk's Swagger 1.2 resource listing). Drop that one line, pass everything else.
 */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (!args.some((a) => JSON.stringify(a)?.includes('deprecated version of Swagger'))) log(...args);
  };
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** ARI answers 422 to a subscription for an event source that does not exist (any more). */
function isUnprocessable(err: unknown): boolean {
  const e = err as { message?: string; statusCode?: number };
  return e?.statusCode === 422 || /unprocessable|does not exist|422/i.test(e?.message ?? '');
}

function isNotFound(err: unknown): boolean {
  const e = err as { message?: string; statusCode?: number };
  return e?.statusCode === 404 || /not found|404/i.test(e?.message ?? '');
}
