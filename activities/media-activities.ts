/**
 * The dial activity. Runs only on workers that hold an ARI connection (the media task queue).
 *
 * Exactly-once dialling without transactions: the attempt id is the ARI channel id and the `_id` of the call
 * record. Before originating, the activity claims the attempt (an insert keyed by that id). A retried execution
 * whose claim fails does not dial again: it follows the channel if Asterisk still has it, returns the stored
 * outcome if there is one, and otherwise reports the attempt as lost (呼损), which the retry policy may redial
 * under a new attempt id.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isOpenAt, nextOpening } from '../src/calendar';
import { classifyCall, type CallObservation } from '../src/call-result';
import type { CapDecision, FrequencyCap } from '../src/frequency-cap';
import { matchDtmf } from '../src/script/graph';
import { createMatcher, type Matcher } from '../src/script/matcher';
import type { NodeRef, Script } from '../src/script/model';
import type { SipRoute } from '../config/config';
import { ChannelSession, type AmdVerdict, type AriAdapter, type KeyPress, type PlaybackEnd } from './ari/ari-adapter';
import type { DialogRepository } from './mongo/dialog-repository';
import { storedOutcome, type CallRepository, type Claim } from './mongo/repositories';
import { listenForBargeIn, type RecognizedSpeech, type SpeechRecognizer } from './speech/recognizer';
import { dialString, type AcquireResult, type LineAllocator } from './telephony/line-allocator';
import { startCallRecording, type CallRecordingInfo, type RecordingHandle } from './telephony/recorder';
import type { Tts } from './speech/espeak-tts';
import type { Logger } from './logger';
import type {
  AgentOffer,
  AttemptOutcome,
  EndCallInput,
  HeardInput,
  HeardOver,
  ListenInput,
  ListenResult,
  PlaceCallInput,
  PlaceCallResult,
  PromptToPlay,
  ScriptRef,
  SpeakInput,
  SpeakResult,
  TransferOutcome,
  TurnCallRef,
} from '../workflows/definitions';

/** The dial-time do-not-call check (one exact-`_id` read). */
export interface DoNotCallCheck {
  isListed(tenantId: string, phone: string): Promise<boolean>;
}

/** The dial-time frequency cap: check and count one call, atomically. */
export interface FrequencyCounter {
  tryRecord(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision>;
}

/** An approved script version as the call needs it: the model, and the recorded audio of its utterances. */
export interface LoadedScript {
  script: Script;
  /** The stored audio (an ARI media URI) of an utterance that has one; otherwise the text is synthesised. */
  recordedMedia(utteranceId: string): string | undefined;
}

export interface ScriptSource {
  load(tenantId: string, ref: ScriptRef): Promise<LoadedScript | undefined>;
}

export interface MediaActivityDeps {
  ari: AriAdapter;
  calls: CallRepository;
  /** Scripts of calls with a robot dialog. */
  scripts: ScriptSource;
  dialogs: DialogRepository;
  /** Turns speech into text; without one, the robot hears keys and silence only. */
  recognizer?: SpeechRecognizer;
  /** Music on hold for transferred callees (an ARI media URI); absent = the callee hears ringing. */
  holdMusic?: () => Promise<string>;
  /** Record every answered call (both directions) under its attempt id; absent = no recordings. */
  recording?: { app: string; maxDurationSeconds: number };
  /** Caller lines: a slot per call, within each line's concurrency. Without it, calls use the default trunk. */
  lines?: Pick<LineAllocator, 'acquire' | 'release' | 'releaseAttempt'>;
  /** This process's own task queue: the turn activities of the calls it holds are sent there. */
  hostQueue: string;
  dnc: DoNotCallCheck;
  dialCounts: FrequencyCounter;
  /** The tenant's frequency cap (its settings, defaults from the config). */
  frequencyCap: (tenantId: string) => Promise<FrequencyCap>;
  tts: Tts;
  logger: Logger;
  clock?: () => number;
  sip: { trunkEndpoint: string; defaultTarget: string; routes: readonly SipRoute[] };
  call: { ringTimeoutSeconds: number; maxCallSeconds: number };
  heartbeatMs?: number;
}

/** How ringing a person for a call ended (ringAgent, dialExternal). */
export type RingResult =
  { answered: true; at: string } | { answered: false; reason: 'noAnswer' | 'rejected' | 'calleeGone' | 'failed' };

/** Longest-prefix route of an E.164 number to the SIP peer that should receive the INVITE. */
export function routeFor(phone: string, routes: readonly SipRoute[], fallback: string): string {
  let best: SipRoute | undefined;
  for (const r of routes) if (phone.startsWith(r.prefix) && r.prefix.length > (best?.prefix.length ?? -1)) best = r;
  return best?.target ?? fallback;
}

export function dialEndpoint(phone: string, deps: Pick<MediaActivityDeps, 'sip'>): string {
  const target = routeFor(phone, deps.sip.routes, deps.sip.defaultTarget);
  return `PJSIP/${deps.sip.trunkEndpoint}/sip:${phone.replace(/^\+/, '')}@${target}`;
}

/** Sub-outcome of 呼叫成功 (seed §7.3): the script ran to its end and the robot hung up. */
export const LISTENED_TO_END = '用户听完语音';
/** Sub-outcome of 呼叫成功: answering-machine detection heard a machine, and the robot hung up without speaking. */
export const ANSWERING_MACHINE = '答录机';

/** The longest a callee's utterance may run once it has cut a prompt short, before the turn gives up on it. */
const MAX_UTTERANCE_MS = 30_000;

const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const seconds = (ms: number) => Math.max(0, Math.round(ms / 100) / 10);

/** A transferred call whose host was lost, as the adopting worker needs it (see `adoptCall`). */
export interface AdoptCallInput {
  /** The call as it was placed: the call record's key (the channel id), the phone, the script, the lines. */
  place: PlaceCallInput;
  /** When it was dialled and answered (the placeCall result): the adopted call's times go on from these. */
  startedAt: string;
  answeredAt: string;
  amd?: AmdVerdict;
  /** The lost host's task queue (for the log). */
  lostHost?: string;
  /** Legs the lost host had started and nobody follows any more (an agent's phone it was ringing): hung up. */
  hangUp?: string[];
  /**
   * The call was connected with a party (an agent, or an external number: `agentId` `tel:<number>`) when its host was
   * lost: the party's leg `channelId` is adopted too, and the callee is bridged with it again (`talk`) or hears
   * music on hold (`hold`).
   */
  party?: { channelId: string; agentId: string; mode: 'talk' | 'hold' };
}

/**
 * `adopted`: this worker holds the call now, its host queue is `hostQueue`. `gone`: the callee hung up while nobody
 * held the call; the worker at `hostQueue` keeps what is left of it for the call's end (endCall stores the record).
 */
export type AdoptCallResult =
  { kind: 'adopted'; hostQueue: string; recording: boolean } | { kind: 'gone'; hostQueue: string; at: string };

export function createMediaActivities(deps: MediaActivityDeps) {
  const { ari, calls, tts, logger } = deps;
  const now = deps.clock ?? Date.now;
  const heartbeatMs = deps.heartbeatMs ?? 2_000;

  /** Wait for `p` while heartbeating; a cancelled activity hangs the channel up. */
  async function withHeartbeat<T>(p: Promise<T>, session?: ChannelSession): Promise<T> {
    const ctx = Context.current();
    const timer = setInterval(() => ctx.heartbeat(), heartbeatMs);
    try {
      return await Promise.race([
        p,
        ctx.cancelled.catch(async (err: unknown) => {
          if (session) await ari.hangup(session).catch(() => undefined);
          throw err;
        }),
      ]);
    } finally {
      clearInterval(timer);
    }
  }

  function outcomeOf(
    input: PlaceCallInput,
    session: ChannelSession,
    startedAt: number,
    destroyed: { cause?: number; causeText?: string; at: number; lost?: boolean },
  ): AttemptOutcome {
    const observation: CallObservation = {
      answered: session.answeredAt !== undefined,
      hungUpByUs: session.hangupRequestedAt !== undefined && session.hangupRequestedAt <= destroyed.at,
      ...(destroyed.cause !== undefined ? { cause: destroyed.cause } : {}),
      // A channel that vanished (Asterisk restarted, ARI gave up) is 呼损 whether or not it had been answered: the
      // call did not end by anyone's choice, and the retry policy may redial it.
      systemFailure: destroyed.lost === true,
    };
    const c = classifyCall(observation);
    const endedAt = Math.max(destroyed.at, startedAt);
    const answeredAt = session.answeredAt;
    return {
      attemptId: input.attemptId,
      attempt: input.attempt,
      code: c.code,
      label: c.label,
      hangupBy: destroyed.lost ? 'SYSTEM' : c.hangupBy,
      ...(destroyed.cause !== undefined ? { cause: destroyed.cause } : {}),
      ...(destroyed.causeText ? { causeText: destroyed.causeText } : {}),
      startedAt: iso(startedAt),
      ...(answeredAt !== undefined ? { answeredAt: iso(answeredAt) } : {}),
      endedAt: iso(endedAt),
      ringSeconds: seconds((answeredAt ?? endedAt) - startedAt),
      talkSeconds: answeredAt !== undefined ? seconds(endedAt - answeredAt) : 0,
      dtmf: [...session.dtmf],
      ...(destroyed.lost ? { note: 'channel lost (Asterisk restart or ARI disconnect)' } : {}),
    };
  }

  /**
   * The call record is final as soon as the call ends, so a retried execution returns it instead of dialling. The
   * outcome says so (`stored`): recordAttempt then leaves the record alone without reading it.
   */
  async function store(input: PlaceCallInput, outcome: AttemptOutcome): Promise<void> {
    await calls.finalize(input.tenantId, outcome, {
      taskId: input.taskId,
      contactIndex: input.contactIndex,
      phone: input.phone,
    });
    outcome.stored = true;
  }

  /** An attempt that reached no callee: 呼损, ended by the system. */
  function lostOutcome(input: PlaceCallInput, startedAt: number, note: string): AttemptOutcome {
    const c = classifyCall({ answered: false, hungUpByUs: false, systemFailure: true });
    return {
      attemptId: input.attemptId,
      attempt: input.attempt,
      code: c.code,
      label: c.label,
      hangupBy: c.hangupBy,
      startedAt: iso(startedAt),
      endedAt: iso(Math.max(now(), startedAt)),
      ringSeconds: 0,
      talkSeconds: 0,
      dtmf: [],
      note,
    };
  }

  /**
   * Take over an attempt a lost execution claimed: return its stored outcome, or end its channel if Asterisk still
   * has it (the dialog state of the lost execution is gone with it: the robot ends the call), or report it lost.
   */
  async function takeOverAndEnd(
    input: PlaceCallInput,
    existing: Extract<Claim, { claimed: false }>['existing'],
  ): Promise<AttemptOutcome> {
    const stored = storedOutcome(existing);
    if (stored) return stored;
    const startedAt = existing.claimedAt.getTime();
    const adopted = await ari.adopt(input.attemptId);
    if (!adopted) {
      logger.warn({ attemptId: input.attemptId }, 'attempt was claimed by a lost execution and its channel is gone');
      const outcome = lostOutcome(input, startedAt, 'claimed by a lost execution; its channel is gone');
      await store(input, outcome);
      return outcome;
    }
    logger.warn({ attemptId: input.attemptId }, 'taking over the live channel of a lost execution; hanging up');
    const session = adopted.session;
    if (adopted.up) session.onAnswered(now());
    await ari.hangup(session);
    const destroyed = await withHeartbeat(session.destroyed, session);
    const outcome = outcomeOf(input, session, startedAt, destroyed);
    outcome.note = 'taken over from a lost execution; answer time is the takeover time';
    await store(input, outcome);
    return outcome;
  }

  /** Start recording an answered call; a call whose recording cannot start goes on unrecorded. */
  async function startRecording(session: ChannelSession, attemptId: string): Promise<RecordingHandle | undefined> {
    if (!deps.recording) return undefined;
    try {
      return await startCallRecording(ari.ari, session.id, attemptId, deps.recording);
    } catch (err) {
      logger.warn({ attemptId, err }, 'recording did not start; the call goes on unrecorded');
      return undefined;
    }
  }

  /** Once the call has ended: wait for Asterisk to store the recording, and note it on the call record. */
  async function storeRecording(input: PlaceCallInput, recording: RecordingHandle | undefined): Promise<void> {
    if (!recording) return;
    try {
      await calls.setRecording(input.tenantId, input.attemptId, await recording.stop());
    } catch (err) {
      logger.warn({ attemptId: input.attemptId, err }, 'recording not stored');
    }
  }

  // ---- Calls with a robot dialog: the channels this process holds, and the turn activities on them. ----

  interface LiveCall {
    input: PlaceCallInput;
    session: ChannelSession;
    startedAt: number;
    loaded: LoadedScript;
    matcher?: Matcher;
    recording?: RecordingHandle;
    amd?: AmdVerdict;
    /** Music on hold while the callee waits for an agent. */
    hold?: { stop(): Promise<void> };
    /** The agent leg of a transfer, once rung. */
    agent?: { agentId: string; session: ChannelSession };
    /** Playbacks started on the channel (their ids are `<attemptId>-<n>`). */
    seq: number;
    /** Taken over from a lost host (adoptCall): what the call record's note says about it. */
    adopted?: string;
  }
  const live = new Map<string, LiveCall>();

  /** A call whose workflow never ends it (terminated, say) is forgotten an hour after its channel went away. */
  function forgetWhenGone(attemptId: string, session: ChannelSession): void {
    void session.destroyed.then(() => setTimeout(() => live.delete(attemptId), 3_600_000).unref());
  }

  /**
   * The recording of a call taken over from a lost host: Asterisk is still writing it (the snoop channel lives on
   * with the call, in the lost host's application), or stored it when the call ended. Its RecordingFinished goes to
   * that application, which nobody reads, so stopping it waits for the live recording to go away instead.
   */
  async function adoptRecording(attemptId: string): Promise<RecordingHandle | undefined> {
    if (!deps.recording) return undefined;
    const name = attemptId;
    const exists = (read: () => Promise<unknown>) =>
      read().then(
        () => true,
        (err: unknown) => {
          if (/not found|404/i.test((err as Error)?.message ?? '')) return false;
          throw err;
        },
      );
    const isLive = () => exists(() => ari.ari.recordings.getLive({ recordingName: name }));
    const stored = async (): Promise<CallRecordingInfo> => {
      await ari.ari.recordings.getStored({ recordingName: name });
      return { name, format: 'wav' };
    };
    if (!(await isLive())) {
      if (!(await exists(() => ari.ari.recordings.getStored({ recordingName: name })))) return undefined;
      return { name, stop: stored };
    }
    let result: Promise<CallRecordingInfo> | undefined;
    const stop = async (): Promise<CallRecordingInfo> => {
      // Not live any more (the call's hang-up ended it) is no error.
      await ari.ari.recordings.stop({ recordingName: name }).catch(() => undefined);
      for (let i = 0; i < 50 && (await isLive()); i++) await sleep(100);
      await ari.ari.channels.hangup({ channelId: `${attemptId}-rec` }).catch(() => undefined);
      return stored();
    };
    return { name, stop: () => (result ??= stop()) };
  }

  function liveCall(ref: TurnCallRef): LiveCall {
    const call = live.get(ref.attemptId);
    if (!call || call.input.tenantId !== ref.tenantId) {
      throw ApplicationFailure.nonRetryable(`call ${ref.attemptId} is not held by this worker`, 'CallNotHere');
    }
    return call;
  }

  function matcherOf(call: LiveCall): Matcher {
    call.matcher ??= createMatcher(call.loaded.script);
    return call.matcher;
  }

  /** The utterance's recording when it has one, else its text (variables filled) spoken by the synthesiser. */
  async function mediaFor(call: LiveCall, p: PromptToPlay): Promise<string> {
    return call.loaded.recordedMedia(p.utteranceId) ?? tts.synthesize(p.text);
  }

  /**
   * May this key cut the prompt short? The engine's rule (src/script/engine bargeIn): the prompt allows barge-in
   * and a listen follows, or the key is the 打断意图 (interrupt) module's.
   */
  function interrupts(call: LiveCall, p: PromptToPlay, at: NodeRef, digit: string, listensNext: boolean): boolean {
    if (!listensNext) return false;
    if (p.allowInterrupt) return true;
    const script = call.loaded.script;
    if (!script.globalConfig.interrupt.enabled) return false;
    const m = matchDtmf(script, at, digit);
    return m.kind === 'global' && m.module === 'interrupt';
  }

  const hungUpAt = (session: ChannelSession): string => iso(session.destroyedInfo?.at ?? now());

  const keyHeard = (key: KeyPress): Extract<HeardInput, { kind: 'dtmf' }> => ({
    kind: 'dtmf',
    digit: key.digit,
    at: iso(key.at),
  });

  /** Listen for one reply: a key, recognised speech, silence when the timeout passes, or the callee hanging up. */
  async function listenOnce(call: LiveCall, at: NodeRef, timeoutMs: number): Promise<ListenResult> {
    const { session } = call;
    if (session.destroyedInfo) return { kind: 'hangup', at: iso(session.destroyedInfo.at) };
    const key = session.nextKey();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const speech: Promise<RecognizedSpeech | undefined> = deps.recognizer
      ? deps.recognizer.listen(session.id, { timeoutMs, signal: abort.signal })
      : new Promise(() => undefined);
    try {
      const heard = await Promise.race([
        key.promise.then((k): ListenResult => keyHeard(k)),
        session.destroyed.then((d): ListenResult => ({ kind: 'hangup', at: iso(d.at) })),
        speech.then((text): ListenResult | undefined =>
          text === undefined
            ? undefined
            : { kind: 'speech', text: text.text, match: matcherOf(call).match(text.text, at), at: iso(text.at) },
        ),
        new Promise<ListenResult>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'silence', at: iso(now()) }), timeoutMs);
        }),
      ]);
      return heard ?? { kind: 'silence', at: iso(now()) };
    } finally {
      key.cancel();
      abort.abort();
      clearTimeout(timer);
    }
  }

  /** Play one prompt, watching for keys over it. Resolves with how it ended. */
  async function playWatchingKeys(
    call: LiveCall,
    p: PromptToPlay,
    req: SpeakInput,
    ignored: HeardOver[],
  ): Promise<'done' | 'hangup' | HeardOver> {
    const { session } = call;
    const media = await mediaFor(call, p);
    const playbackId = `${call.input.attemptId}-${++call.seq}`;
    const ended = ari.play(session, media, playbackId);
    // Speech over a prompt that allows barge-in (and is followed by a listen) stops it as the callee starts talking.
    const abort = new AbortController();
    const voice =
      deps.recognizer && p.allowInterrupt && req.listenMs !== undefined
        ? listenForBargeIn(deps.recognizer, session.id, {
            timeoutMs: deps.call.maxCallSeconds * 1000,
            signal: abort.signal,
          })
        : undefined;
    try {
      for (;;) {
        const key = session.nextKey();
        const next = await Promise.race([
          ended.then((end) => ({ end })),
          key.promise.then((k) => ({ key: k })),
          ...(voice ? [voice.speaking.then(() => ({ speaking: true as const }))] : []),
        ]);
        key.cancel();
        if ('speaking' in next && voice) {
          await ari.stopPlayback(playbackId);
          // The callee is talking: wait for the recogniser to end the utterance (it decides when they stopped).
          const heard = await Promise.race([
            voice.result,
            sleep(Math.max(req.listenMs ?? 0, MAX_UTTERANCE_MS)).then(() => undefined),
            session.destroyed.then(() => undefined),
          ]);
          if (session.destroyedInfo) return 'hangup';
          // A noise that said nothing: the prompt is cut, and the turn's own listen follows.
          if (!heard) return 'done';
          const match = matcherOf(call).match(heard.text, req.at);
          return { utteranceId: p.utteranceId, input: { kind: 'speech', text: heard.text, match, at: iso(heard.at) } };
        }
        if ('end' in next) {
          if (next.end === 'hangup') return 'hangup';
          if (next.end === 'failed') {
            const gone = await Promise.race([session.destroyed.then(() => true), sleep(300).then(() => false)]);
            if (gone) return 'hangup';
            logger.warn({ channelId: session.id, media }, 'prompt playback failed');
          }
          return 'done';
        }
        if (!('key' in next)) continue;
        const over: HeardOver = { utteranceId: p.utteranceId, input: keyHeard(next.key) };
        if (interrupts(call, p, req.at, next.key.digit, req.listenMs !== undefined)) {
          await ari.stopPlayback(playbackId);
          return over;
        }
        ignored.push(over);
      }
    } finally {
      abort.abort();
    }
  }

  /** The bridge of the callee and the party's leg `<attemptId>-<leg>`: `<attemptId>-bridge-<leg>`. */
  function bridgeIdOf(call: LiveCall, party: ChannelSession): string {
    return `${call.input.attemptId}-bridge-${party.id.slice(call.input.attemptId.length + 1)}`;
  }

  /**
   * Bridge the callee with the connected party (stopping the hold music): in the call's bridge if it has one (back
   * from hold, the party's leg is in it already; adding a channel twice is harmless), else in a new one, `bridgeId`.
   */
  async function connectParty(call: LiveCall, bridgeId: string): Promise<void> {
    const party = call.agent;
    const ctl = controlOf(call);
    await call.hold?.stop();
    delete call.hold;
    if (!party || party.session.destroyedInfo || call.session.destroyedInfo) return;
    if (!ctl.bridgeId) {
      await ari.ari.bridges.createWithId({ type: 'mixing', bridgeId, name: bridgeId });
      ctl.bridgeId = bridgeId;
    }
    await ari.ari.bridges.addChannel({ bridgeId: ctl.bridgeId, channel: [call.session.id, party.session.id] });
  }

  /** Loop the hold music on the callee's channel until stopped (or the callee hangs up). */
  function startHoldLoop(call: LiveCall, media: string): { stop(): Promise<void> } {
    let stopped = false;
    let current: string | undefined;
    const loop = async () => {
      while (!stopped && !call.session.destroyedInfo) {
        current = `${call.input.attemptId}-${++call.seq}`;
        const end = await ari.play(call.session, media, current);
        if (end === 'hangup') return;
        if (end === 'failed') await sleep(1_000);
      }
    };
    const done = loop().catch((err: unknown) => logger.warn({ attemptId: call.input.attemptId, err }, 'hold music'));
    return {
      stop: async () => {
        stopped = true;
        if (current) await ari.stopPlayback(current).catch(() => undefined);
        await done;
      },
    };
  }

  /**
   * Ring a person for a call (an agent's phone, or an external number): originate the leg, wait for its answer, its
   * end or the callee's hang-up. Answered: the leg becomes the call's connected party (`party`: the agent id, or
   * `tel:<number>`). Busy (17) or declined (21) is a rejection; anything else (19 no answer, the originate timeout) a
   * miss; an originate that failed outright is `failed`.
   */
  async function ringParty(
    call: LiveCall,
    leg: {
      party: string;
      channelId: string;
      endpoint: string;
      ringSeconds: number;
      callerId?: string;
      variables?: Record<string, string>;
    },
  ): Promise<RingResult> {
    if (call.session.destroyedInfo) return { answered: false, reason: 'calleeGone' };
    let session: ChannelSession;
    try {
      session = await ari.originate({
        channelId: leg.channelId,
        endpoint: leg.endpoint,
        timeoutSeconds: leg.ringSeconds,
        ...(leg.callerId ? { callerId: leg.callerId } : {}),
        ...(leg.variables ? { variables: leg.variables } : {}),
      });
    } catch (err) {
      logger.warn({ attemptId: call.input.attemptId, party: leg.party, err }, 'ringing a party: originate failed');
      return { answered: false, reason: 'failed' };
    }
    const first = await withHeartbeat(
      Promise.race([
        session.answered.then(() => 'answered' as const),
        session.destroyed.then(() => 'gone' as const),
        call.session.destroyed.then(() => 'calleeGone' as const),
      ]),
      session,
    );
    if (first === 'answered') {
      call.agent = { agentId: leg.party, session };
      return { answered: true, at: iso(session.answeredAt ?? now()) };
    }
    if (first === 'calleeGone') {
      await ari.hangup(session);
      return { answered: false, reason: 'calleeGone' };
    }
    const cause = session.destroyedInfo?.cause;
    return { answered: false, reason: cause === 17 || cause === 21 ? 'rejected' : 'noAnswer' };
  }

  /** Heartbeat until `p` settles; a cancelled activity just stops waiting (the call goes on). */
  async function watching<T>(p: Promise<T>): Promise<T> {
    const ctx = Context.current();
    const timer = setInterval(() => ctx.heartbeat(), heartbeatMs);
    try {
      return await Promise.race([p, ctx.cancelled.then(() => p)]);
    } finally {
      clearInterval(timer);
    }
  }

  /** Answered: play the robot's prompt, then the robot hangs up (unless the callee already did). */
  /** Returns how the prompt ended: played to the end, cut short by the callee, failed, or stopped by the cap. */
  async function converse(session: ChannelSession, media: string, maxCallMs: number): Promise<PlaybackEnd | 'cap'> {
    const cap = new Promise<'cap'>((resolve) => setTimeout(() => resolve('cap'), maxCallMs).unref());
    let played = await Promise.race([ari.play(session, media, `${session.id}-p1`), cap]);
    if (played === 'failed') {
      // Asterisk also reports a playback cut short by the callee's hang-up as failed; only warn if the call is up.
      const gone = await Promise.race([session.destroyed.then(() => true), sleep(300).then(() => false)]);
      if (gone) played = 'hangup';
      else logger.warn({ channelId: session.id, media }, 'prompt playback failed');
    }
    await ari.hangup(session);
    return played;
  }

  return {
    async placeCall(input: PlaceCallInput): Promise<PlaceCallResult> {
      // Re-check the calendar at dial time: this activity may run long after the workflow decided to call.
      const checkedAt = now();
      if (!isOpenAt(input.calendar, checkedAt)) {
        const next = nextOpening(input.calendar, checkedAt);
        return { kind: 'window-closed', checkedAt: iso(checkedAt), ...(next ? { reopensAt: iso(next.start) } : {}) };
      }
      // A number put on the do-not-call list after the import (or mid-campaign) is honoured here, at dial time. The
      // read runs beside the script load, the line grant and the claim, and is answered before anything is dialled.
      const listed = deps.dnc.isListed(input.tenantId, input.phone);
      const dncAnswer = listed.then(
        (isListed) => ({ isListed }),
        (err: unknown) => ({ err }),
      );
      const blocked = (): PlaceCallResult => {
        logger.info({ attemptId: input.attemptId }, 'number is on the do-not-call list; not dialled');
        return { kind: 'blocked', reason: 'DO_NOT_CALL' };
      };
      // A call with a script needs it at answer time; a call without one plays the task's prompt.
      let loaded: LoadedScript | undefined;
      let media = '';
      if (input.script) {
        loaded = await deps.scripts.load(input.tenantId, input.script);
        if (!loaded) {
          throw ApplicationFailure.nonRetryable(
            `script ${input.script.scriptId} version ${input.script.version} not found`,
            'ScriptNotFound',
          );
        }
      } else media = await tts.synthesize(input.prompt);

      // A task with caller numbers dials through their lines: take a slot on one (rotating from the contact's
      // index) or wait. Acquiring is idempotent per attempt, so a retried execution gets the same grant.
      let line: Extract<AcquireResult, { kind: 'granted' }> | undefined;
      if (deps.lines && input.callerNumbers?.length) {
        const grant = await deps.lines.acquire({
          tenantId: input.tenantId,
          attemptId: input.attemptId,
          callerNumbers: input.callerNumbers,
          rotationKey: input.contactIndex,
        });
        if (grant.kind === 'busy') {
          if (await listed) return blocked();
          logger.info({ attemptId: input.attemptId }, 'every line of the caller numbers is busy; deferred');
          return { kind: 'deferred', reason: 'LINE_BUSY', until: iso(now() + grant.retryAfterMs) };
        }
        if (grant.kind === 'unusable') throw ApplicationFailure.nonRetryable(grant.reason, 'NoUsableCallerNumber');
        line = grant;
      }
      const lineSlot = line;
      const releaseLine = async () => {
        if (lineSlot) await deps.lines?.release(lineSlot.lineId, input.attemptId);
      };
      const callerId = line?.callerNumber ?? input.callerNumber;

      const [dnc, claim] = await Promise.all([
        dncAnswer,
        calls.claim({
          _id: input.attemptId,
          tenantId: input.tenantId,
          taskId: input.taskId,
          contactIndex: input.contactIndex,
          attempt: input.attempt,
          phone: input.phone,
          ...(callerId ? { callerNumber: callerId } : {}),
        }),
      ]);
      // Listed, or the list could not be read: give the claim and the line back (a retry starts clean). An attempt a
      // lost execution claimed is taken over below instead when the number is listed: it may have been dialled.
      if ('err' in dnc || (dnc.isListed && claim.claimed)) {
        await releaseLine();
        if (claim.claimed) await calls.release(input.tenantId, input.attemptId);
        if ('err' in dnc) throw dnc.err;
        return blocked();
      }

      let session: ChannelSession;
      let startedAt: number;
      if (claim.claimed) {
        // Count the call against the tenant's frequency cap only now that this execution owns the attempt, so a
        // retried execution never counts it twice. Over the cap, give the attempt back and defer it.
        const limit = await deps.frequencyCap(input.tenantId);
        const cap = await deps.dialCounts.tryRecord(input.tenantId, input.phone, limit, now());
        if (!cap.allowed) {
          await releaseLine();
          await calls.release(input.tenantId, input.attemptId);
          logger.info({ attemptId: input.attemptId }, 'frequency cap reached; deferred');
          return { kind: 'deferred', reason: 'FREQUENCY_CAP', until: iso(cap.retryAt) };
        }
        startedAt = now();
        try {
          session = await ari.originate({
            channelId: input.attemptId,
            endpoint: line ? dialString(line.endpoint, input.phone, line.address) : dialEndpoint(input.phone, deps),
            timeoutSeconds: deps.call.ringTimeoutSeconds,
            ...(callerId ? { callerId } : {}),
          });
        } catch (err) {
          await releaseLine();
          logger.warn({ attemptId: input.attemptId, err }, 'originate rejected');
          const outcome = lostOutcome(input, startedAt, `originate rejected: ${(err as Error).message}`);
          await store(input, outcome);
          return { kind: 'completed', outcome };
        }
      } else {
        // A previous execution of this activity claimed the attempt. Never dial it again.
        try {
          return { kind: 'completed', outcome: await takeOverAndEnd(input, claim.existing) };
        } finally {
          await releaseLine();
        }
      }
      // The line's slot is held for as long as the channel lives, dialog included.
      void session.destroyed
        .then(releaseLine)
        .catch((err: unknown) =>
          logger.warn(
            { attemptId: input.attemptId, err },
            'line slot not released; it is reclaimed after the hold limit',
          ),
        );

      const first = await withHeartbeat(
        Promise.race([
          session.answered.then(() => 'answered' as const),
          session.destroyed.then(() => 'destroyed' as const),
        ]),
        session,
      );
      let prompt: PlaybackEnd | 'cap' | undefined;
      // Answering-machine detection (the task's option): a machine's greeting gets no robot; the robot hangs up.
      let amd: AmdVerdict | undefined;
      if (first === 'answered' && input.amd) {
        amd = await withHeartbeat(
          ari.detectMachine(session).catch((err: unknown) => {
            logger.warn({ attemptId: input.attemptId, err }, 'answering-machine detection failed; treated as a human');
            return undefined;
          }),
          session,
        );
        if (amd?.status === 'MACHINE') await ari.hangup(session);
      }
      const machine = amd?.status === 'MACHINE';
      // Recording starts once the detection is done: every millisecond before it is the callee's greeting.
      const recording =
        first === 'answered' && !session.destroyedInfo ? await startRecording(session, input.attemptId) : undefined;
      if (first === 'answered' && loaded && !machine && !session.destroyedInfo) {
        // The dialog runs in the workflow; its turns come back to this process, which holds the channel.
        live.set(input.attemptId, {
          input,
          session,
          startedAt,
          loaded,
          seq: 0,
          ...(recording ? { recording } : {}),
          ...(amd ? { amd } : {}),
        });
        forgetWhenGone(input.attemptId, session);
        return {
          kind: 'answered',
          hostQueue: deps.hostQueue,
          startedAt: iso(startedAt),
          answeredAt: iso(session.answeredAt ?? now()),
          script: loaded.script,
          ...(amd ? { amd } : {}),
        };
      }
      if (first === 'answered' && !machine) {
        prompt = await withHeartbeat(converse(session, media, deps.call.maxCallSeconds * 1000), session);
      }
      const destroyed = await withHeartbeat(session.destroyed, session);
      const outcome = outcomeOf(input, session, startedAt, destroyed);
      // Seed decision C9: 用户听完语音 — the callee heard the robot to its end and the robot hung up.
      if (outcome.code === 'SUCCESS' && prompt === 'done' && outcome.hangupBy === 'ROBOT')
        outcome.detail = LISTENED_TO_END;
      if (amd) outcome.amd = amd;
      if (machine && outcome.code === 'SUCCESS') outcome.detail = ANSWERING_MACHINE;
      await store(input, outcome);
      await storeRecording(input, recording);
      logger.info(
        { attemptId: input.attemptId, result: outcome.code, cause: outcome.cause, hangupBy: outcome.hangupBy },
        'call ended',
      );
      return { kind: 'completed', outcome };
    },

    /** Play the robot's prompts in order (and listen after them when asked). Runs on the call's host queue. */
    async speak(req: SpeakInput): Promise<SpeakResult> {
      const call = liveCall(req.call);
      const ignored: HeardOver[] = [];
      const run = async (): Promise<SpeakResult> => {
        for (const p of req.plays) {
          if (call.session.destroyedInfo) return { kind: 'hangup', at: hungUpAt(call.session), ignored };
          const end = await playWatchingKeys(call, p, req, ignored);
          if (end === 'hangup') return { kind: 'hangup', at: hungUpAt(call.session), ignored };
          if (end !== 'done') return { kind: 'interrupted', ...end, ignored };
        }
        if (req.listenMs === undefined) return { kind: 'played', ignored };
        const heard = await listenOnce(call, req.at, req.listenMs);
        if (heard.kind === 'hangup') return { kind: 'hangup', at: heard.at, ignored };
        return { kind: 'played', heard, ignored };
      };
      return withHeartbeat(run(), call.session);
    },

    /** Listen for the callee's reply. Runs on the call's host queue. */
    async listen(req: ListenInput): Promise<ListenResult> {
      const call = liveCall(req.call);
      return withHeartbeat(listenOnce(call, req.at, req.timeoutMs), call.session);
    },

    /** A transfer begins: the callee hears music on hold (or ringing) while the queue finds an agent. */
    async startHold(req: { call: TurnCallRef }): Promise<void> {
      const call = liveCall(req.call);
      if (call.hold || call.session.destroyedInfo) return;
      if (deps.holdMusic) call.hold = startHoldLoop(call, await deps.holdMusic());
      else await ari.ari.channels.ring({ channelId: call.session.id }).catch(() => undefined);
    },

    /** Resolves when the callee hangs up (the transfer watches this while it waits); cancelled when no longer needed. */
    async watchCallee(req: { call: TurnCallRef }): Promise<{ at: string }> {
      const call = liveCall(req.call);
      const gone = await watching(call.session.destroyed.then((d) => ({ at: iso(d.at) })));
      return gone;
    },

    /**
     * Adopt a transferred call whose host process was lost (killed, or cut off from Temporal) while the callee waited
     * for an agent or an agent's phone rang — or while a person had the call (`party`: its leg is adopted too, and
     * bridged with the callee again in the lost host's bridge, which Asterisk keeps, or held). The channel lives on in
     * Asterisk, in the lost host's Stasis application (see activities/ari/ari-adapter), so this worker takes it over
     * through ARI: its events, music on hold again, the recording Asterisk is still writing, the caller line's slot;
     * and it becomes the call's host — the transfer goes on with the returned host queue. Runs on the media task
     * queue (any worker with ARI); legs the lost host left behind (`hangUp`) are hung up first. A channel that is
     * gone means the callee hung up meanwhile: the call is kept here, ended, for endCall to store (answered, hung up
     * by the callee, at the time this was found; a connected party's leg is hung up too).
     */
    async adoptCall(req: AdoptCallInput): Promise<AdoptCallResult> {
      const { place } = req;
      const log = { attemptId: place.attemptId, lostHost: req.lostHost };
      const held = live.get(place.attemptId);
      if (held && !held.session.destroyedInfo) {
        // This process still holds the call (its activity timed out, the process lives on): it stays here.
        if (!held.hold && !held.agent && deps.holdMusic) held.hold = startHoldLoop(held, await deps.holdMusic());
        logger.warn(log, 'asked to adopt a call this worker still holds; it stays here');
        return { kind: 'adopted', hostQueue: deps.hostQueue, recording: held.recording !== undefined };
      }
      for (const channelId of req.hangUp ?? []) {
        await ari.ari.channels.hangup({ channelId }).catch(() => undefined);
      }
      let loaded: LoadedScript | undefined;
      if (place.script) loaded = await deps.scripts.load(place.tenantId, place.script);
      if (!loaded)
        throw ApplicationFailure.nonRetryable(`call ${place.attemptId} has no script to go on with`, 'NoScript');
      const startedAt = Date.parse(req.startedAt);
      const answeredAt = Date.parse(req.answeredAt);
      const recording = await adoptRecording(place.attemptId);
      const releaseLine = async () => {
        if (place.callerNumbers?.length)
          await deps.lines?.releaseAttempt(place.tenantId, place.attemptId, place.callerNumbers);
      };
      const adopted = await ari.adopt(place.attemptId);
      const call: LiveCall = {
        input: place,
        session: adopted?.session ?? new ChannelSession(place.attemptId),
        startedAt,
        loaded,
        // Playback ids after the lost host's (which may still be playing its last piece of music).
        seq: now(),
        ...(recording ? { recording } : {}),
        ...(req.amd ? { amd: req.amd } : {}),
      };
      call.session.onAnswered(answeredAt);
      if (!adopted) {
        // The party of a connected call stays up in the lost host's application: nobody else hangs it up.
        if (req.party) await ari.ari.channels.hangup({ channelId: req.party.channelId }).catch(() => undefined);
        const at = now();
        call.session.onDestroyed({ at });
        call.adopted =
          'gone when a worker came to adopt it from a lost host: hung up by the callee meanwhile; end time is when that was found';
        live.set(place.attemptId, call);
        forgetWhenGone(place.attemptId, call.session);
        await releaseLine();
        logger.warn(log, 'the transferred call of a lost host is gone (the callee hung up meanwhile)');
        return { kind: 'gone', hostQueue: deps.hostQueue, at: iso(at) };
      }
      call.adopted = req.party
        ? 'taken over from a lost host while connected with a person'
        : 'taken over from a lost host while transferred';
      live.set(place.attemptId, call);
      forgetWhenGone(place.attemptId, call.session);
      // The line's slot is held for as long as the channel lives; the lost host cannot give it back.
      void call.session.destroyed
        .then(releaseLine)
        .catch((err: unknown) =>
          logger.warn({ ...log, err }, 'line slot not released; it is reclaimed after the hold limit'),
        );
      if (req.party) {
        // Connected: the party's leg too, and the lost host's bridge of the two (Asterisk keeps it), or a new one.
        const party = await ari.adopt(req.party.channelId);
        let session = party?.session;
        if (!session) {
          // Hung up meanwhile: the next awaitCallLegs reports the party's end.
          session = new ChannelSession(req.party.channelId);
          session.onDestroyed({ at: now(), lost: true });
        }
        call.agent = { agentId: req.party.agentId, session };
        const bridgeId = bridgeIdOf(call, session);
        const kept = await ari.ari.bridges.get({ bridgeId }).then(
          () => true,
          () => false,
        );
        const ctl = controlOf(call);
        if (kept) ctl.bridgeId = bridgeId;
        else if (!session.destroyedInfo) {
          // Gone with the lost host: a new bridge for the party's leg (a destroyed bridge's id is not reused).
          const fresh = `${bridgeId}-adopted`;
          await ari.ari.bridges.createWithId({ type: 'mixing', bridgeId: fresh, name: fresh });
          ctl.bridgeId = fresh;
          await ari.ari.bridges.addChannel({ bridgeId: fresh, channel: session.id });
        }
        if (req.party.mode === 'talk') await connectParty(call, `${bridgeId}-adopted`);
        else if (deps.holdMusic) call.hold = startHoldLoop(call, await deps.holdMusic());
        logger.warn(
          { ...log, party: req.party.channelId, bridge: kept ? 'kept' : 'new', mode: req.party.mode },
          'adopted the connected call of a lost host',
        );
        return { kind: 'adopted', hostQueue: deps.hostQueue, recording: recording !== undefined };
      }
      if (deps.holdMusic) call.hold = startHoldLoop(call, await deps.holdMusic());
      else await ari.ari.channels.ring({ channelId: place.attemptId }).catch(() => undefined);
      logger.warn({ ...log, recording: recording !== undefined }, 'adopted the transferred call of a lost host');
      return { kind: 'adopted', hostQueue: deps.hostQueue, recording: recording !== undefined };
    },

    /**
     * Ring an agent's phone (the transfer's offer). The agent leg is its own channel, `<attemptId>-agent<n>`;
     * `autoAnswerSeconds` asks the phone to answer by itself (Call-Info answer-after). Not answered within
     * `ringSeconds`, or rejected, is a miss; the callee hanging up meanwhile ends the offer.
     */
    async ringAgent(req: {
      call: TurnCallRef;
      agent: AgentOffer;
      ringSeconds: number;
      n: number;
    }): Promise<RingResult> {
      const call = liveCall(req.call);
      return ringParty(call, {
        party: req.agent.agentId,
        channelId: `${call.input.attemptId}-agent${req.n}`,
        endpoint: `PJSIP/${req.agent.endpoint}`,
        ringSeconds: req.ringSeconds,
        callerId: call.input.phone,
        ...(req.agent.autoAnswerSeconds !== null
          ? {
              variables: {
                'PJSIP_HEADER(add,Call-Info)': `<sip:waihu>;answer-after=${req.agent.autoAnswerSeconds}`,
              },
            }
          : {}),
      });
    },

    /**
     * Connect the callee with the agent who answered: stop the hold music, bridge the two legs (the call's recording
     * hears both), and wait until one side hangs up; then the other leg is hung up too.
     */
    async bridgeAgent(req: { call: TurnCallRef }): Promise<{ endedBy: 'AGENT' | 'USER'; connectedAt: string }> {
      const call = liveCall(req.call);
      const agent = call.agent;
      if (!agent) throw ApplicationFailure.nonRetryable('no agent leg to bridge', 'NoAgentLeg');
      await call.hold?.stop();
      delete call.hold;
      const bridgeId = `${call.input.attemptId}-bridge`;
      const connectedAt = now();
      let endedBy: 'AGENT' | 'USER' = 'USER';
      if (!call.session.destroyedInfo && !agent.session.destroyedInfo) {
        await ari.ari.bridges.create({ type: 'mixing', bridgeId });
        try {
          await ari.ari.bridges.addChannel({ bridgeId, channel: [call.session.id, agent.session.id] });
          endedBy = await withHeartbeat(
            Promise.race([
              call.session.destroyed.then(() => 'USER' as const),
              agent.session.destroyed.then(() => 'AGENT' as const),
            ]),
            call.session,
          );
        } finally {
          await ari.ari.bridges.destroy({ bridgeId }).catch(() => undefined);
        }
      } else endedBy = call.session.destroyedInfo ? 'USER' : 'AGENT';
      // The side that stayed is hung up (the callee by the system when the agent ended the call).
      await ari.hangup(endedBy === 'AGENT' ? call.session : agent.session);
      return { endedBy, connectedAt: iso(connectedAt) };
    },

    /**
     * End a call with a dialog: hang up (unless the callee has), store the call record with its tags and the dialog
     * record. On a worker that does not hold the channel (its host was lost), take the channel over through ARI.
     */
    async endCall(req: EndCallInput): Promise<AttemptOutcome> {
      const place = req.place;
      const call = live.get(place.attemptId);
      let outcome: AttemptOutcome;
      if (call) {
        await ari.hangup(call.session);
        const destroyed = await withHeartbeat(call.session.destroyed, call.session);
        outcome = outcomeOf(place, call.session, call.startedAt, destroyed);
      } else {
        const claim = await calls.claim({
          _id: place.attemptId,
          tenantId: place.tenantId,
          taskId: place.taskId,
          contactIndex: place.contactIndex,
          attempt: place.attempt,
          phone: place.phone,
        });
        if (claim.claimed) {
          // No record of the attempt at all: nothing to take over.
          outcome = lostOutcome(place, now(), 'the worker holding the call was lost and left no record');
        } else outcome = await takeOverAndEnd(place, claim.existing);
        // The lost worker cannot give its line slot back; do it for it.
        if (place.callerNumbers?.length)
          await deps.lines?.releaseAttempt(place.tenantId, place.attemptId, place.callerNumbers);
      }
      await call?.hold?.stop();
      if (call?.agent) await ari.hangup(call.agent.session);
      outcome.tags = [...req.tags];
      outcome.dialogEnd = req.end;
      if (call?.amd) outcome.amd = call.amd;
      if (call?.adopted) outcome.note = call.adopted;
      if (req.transfer) {
        outcome.transfer = withTransferTimes(req.transfer, outcome);
        if (req.transfer.kind === 'connected') {
          outcome.agentId = req.transfer.agentId;
          outcome.hangupBy = req.transfer.endedBy;
        }
      }
      await store(place, outcome);
      await storeRecording(place, call?.recording);
      if (place.script) {
        await deps.dialogs.save({
          _id: place.attemptId,
          tenantId: place.tenantId,
          taskId: place.taskId,
          contactIndex: place.contactIndex,
          attempt: place.attempt,
          script: place.script,
          turns: req.turns,
          tags: req.tags,
          end: req.end,
        });
      }
      live.delete(place.attemptId);
      logger.info(
        { attemptId: place.attemptId, result: outcome.code, hangupBy: outcome.hangupBy, end: req.end.kind },
        'call with dialog ended',
      );
      return outcome;
    },

    // ---- In-call controls (seed §5.3): the connected phase of a transfer as set-up steps and one wait. ----

    /**
     * What the callee hears while a human has the call: `talk` bridges the callee with the connected party (the
     * agent, or the external number), stopping the hold music; `hold` takes the callee out of the bridge onto music
     * on hold — the party's leg stays up, alone in the bridge, hearing nothing. Each party gets a bridge of its own,
     * `<attemptId>-bridge-<leg>` (e.g. `-bridge-agent2`): Asterisk may still know a destroyed bridge's id for a
     * while, so an id is never reused. Idempotent; a callee who has hung up meanwhile is left to
     * {@link awaitCallLegs} to report.
     */
    async setCallMode(req: { call: TurnCallRef; mode: 'talk' | 'hold' }): Promise<{ at: string }> {
      const call = liveCall(req.call);
      const party = call.agent;
      const ctl = controlOf(call);
      const at = iso(now());
      if (call.session.destroyedInfo) return { at };
      if (req.mode === 'talk') {
        if (!party) throw ApplicationFailure.nonRetryable('no agent or external leg to bridge', 'NoAgentLeg');
        await connectParty(call, bridgeIdOf(call, party.session));
      } else {
        if (ctl.bridgeId)
          await ari.ari.bridges.removeChannel({ bridgeId: ctl.bridgeId, channel: call.session.id }).catch((err) => {
            // Not in the bridge (already held): nothing to take out.
            logger.debug({ attemptId: call.input.attemptId, err }, 'callee not in the bridge');
          });
        if (!call.hold && deps.holdMusic) call.hold = startHoldLoop(call, await deps.holdMusic());
      }
      return { at };
    },

    /**
     * Wait while a human has the call (talking or held) until one side hangs up — then the other side is hung up
     * too (the callee by the system when the agent ended the call) — or until {@link interruptCall} asks this wait
     * to stop for a control command, which ends nothing: the legs stay as they are. The wait is stopped through a
     * per-call in-process event, not by cancelling the activity (a cancelled wait hangs the callee up, as any
     * cancelled call activity does).
     */
    async awaitCallLegs(req: {
      call: TurnCallRef;
    }): Promise<{ kind: 'ended'; endedBy: 'AGENT' | 'USER'; at: string } | { kind: 'interrupted' }> {
      const call = liveCall(req.call);
      const party = call.agent;
      const ctl = controlOf(call);
      const interrupted = new Promise<'interrupted'>((resolve) => {
        if (ctl.interrupted) resolve('interrupted');
        else ctl.wake = () => resolve('interrupted');
      });
      let first: 'USER' | 'AGENT' | 'interrupted';
      try {
        // The hang-ups come first: a call that ended while a command came in has ended.
        first = await withHeartbeat(
          Promise.race([
            call.session.destroyed.then(() => 'USER' as const),
            ...(party ? [party.session.destroyed.then(() => 'AGENT' as const)] : []),
            interrupted,
          ]),
          call.session,
        );
      } finally {
        ctl.interrupted = false;
        delete ctl.wake;
      }
      if (first === 'interrupted') return { kind: 'interrupted' };
      const at = iso(now());
      if (first === 'AGENT') await ari.hangup(call.session);
      else if (party) await ari.hangup(party.session);
      await dropBridge(ari, call);
      return { kind: 'ended', endedBy: first, at };
    },

    /** 挂断 by command: the system hangs the callee up (then the party) and takes the bridge down. */
    async hangUpCall(req: { call: TurnCallRef }): Promise<{ at: string }> {
      const call = liveCall(req.call);
      await call.hold?.stop();
      delete call.hold;
      await ari.hangup(call.session);
      if (call.agent) await ari.hangup(call.agent.session);
      await dropBridge(ari, call);
      await withHeartbeat(call.session.destroyed);
      return { at: iso(now()) };
    },

    /** Stop the call's {@link awaitCallLegs} (now, or as soon as it starts) without hanging anything up. */
    interruptCall(req: { call: TurnCallRef }): Promise<void> {
      const ctl = controlOf(liveCall(req.call));
      ctl.interrupted = true;
      ctl.wake?.();
      return Promise.resolve();
    },

    /**
     * A transfer away from the connected party: hang up its leg (the agent's, or the external number's), take down
     * the bridge, and put the callee on music on hold while the next party is found.
     */
    async releaseParty(req: { call: TurnCallRef }): Promise<{ at: string; calleeGone: boolean }> {
      const call = liveCall(req.call);
      const party = call.agent;
      delete call.agent;
      await dropBridge(ari, call);
      if (party && !party.session.destroyedInfo) {
        await ari.hangup(party.session);
        await withHeartbeat(party.session.destroyed);
      }
      if (!call.session.destroyedInfo && !call.hold && deps.holdMusic)
        call.hold = startHoldLoop(call, await deps.holdMusic());
      return { at: iso(now()), calleeGone: call.session.destroyedInfo !== undefined };
    },

    /**
     * Transfer to an external number: dial it through the trunk like a callee (channel `<attemptId>-ext<n>`, the
     * call's caller number when it has one); answered, it becomes the call's connected party (bridged by
     * {@link setCallMode}). Not answered within `ringSeconds`, rejected, or the callee hanging up meanwhile is the
     * result, as for an agent's phone.
     */
    async dialExternal(req: {
      call: TurnCallRef;
      number: string;
      ringSeconds: number;
      n: number;
    }): Promise<RingResult> {
      const call = liveCall(req.call);
      return ringParty(call, {
        party: `tel:${req.number}`,
        channelId: `${call.input.attemptId}-ext${req.n}`,
        endpoint: dialEndpoint(req.number, deps),
        ringSeconds: req.ringSeconds,
        ...(call.input.callerNumber ? { callerId: call.input.callerNumber } : {}),
      });
    },
  };
}

/** Per-call state of the in-call controls, beside the process's live calls. */
interface CallControl {
  /** A command asked the running (or next) {@link awaitCallLegs} to stop; `wake` stops the running one. */
  interrupted: boolean;
  wake?: () => void;
  /** The bridge of the callee and the connected party. */
  bridgeId?: string;
}
const controls = new WeakMap<object, CallControl>();

function controlOf(call: object): CallControl {
  let ctl = controls.get(call);
  if (!ctl) controls.set(call, (ctl = { interrupted: false }));
  return ctl;
}

/** Take down the call's bridge, if it has one (the channels in it stay up). */
async function dropBridge(ari: AriAdapter, call: object): Promise<void> {
  const ctl = controlOf(call);
  const bridgeId = ctl.bridgeId;
  if (!bridgeId) return;
  delete ctl.bridgeId;
  await ari.ari.bridges.destroy({ bridgeId }).catch(() => undefined);
}

/**
 * The transfer's share of the call: robot time (answer → hand-over), queue wait (hand-over → an agent answered, or the
 * end), human time (agent → end). The call's talk time is their sum.
 */
export function withTransferTimes(t: TransferOutcome, o: AttemptOutcome): TransferOutcome {
  const at = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);
  const secs = (ms: number) => (Number.isFinite(ms) ? Math.max(0, Math.round(ms / 100) / 10) : undefined);
  const handOver = at(t.startedAt);
  const connected = t.kind === 'connected' ? at(t.connectedAt) : NaN;
  const end = at(o.endedAt);
  // Back to the robot after a queue timeout: the wait ends there, and the robot's time goes on to the end.
  const back = at(t.backToRobotAt);
  const robotAfter = Number.isFinite(back) ? Math.max(0, end - back) : 0;
  const robot = secs(handOver - at(o.answeredAt) + robotAfter);
  const wait = secs((Number.isFinite(connected) ? connected : Number.isFinite(back) ? back : end) - handOver);
  const human = secs(end - connected);
  return {
    ...t,
    ...(robot !== undefined ? { robotSeconds: robot } : {}),
    ...(wait !== undefined ? { queueWaitSeconds: wait } : {}),
    ...(human !== undefined ? { humanSeconds: human } : {}),
  };
}
