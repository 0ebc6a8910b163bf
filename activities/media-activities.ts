/**
 * The dial activity. Runs only on workers that hold an ARI connection (the media task queue).
 *
 * Exactly-once dialling without transactions: the attempt id is the ARI channel id and the `_id` of the call
 * record. Before originating, the activity claims the attempt (an insert keyed by that id). A retried execution
 * whose claim fails does not dial again: it follows the channel if Asterisk still has it, returns the stored
 * outcome if there is one, and otherwise reports the attempt as lost (呼损), which the retry policy may redial
 * under a new attempt id.
 */
import { Context } from '@temporalio/activity';
import { isOpenAt, nextOpening } from '../src/calendar';
import { classifyCall, type CallObservation } from '../src/call-result';
import type { CapDecision, FrequencyCap } from '../src/frequency-cap';
import type { SipRoute } from '../config/config';
import type { AriAdapter, ChannelSession, PlaybackEnd } from './ari/ari-adapter';
import { storedOutcome, type CallRepository } from './mongo/repositories';
import type { Tts } from './speech/espeak-tts';
import type { Logger } from './logger';
import type { AttemptOutcome, PlaceCallInput, PlaceCallResult } from '../workflows/definitions';

/** The dial-time do-not-call check (one exact-`_id` read). */
export interface DoNotCallCheck {
  isListed(tenantId: string, phone: string): Promise<boolean>;
}

/** The dial-time frequency cap: check and count one call, atomically. */
export interface FrequencyCounter {
  tryRecord(tenantId: string, phone: string, cap: FrequencyCap, atMs: number): Promise<CapDecision>;
}

export interface MediaActivityDeps {
  ari: AriAdapter;
  calls: CallRepository;
  dnc: DoNotCallCheck;
  dialCounts: FrequencyCounter;
  frequencyCap: FrequencyCap;
  tts: Tts;
  logger: Logger;
  clock?: () => number;
  sip: { trunkEndpoint: string; defaultTarget: string; routes: readonly SipRoute[] };
  call: { ringTimeoutSeconds: number; maxCallSeconds: number };
  heartbeatMs?: number;
}

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

const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const seconds = (ms: number) => Math.max(0, Math.round(ms / 100) / 10);

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
      // A channel that vanished before it was answered is a network loss; an answered one that vanished is a
      // completed call that ended abnormally, still 呼叫成功 but flagged by `note`.
      systemFailure: destroyed.lost === true && session.answeredAt === undefined,
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

  /** The call record is final as soon as the call ends, so a retried execution returns it instead of dialling. */
  async function store(input: PlaceCallInput, outcome: AttemptOutcome): Promise<void> {
    await calls.finalize(input.tenantId, outcome, {
      taskId: input.taskId,
      contactIndex: input.contactIndex,
      phone: input.phone,
    });
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
      // A number put on the do-not-call list after the import (or mid-campaign) is honoured here, at dial time.
      if (await deps.dnc.isListed(input.tenantId, input.phone)) {
        logger.info({ attemptId: input.attemptId }, 'number is on the do-not-call list; not dialled');
        return { kind: 'blocked', reason: 'DO_NOT_CALL' };
      }
      const media = await tts.synthesize(input.prompt);

      const claim = await calls.claim({
        _id: input.attemptId,
        tenantId: input.tenantId,
        taskId: input.taskId,
        contactIndex: input.contactIndex,
        attempt: input.attempt,
        phone: input.phone,
        ...(input.callerNumber ? { callerNumber: input.callerNumber } : {}),
      });

      let session: ChannelSession;
      let startedAt: number;
      let takenOver = false;
      if (claim.claimed) {
        // Count the call against the tenant's frequency cap only now that this execution owns the attempt, so a
        // retried execution never counts it twice. Over the cap, give the attempt back and defer it.
        const cap = await deps.dialCounts.tryRecord(input.tenantId, input.phone, deps.frequencyCap, now());
        if (!cap.allowed) {
          await calls.release(input.tenantId, input.attemptId);
          logger.info({ attemptId: input.attemptId }, 'frequency cap reached; deferred');
          return { kind: 'deferred', reason: 'FREQUENCY_CAP', until: iso(cap.retryAt) };
        }
        startedAt = now();
        try {
          session = await ari.originate({
            channelId: input.attemptId,
            endpoint: dialEndpoint(input.phone, deps),
            timeoutSeconds: deps.call.ringTimeoutSeconds,
            ...(input.callerNumber ? { callerId: input.callerNumber } : {}),
          });
        } catch (err) {
          logger.warn({ attemptId: input.attemptId, err }, 'originate rejected');
          const outcome = lostOutcome(input, startedAt, `originate rejected: ${(err as Error).message}`);
          await store(input, outcome);
          return { kind: 'completed', outcome };
        }
      } else {
        // A previous execution of this activity claimed the attempt. Never dial it again.
        const existing = claim.existing;
        const stored = storedOutcome(existing);
        if (stored) return { kind: 'completed', outcome: stored };
        startedAt = existing.claimedAt.getTime();
        const adopted = await ari.adopt(input.attemptId);
        if (!adopted) {
          logger.warn(
            { attemptId: input.attemptId },
            'attempt was claimed by a lost execution and its channel is gone',
          );
          const outcome = lostOutcome(input, startedAt, 'claimed by a lost execution; its channel is gone');
          await store(input, outcome);
          return { kind: 'completed', outcome };
        }
        // The dialog state of the lost execution is gone with it: the robot ends the call politely and records it.
        logger.warn({ attemptId: input.attemptId }, 'taking over the live channel of a lost execution; hanging up');
        session = adopted.session;
        takenOver = true;
        if (adopted.up) session.onAnswered(now());
        await ari.hangup(session);
      }

      const first = await withHeartbeat(
        Promise.race([
          session.answered.then(() => 'answered' as const),
          session.destroyed.then(() => 'destroyed' as const),
        ]),
        session,
      );
      let prompt: PlaybackEnd | 'cap' | undefined;
      if (first === 'answered' && !takenOver) {
        prompt = await withHeartbeat(converse(session, media, deps.call.maxCallSeconds * 1000), session);
      }
      const destroyed = await withHeartbeat(session.destroyed, session);
      const outcome = outcomeOf(input, session, startedAt, destroyed);
      if (takenOver) outcome.note = 'taken over from a lost execution; answer time is the takeover time';
      // Seed decision C9: 用户听完语音 — the callee heard the robot to its end and the robot hung up.
      if (outcome.code === 'SUCCESS' && prompt === 'done' && outcome.hangupBy === 'ROBOT')
        outcome.detail = LISTENED_TO_END;
      await store(input, outcome);
      logger.info(
        { attemptId: input.attemptId, result: outcome.code, cause: outcome.cause, hangupBy: outcome.hangupBy },
        'call ended',
      );
      return { kind: 'completed', outcome };
    },
  };
}
