/**
 * 转人工 inside the call's workflow: the robot's script asked for a skill group. The callee hears music on hold, the
 * call joins the skill group's queue (workflows/skill-group-queue), and each agent the queue offers is rung from here
 * (on the worker holding the channel); the queue hears whether the agent answered. An answered agent is bridged
 * with the callee until one of them hangs up. Every step — the offer, the ring and its result, the bridge — is an
 * activity or a signal in this history and the queue's.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { AdoptCallInput, createMediaActivities } from '../activities/media-activities';
import type { createQueueActivities } from '../activities/queue-activities';
import { queueWorkflowId } from '../src/ids';
import {
  agentOfferedSignal,
  leaveQueueSignal,
  offerResultSignal,
  queueTimeoutSignal,
  transferEndedSignal,
  callControlQuery,
  callControlUpdate,
  type AgentOffer,
  type CallControlCommand,
  type CallControlPhase,
  type CallControlRequest,
  type CallControlState,
  type Handover,
  type TransferOutcome,
  type TransferSettings,
  type TurnCallRef,
} from './definitions';

type MediaActivities = ReturnType<typeof createMediaActivities>;

const queueActs = proxyActivities<ReturnType<typeof createQueueActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

export interface TransferInput {
  hostQueue: string;
  call: TurnCallRef;
  skillGroupId: string;
  contactWorkflowId: string;
  settings: TransferSettings;
  /**
   * Since the `transfer-adoption` patch: what another media worker needs to adopt the call when its host is lost
   * while the callee waits for an agent or an agent's phone rings (in the first transfer, or a later one to a skill
   * group) — the shared media task queue, and the call as it was placed and answered; since `connected-adoption`,
   * also while a person has the call. Without it, a lost host ends the transfer as `lost`.
   */
  adoption?: Omit<AdoptCallInput, 'lostHost' | 'hangUp' | 'party'> & { mediaQueue: string };
  /** Told the host queue of a worker that adopted the call: whatever follows the transfer runs there. */
  onHostChanged?: (hostQueue: string) => void;
  /** A person has the call now (the first agent answered): the robot's part is over (the caller frees its AI seat). */
  onConnected?: () => Promise<void>;
}

/** The call's host as the transfer knows it, and the adoption that replaces a lost one. */
interface TransferCtx {
  input: TransferInput;
  base: { skillGroupId: string; startedAt: string };
  /** The worker holding the channel (its host queue); another one after an adoption. */
  hostQueue: string;
  host: ActivityInterfaceFor<MediaActivities>;
  /** Set when the `transfer-adoption` patch applies (see TransferInput.adoption). */
  adoption?: TransferInput['adoption'];
  /** Agent or external legs rung so far: the next leg is `<attemptId>-agent<legs + 1>` (or `-ext`). */
  legs: number;
}

/** What the queued phase came to: an agent answered (its leg is up, not bridged yet), or the transfer's end. */
type Waited = { kind: 'answered'; agentId: string } | { kind: 'abandoned' | 'timeout' | 'lost' };

const hostAt = (taskQueue: string) =>
  proxyActivities<MediaActivities>({
    taskQueue,
    scheduleToStartTimeout: '15 seconds',
    // A transferred call may talk for as long as a call may last (seed: 1800 s by default) and then some.
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '20 seconds',
    retry: { maximumAttempts: 1 },
  });

/**
 * The host is lost (one of its activities timed out: the process died, or lost Temporal). Any media worker adopts
 * the channel (adoptCall, in this history with its answer); the transfer goes on on the adopter's host queue, which
 * the call's workflow is told too. `gone`: the callee hung up meanwhile. `failed`: no worker could adopt it.
 * `hangUp`: legs the lost host had started (an agent's phone it was ringing). `party`: the call was connected, its
 * party's leg is adopted too and bridged with the callee again (or the callee held).
 */
async function adoptCall(
  ctx: TransferCtx,
  hangUp: string[] = [],
  party?: AdoptCallInput['party'],
): Promise<'adopted' | 'gone' | 'failed'> {
  if (!ctx.adoption) return 'failed';
  const { mediaQueue, ...adoptee } = ctx.adoption;
  const media = proxyActivities<MediaActivities>({
    taskQueue: mediaQueue,
    // Waits for a media worker to come (back) up, a while: the callee hears silence meanwhile.
    scheduleToCloseTimeout: '10 minutes',
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
  });
  let adopted: Awaited<ReturnType<MediaActivities['adoptCall']>>;
  try {
    adopted = await media.adoptCall({ ...adoptee, lostHost: ctx.hostQueue, hangUp, ...(party ? { party } : {}) });
  } catch (err) {
    if (err instanceof ActivityFailure) return 'failed';
    throw err;
  }
  ctx.hostQueue = adopted.hostQueue;
  ctx.host = hostAt(ctx.hostQueue);
  ctx.input.onHostChanged?.(ctx.hostQueue);
  return adopted.kind;
}

export async function runTransfer(input: TransferInput): Promise<TransferOutcome> {
  const { call, skillGroupId } = input;
  const ctx: TransferCtx = {
    input,
    base: { skillGroupId, startedAt: new Date(Date.now()).toISOString() },
    hostQueue: input.hostQueue,
    host: hostAt(input.hostQueue),
    // Histories from before adoption ended the transfer as lost when the host was: patch `transfer-adoption`.
    adoption: input.adoption && patched('transfer-adoption') ? input.adoption : undefined,
    legs: 0,
  };
  const { base } = ctx;
  const waited = await waitForAgent(ctx, skillGroupId, { hold: true });
  if (waited.kind !== 'answered') return { kind: waited.kind, ...base };
  // In-call controls (hold, transfer, hang-up): the connected phase is a loop of waits and commands. Histories
  // from before it ran one long bridgeAgent activity: patch `call-controls`.
  if (patched('call-controls')) return await runConnected(ctx, waited.agentId);
  try {
    const talk = await ctx.host.bridgeAgent({ call });
    return { kind: 'connected', ...base, agentId: waited.agentId, ...talk };
  } catch (err) {
    if (err instanceof ActivityFailure) return { kind: 'lost', ...base };
    throw err;
  } finally {
    await getExternalWorkflowHandle(queueWorkflowId(call.tenantId, skillGroupId)).signal(transferEndedSignal, {
      callId: call.attemptId,
      agentId: waited.agentId,
    });
  }
}

/**
 * The queued phase, for the first transfer and for every later one to a skill group (in-call controls): the call
 * joins the group's queue (`hold`: the callee's music on hold starts first), the host watches the callee while it
 * waits, and each agent the queue offers is rung from the host; the queue hears whether the agent answered. A host
 * lost meanwhile (with `ctx.adoption`) is replaced by adopting the call — the same agent is rung again once from the
 * adopter when the ring was cut — and `ctx` holds the adopter from then on. Returns once an agent has answered (its
 * leg is up, not bridged yet) or when the transfer has ended: the callee hung up, the queue timed out, or the host is
 * lost for good.
 */
async function waitForAgent(ctx: TransferCtx, skillGroupId: string, opts: { hold: boolean }): Promise<Waited> {
  const { call, settings } = ctx.input;
  const callId = call.attemptId;
  const queue = getExternalWorkflowHandle(queueWorkflowId(call.tenantId, skillGroupId));
  let offer: AgentOffer | undefined;
  let timedOut = false;
  let calleeGone = false;
  /** The host's watch of the callee failed (not cancelled): the host is lost (only noted with adoption). */
  let hostLost = false;
  setHandler(agentOfferedSignal, (o) => {
    offer = o;
  });
  setHandler(queueTimeoutSignal, () => {
    timedOut = true;
  });

  // While the callee waits, watch for a hang-up (cancelled once the wait is over, or replaced after an adoption).
  let watch: CancellationScope | undefined;
  const startWatch = () => {
    watch?.cancel();
    const scope = new CancellationScope();
    watch = scope;
    void scope
      .run(() => ctx.host.watchCallee({ call }))
      .then(
        () => {
          if (watch === scope) calleeGone = true;
        },
        (err: unknown) => {
          if (watch === scope && ctx.adoption && !isCancellation(err)) hostLost = true;
        },
      );
  };
  const adopt = async (hangUp?: string[]): Promise<'adopted' | 'gone' | 'failed'> => {
    watch?.cancel();
    const adopted = await adoptCall(ctx, hangUp);
    if (adopted === 'adopted') {
      hostLost = false;
      startWatch();
    }
    return adopted;
  };

  try {
    try {
      if (opts.hold) {
        try {
          await ctx.host.startHold({ call });
        } catch (err) {
          // Lost before the callee joined the queue: adopted, the adopter's music plays (adoptCall starts it).
          if (!(err instanceof ActivityFailure) || !ctx.adoption) throw err;
          const adopted = await adopt();
          if (adopted !== 'adopted') return { kind: adopted === 'gone' ? 'abandoned' : 'lost' };
        }
      }
      await queueActs.enqueueTransfer({
        tenantId: call.tenantId,
        skillGroupId,
        callId,
        contactWorkflowId: ctx.input.contactWorkflowId,
        timeoutMs: settings.queueTimeoutSeconds * 1000,
      });
    } catch (err) {
      if (err instanceof ActivityFailure) return { kind: 'lost' };
      throw err;
    }

    if (!watch) startWatch();
    for (;;) {
      await condition(() => offer !== undefined || timedOut || calleeGone || hostLost);
      if (calleeGone && !offer) {
        await queue.signal(leaveQueueSignal, { callId });
        return { kind: 'abandoned' };
      }
      if (timedOut && !offer) {
        // The prompt and the hang-up that follow need a host: adopt the call first if its host is lost.
        const adopted = hostLost ? await adopt() : 'adopted';
        return { kind: adopted === 'gone' ? 'abandoned' : adopted === 'failed' ? 'lost' : 'timeout' };
      }
      if (hostLost) {
        // The host was lost while the callee waited; the queue keeps the call (its deadline, or an agent it offered)
        // meanwhile.
        const adopted = await adopt();
        if (adopted !== 'adopted') {
          await queue.signal(leaveQueueSignal, { callId });
          return { kind: adopted === 'gone' ? 'abandoned' : 'lost' };
        }
        if (!offer) continue;
      }
      const agent = offer!;
      offer = undefined;
      const ringSeconds = settings.agentRingSeconds;
      let rung: Awaited<ReturnType<MediaActivities['ringAgent']>>;
      try {
        rung = await ctx.host.ringAgent({ call, agent, ringSeconds, n: ++ctx.legs });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // The host was lost before or while it rang the agent. Adopted, the same agent is rung again from the new
        // host (the queue still holds the offer for this call, and its deadline waits for the answer); once.
        const adopted = ctx.adoption ? await adopt([`${callId}-agent${ctx.legs}`]) : 'failed';
        try {
          if (adopted !== 'adopted') throw err;
          rung = await ctx.host.ringAgent({ call, agent, ringSeconds, n: ++ctx.legs });
        } catch (again) {
          if (!(again instanceof ActivityFailure)) throw again;
          await queue.signal(leaveQueueSignal, { callId });
          return { kind: adopted === 'gone' ? 'abandoned' : 'lost' };
        }
      }
      if (!rung.answered && rung.reason === 'calleeGone') {
        await queue.signal(leaveQueueSignal, { callId });
        return { kind: 'abandoned' };
      }
      await queue.signal(offerResultSignal, {
        callId,
        agentId: agent.agentId,
        answered: rung.answered,
        ...(rung.answered ? {} : { reason: rung.reason }),
      });
      if (rung.answered) return { kind: 'answered', agentId: agent.agentId };
    }
  } finally {
    watch?.cancel();
  }
}

// ---- The connected phase with in-call controls (seed §5.3: 保持, 转接, 挂断) ----

/** How long an external number may ring before the transfer to it counts as not answered. */
const EXTERNAL_RING_SECONDS = 40;

/** Where a transfer in the connected phase got to; `lost`: the host is lost and no media worker adopted the call. */
type Reached = 'connected' | 'calleeGone' | 'timeout' | 'lost';

interface ControlJob {
  req: CallControlRequest;
  done: boolean;
  refused?: string;
}

/**
 * The call is with a human: a loop that waits (host.awaitCallLegs) for the end of the call or a control command —
 * the `callControl` update, validated here against the call's phase and, for an agent's key, against the agent
 * connected now. A command stops the wait without hanging up (host.interruptCall), then runs as host activities:
 * - hold / resume: the callee leaves the bridge for music on hold (the agent's leg stays up, hearing nothing), and
 *   comes back;
 * - transfer: the current party's leg is hung up (host.releaseParty; the callee hears music), its agent goes to
 *   after-call work through the queue (`transferEnded`), and then: an agent the API reserved is rung directly; a
 *   skill group's queue takes the call like a first transfer; an external number is dialled through the trunk. An
 *   agent or number that does not answer sends the call back to the current skill group's queue;
 * - hang-up: the call ends, ended by the agent (endCall hangs the callee up: hangupBy AGENT).
 * Every command, its activities and its result are in the history; the outcome lists the hand-overs, its `agentId`
 * is the last agent who had the call and its human time runs from the first agent's answer to the end.
 * A host lost meanwhile: in a skill group's queue the call is adopted as in a first transfer (waitForAgent); while a
 * person has it (the wait for the call legs timed out), any media worker adopts the callee's channel and the party's
 * leg and bridges them again (or holds the callee), and the loop goes on on the adopter (patch `connected-adoption`).
 * A host lost while a command rings an agent or dials a number is adopted too, and the call goes back to the skill
 * group's queue (patch `command-adoption`); lost during a command's short steps (a release, hold or resume), the
 * call still ends as lost.
 */
async function runConnected(ctx: TransferCtx, firstAgentId: string): Promise<TransferOutcome> {
  const { input, base } = ctx;
  await input.onConnected?.();
  const { call, settings } = input;
  const callId = call.attemptId;
  const tenantId = call.tenantId;
  let group = base.skillGroupId;
  let agentId: string | null = firstAgentId;
  let lastAgentId = firstAgentId;
  let number: string | null = null;
  /** The connected party's leg (`<attemptId>-agent<n>` or `-ext<n>`); null while none is (being transferred). */
  let partyLeg: string | null = `${callId}-agent${ctx.legs}`;
  let phase: CallControlPhase = 'talking';
  let connectedAt = '';
  const handovers: Handover[] = [];
  const jobs: ControlJob[] = [];
  const queueOf = (skillGroupId: string) => getExternalWorkflowHandle(queueWorkflowId(tenantId, skillGroupId));

  const view = (): CallControlState => ({
    callId,
    phase,
    agentId,
    number,
    skillGroupId: group,
    handovers: handovers.map((h) => ({ ...h })),
  });
  const pending = () => jobs.find((j) => !j.done);
  const refusal = (req: CallControlRequest): string | undefined => {
    const cmd = req.command;
    if (phase === 'ended') return 'the call has ended';
    if (pending()) return 'another command for this call is being carried out';
    if (phase === 'transferring') return 'the call is being transferred';
    if (req.by === 'agent' && (!req.agentId || req.agentId !== agentId))
      return 'the call is not connected with this agent';
    if (cmd.kind === 'hold' && phase === 'held') return 'the call is already on hold';
    if (cmd.kind === 'resume' && phase !== 'held') return 'the call is not on hold';
    if (cmd.kind === 'transferToAgent' && cmd.agent.agentId === agentId)
      return 'the call is already connected with this agent';
    if (cmd.kind === 'transferToNumber' && cmd.number === number)
      return 'the call is already connected with this number';
    return undefined;
  };
  setHandler(callControlQuery, view);
  setHandler(
    callControlUpdate,
    async (req) => {
      const job: ControlJob = { req, done: false };
      jobs.push(job);
      await condition(() => job.done);
      if (job.refused) throw ApplicationFailure.create({ message: job.refused, type: 'CallControlRefused' });
      return view();
    },
    {
      validator: (req: CallControlRequest) => {
        const why = refusal(req);
        if (why) throw new Error(why);
      },
    },
  );
  const refuseAll = (why: string) => {
    for (const j of jobs.filter((x) => !x.done)) Object.assign(j, { done: true, refused: why });
  };

  /** The agent's part of the call is over: after-call work, through the queue that holds the agent. */
  const agentDone = async (id: string) => {
    try {
      await queueOf(group).signal(transferEndedSignal, { callId, agentId: id });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The queue has ended (idle for long): after-call work without its timer (until the agent resumes).
      await queueActs.startAfterCallWork({ tenantId, agentId: id, callId });
    }
  };
  const connected = (endedBy: 'AGENT' | 'USER'): TransferOutcome => ({
    kind: 'connected',
    ...base,
    agentId: lastAgentId,
    endedBy,
    connectedAt,
    ...(handovers.length ? { handovers } : {}),
  });

  /**
   * The host's wait for the call legs timed out: the host is lost. With adoption (histories from before it ended the
   * call as lost: patch `connected-adoption`), any media worker adopts the callee's channel and the party's leg.
   */
  const adoptConnected = async (failed: Error): Promise<'adopted' | 'gone' | 'failed'> => {
    if (!(failed instanceof ActivityFailure) || !(failed.cause instanceof TimeoutFailure)) return 'failed';
    if (!ctx.adoption || !partyLeg || !patched('connected-adoption')) return 'failed';
    const mode = phase === 'held' ? ('hold' as const) : ('talk' as const);
    return adoptCall(ctx, [], { channelId: partyLeg, agentId: agentId ?? `tel:${number}`, mode });
  };

  /** The host is lost (and not adopted): the call ends as lost; its agent, if any, goes to after-call work. */
  const lost = async (): Promise<TransferOutcome> => {
    if (agentId) await agentDone(agentId);
    return { kind: 'lost', ...base, ...(handovers.length ? { handovers } : {}) };
  };

  /**
   * Into a skill group's queue, the same queued phase as a first transfer (waitForAgent: a lost host is adopted
   * there too), until an agent answers (noted in `h`).
   */
  const requeue = async (skillGroupId: string, h: Handover): Promise<Reached> => {
    group = skillGroupId;
    const waited = await waitForAgent(ctx, skillGroupId, { hold: false });
    if (waited.kind === 'abandoned') return 'calleeGone';
    if (waited.kind !== 'answered') return waited.kind;
    agentId = lastAgentId = h.agentId = waited.agentId;
    partyLeg = `${callId}-agent${ctx.legs}`;
    await ctx.host.setCallMode({ call, mode: 'talk' });
    return 'connected';
  };

  /** A target that did not answer: the call goes back to the current skill group's queue (its own hand-over). */
  const fallback = async (): Promise<Reached> => {
    const f: Handover = { at: new Date(Date.now()).toISOString(), to: 'skillGroup', skillGroupId: group, by: 'system' };
    handovers.push(f);
    const r = await requeue(group, f);
    if (r !== 'lost') f.result = r === 'timeout' ? 'noAnswer' : r;
    return r;
  };

  /**
   * The host was lost while a command rang an agent or dialled a number (the ring's heartbeat timed out). With
   * adoption (histories from before ended the call as lost: patch `command-adoption`), any media worker adopts the
   * callee — on hold, the leg being rung hung up — and the call goes back to the current skill group's queue, as
   * for a target that did not answer (the hand-over's result: `failed`). Undefined: not a lost host, or no adoption.
   */
  const adoptDuringRing = async (err: unknown, leg: string, h: Handover): Promise<Reached | undefined> => {
    if (!(err instanceof ActivityFailure) || !(err.cause instanceof TimeoutFailure)) return undefined;
    if (!ctx.adoption || !patched('command-adoption')) return undefined;
    h.result = 'failed';
    const adopted = await adoptCall(ctx, [leg]);
    if (adopted === 'gone') return 'calleeGone';
    return adopted === 'adopted' ? fallback() : 'lost';
  };

  /** After the current party's leg is gone: reach the command's target (or fall back to the queue). */
  const transferTo = async (
    cmd: Extract<CallControlCommand, { kind: `transferTo${string}` }>,
    h: Handover,
  ): Promise<Reached> => {
    if (cmd.kind === 'transferToSkillGroup') return requeue(cmd.skillGroupId, h);
    if (cmd.kind === 'transferToAgent') {
      const target = cmd.agent.agentId;
      let rung: Awaited<ReturnType<MediaActivities['ringAgent']>>;
      try {
        rung = await ctx.host.ringAgent({
          call,
          agent: cmd.agent,
          ringSeconds: settings.agentRingSeconds,
          n: ++ctx.legs,
        });
      } catch (err) {
        if (err instanceof ActivityFailure) await queueActs.withdrawOffer({ tenantId, agentId: target, callId });
        const reached = await adoptDuringRing(err, `${callId}-agent${ctx.legs}`, h);
        if (reached) return reached;
        throw err;
      }
      if (rung.answered) {
        h.result = 'connected';
        agentId = lastAgentId = target;
        partyLeg = `${callId}-agent${ctx.legs}`;
        await ctx.host.setCallMode({ call, mode: 'talk' });
        return 'connected';
      }
      h.result = rung.reason;
      // Rang out or rejected: short break, as for a missed queue offer (agents cannot refuse calls).
      if (rung.reason === 'noAnswer' || rung.reason === 'rejected')
        await queueActs.agentMissed({ tenantId, agentId: target, callId });
      else await queueActs.withdrawOffer({ tenantId, agentId: target, callId });
      return rung.reason === 'calleeGone' ? 'calleeGone' : fallback();
    }
    let dialled: Awaited<ReturnType<MediaActivities['dialExternal']>>;
    try {
      dialled = await ctx.host.dialExternal({
        call,
        number: cmd.number,
        ringSeconds: EXTERNAL_RING_SECONDS,
        n: ++ctx.legs,
      });
    } catch (err) {
      const reached = await adoptDuringRing(err, `${callId}-ext${ctx.legs}`, h);
      if (reached) return reached;
      throw err;
    }
    if (dialled.answered) {
      h.result = 'connected';
      number = cmd.number;
      partyLeg = `${callId}-ext${ctx.legs}`;
      await ctx.host.setCallMode({ call, mode: 'talk' });
      return 'connected';
    }
    h.result = dialled.reason;
    return dialled.reason === 'calleeGone' ? 'calleeGone' : fallback();
  };

  try {
    connectedAt = (await ctx.host.setCallMode({ call, mode: 'talk' })).at;
    for (;;) {
      // Talking or held: until a hang-up, or a command.
      let legsEnd: Awaited<ReturnType<MediaActivities['awaitCallLegs']>> | undefined;
      let failed: Error | undefined;
      const waiting = ctx.host.awaitCallLegs({ call }).then(
        (r) => {
          legsEnd = r;
        },
        (err: unknown) => {
          failed = err instanceof Error ? err : new Error('the wait for the call legs failed');
        },
      );
      await condition(() => legsEnd !== undefined || failed !== undefined || pending() !== undefined);
      if (!legsEnd && failed === undefined) {
        await ctx.host.interruptCall({ call });
        await waiting;
      }
      if (failed !== undefined) {
        // The host is lost while a person has the call: adopted by any media worker with the party's leg, the call
        // goes on there (a command that came meanwhile runs next); the callee gone meanwhile ends it.
        const adopted = await adoptConnected(failed);
        if (adopted === 'adopted') continue;
        if (adopted === 'failed') throw failed;
        phase = 'ended';
        refuseAll('the call has ended');
        if (agentId) await agentDone(agentId);
        return connected('USER');
      }
      if (legsEnd!.kind === 'ended') {
        phase = 'ended';
        refuseAll('the call has ended');
        if (agentId) await agentDone(agentId);
        return connected(legsEnd!.endedBy);
      }
      const job = pending()!;
      const cmd = job.req.command;
      if (cmd.kind === 'hold' || cmd.kind === 'resume') {
        await ctx.host.setCallMode({ call, mode: cmd.kind === 'hold' ? 'hold' : 'talk' });
        phase = cmd.kind === 'hold' ? 'held' : 'talking';
        job.done = true;
        continue;
      }
      if (cmd.kind === 'hangup') {
        await ctx.host.hangUpCall({ call });
        phase = 'ended';
        job.done = true;
        if (agentId) await agentDone(agentId);
        return connected('AGENT');
      }
      // A transfer: the current party's leg ends first (its agent goes to after-call work).
      phase = 'transferring';
      const released = await ctx.host.releaseParty({ call });
      partyLeg = null;
      const from = agentId;
      agentId = null;
      number = null;
      if (from) await agentDone(from);
      const h: Handover = {
        at: released.at,
        ...(from ? { fromAgentId: from } : {}),
        ...(cmd.kind === 'transferToAgent' ? { to: 'agent' as const, agentId: cmd.agent.agentId } : {}),
        ...(cmd.kind === 'transferToSkillGroup' ? { to: 'skillGroup' as const, skillGroupId: cmd.skillGroupId } : {}),
        ...(cmd.kind === 'transferToNumber' ? { to: 'number' as const, number: cmd.number } : {}),
        by: job.req.by,
      } as Handover;
      handovers.push(h);
      job.done = true;
      const reached: Reached = released.calleeGone ? 'calleeGone' : await transferTo(cmd, h);
      if (reached === 'lost') return await lost();
      h.result ??= reached === 'timeout' ? 'noAnswer' : reached;
      if (reached === 'calleeGone') {
        phase = 'ended';
        return connected('USER');
      }
      if (reached === 'timeout') {
        phase = 'ended';
        const timeout: TransferOutcome = { kind: 'timeout', ...base, handovers };
        return timeout;
      }
      phase = 'talking';
    }
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    return await lost();
  } finally {
    phase = 'ended';
    refuseAll('the call has ended');
  }
}
