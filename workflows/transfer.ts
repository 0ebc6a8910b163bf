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
  type TransferHandovers,
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
   * while the callee waits for an agent or an agent's phone rings — the shared media task queue, and the call as it
   * was placed and answered. Without it, a lost host ends the transfer as `lost`.
   */
  adoption?: Omit<AdoptCallInput, 'lostHost' | 'hangUp'> & { mediaQueue: string };
  /** Told the host queue of a worker that adopted the call: whatever follows the transfer runs there. */
  onHostChanged?: (hostQueue: string) => void;
}

export async function runTransfer(input: TransferInput): Promise<TransferOutcome> {
  const { call, skillGroupId, settings } = input;
  const callId = call.attemptId;
  const base = { skillGroupId, startedAt: new Date(Date.now()).toISOString() };
  const hostAt = (taskQueue: string) =>
    proxyActivities<MediaActivities>({
      taskQueue,
      scheduleToStartTimeout: '15 seconds',
      // A transferred call may talk for as long as a call may last (seed: 1800 s by default) and then some.
      startToCloseTimeout: '2 hours',
      heartbeatTimeout: '20 seconds',
      retry: { maximumAttempts: 1 },
    });
  /** The worker holding the channel; another one after an adoption. */
  let hostQueue = input.hostQueue;
  let host = hostAt(hostQueue);
  const queue = getExternalWorkflowHandle(queueWorkflowId(call.tenantId, skillGroupId));

  let offer: AgentOffer | undefined;
  let timedOut = false;
  let calleeGone = false;
  /** The host's watch of the callee failed (not cancelled): the host is lost (only noted with `adoption`). */
  let hostLost = false;
  // Histories from before adoption ended the transfer as lost when the host was: patch `transfer-adoption`.
  const adoption = input.adoption && patched('transfer-adoption') ? input.adoption : undefined;

  // While the callee waits, watch for a hang-up (cancelled once the wait is over, or replaced after an adoption).
  let watch = new CancellationScope();
  let watching = false;
  const startWatch = () => {
    watch.cancel();
    const scope = new CancellationScope();
    watch = scope;
    watching = true;
    void scope
      .run(() => host.watchCallee({ call }))
      .then(
        () => {
          if (watch === scope) calleeGone = true;
        },
        (err: unknown) => {
          if (watch === scope && adoption && !isCancellation(err)) hostLost = true;
        },
      );
  };

  /**
   * The host is lost (one of its activities timed out: the process died, or lost Temporal). Any media worker adopts
   * the channel (adoptCall, in this history with its answer); the transfer goes on on the adopter's host queue, which
   * the call's workflow is told too. `gone`: the callee hung up meanwhile. `failed`: no worker could adopt it.
   * `hangUp`: legs the lost host had started (an agent's phone it was ringing).
   */
  const adopt = async (hangUp: string[] = []): Promise<'adopted' | 'gone' | 'failed'> => {
    if (!adoption) return 'failed';
    const { mediaQueue, ...adoptee } = adoption;
    const media = proxyActivities<MediaActivities>({
      taskQueue: mediaQueue,
      // Waits for a media worker to come (back) up, a while: the callee hears silence meanwhile.
      scheduleToCloseTimeout: '10 minutes',
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
    });
    watch.cancel();
    let adopted: Awaited<ReturnType<MediaActivities['adoptCall']>>;
    try {
      adopted = await media.adoptCall({ ...adoptee, lostHost: hostQueue, hangUp });
    } catch (err) {
      if (err instanceof ActivityFailure) return 'failed';
      throw err;
    }
    hostQueue = adopted.hostQueue;
    host = hostAt(hostQueue);
    input.onHostChanged?.(hostQueue);
    if (adopted.kind === 'gone') return 'gone';
    hostLost = false;
    startWatch();
    return 'adopted';
  };
  setHandler(agentOfferedSignal, (o) => {
    offer = o;
  });
  setHandler(queueTimeoutSignal, () => {
    timedOut = true;
  });

  try {
    try {
      await host.startHold({ call });
    } catch (err) {
      // Lost before the callee joined the queue: adopted, the adopter's music plays (adoptCall starts it).
      if (!(err instanceof ActivityFailure) || !adoption) throw err;
      const adopted = await adopt();
      if (adopted !== 'adopted') return { kind: adopted === 'gone' ? 'abandoned' : 'lost', ...base };
    }
    await queueActs.enqueueTransfer({
      tenantId: call.tenantId,
      skillGroupId,
      callId,
      contactWorkflowId: input.contactWorkflowId,
      timeoutMs: settings.queueTimeoutSeconds * 1000,
    });
  } catch (err) {
    if (err instanceof ActivityFailure) return { kind: 'lost', ...base };
    throw err;
  }

  if (!watching) startWatch();
  try {
    for (let n = 1; ; n++) {
      await condition(() => offer !== undefined || timedOut || calleeGone || hostLost);
      if (calleeGone && !offer) {
        await queue.signal(leaveQueueSignal, { callId });
        return { kind: 'abandoned', ...base };
      }
      if (timedOut && !offer) {
        // The prompt and the hang-up that follow need a host: adopt the call first if its host is lost.
        const adopted = hostLost ? await adopt() : 'adopted';
        return { kind: adopted === 'gone' ? 'abandoned' : adopted === 'failed' ? 'lost' : 'timeout', ...base };
      }
      if (hostLost) {
        // The host was lost while the callee waited; the queue keeps the call (its deadline, or an agent it offered)
        // meanwhile.
        const adopted = await adopt();
        if (adopted !== 'adopted') {
          await queue.signal(leaveQueueSignal, { callId });
          return { kind: adopted === 'gone' ? 'abandoned' : 'lost', ...base };
        }
        if (!offer) continue;
      }
      const agent = offer!;
      offer = undefined;
      let rung: Awaited<ReturnType<MediaActivities['ringAgent']>>;
      try {
        rung = await host.ringAgent({ call, agent, ringSeconds: settings.agentRingSeconds, n });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // The host was lost before or while it rang the agent. Adopted, the same agent is rung again from the new
        // host (the queue still holds the offer for this call, and its deadline waits for the answer); once.
        const adopted = adoption ? await adopt([`${callId}-agent${n}`]) : 'failed';
        try {
          if (adopted !== 'adopted') throw err;
          rung = await host.ringAgent({ call, agent, ringSeconds: settings.agentRingSeconds, n: ++n });
        } catch (again) {
          if (!(again instanceof ActivityFailure)) throw again;
          await queue.signal(leaveQueueSignal, { callId });
          return { kind: adopted === 'gone' ? 'abandoned' : 'lost', ...base };
        }
      }
      if (!rung.answered && rung.reason === 'calleeGone') {
        await queue.signal(leaveQueueSignal, { callId });
        return { kind: 'abandoned', ...base };
      }
      await queue.signal(offerResultSignal, {
        callId,
        agentId: agent.agentId,
        answered: rung.answered,
        ...(rung.answered ? {} : { reason: rung.reason }),
      });
      if (!rung.answered) continue;
      watch.cancel();
      // In-call controls (hold, transfer, hang-up): the connected phase is a loop of waits and commands. Histories
      // from before it ran one long bridgeAgent activity: patch `call-controls`.
      if (patched('call-controls')) return await runConnected({ input, host, base, agentId: agent.agentId, rung: n });
      try {
        const talk = await host.bridgeAgent({ call });
        return { kind: 'connected', ...base, agentId: agent.agentId, ...talk };
      } catch (err) {
        if (err instanceof ActivityFailure) return { kind: 'lost', ...base };
        throw err;
      } finally {
        await queue.signal(transferEndedSignal, { callId, agentId: agent.agentId });
      }
    }
  } finally {
    watch.cancel();
  }
}

// ---- The connected phase with in-call controls (seed §5.3: 保持, 转接, 挂断) ----

/** How long an external number may ring before the transfer to it counts as not answered. */
const EXTERNAL_RING_SECONDS = 40;

interface ConnectedStart {
  input: TransferInput;
  host: ActivityInterfaceFor<MediaActivities>;
  base: { skillGroupId: string; startedAt: string };
  /** The agent who answered the transfer. */
  agentId: string;
  /** Agent legs rung so far: the next leg is `<attemptId>-agent<rung + 1>`. */
  rung: number;
}

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
 */
async function runConnected(start: ConnectedStart): Promise<TransferOutcome> {
  const { input, host, base } = start;
  const { call, settings } = input;
  const callId = call.attemptId;
  const tenantId = call.tenantId;
  let legs = start.rung;
  let group = base.skillGroupId;
  let agentId: string | null = start.agentId;
  let lastAgentId = start.agentId;
  let number: string | null = null;
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
  const connected = (endedBy: 'AGENT' | 'USER'): TransferOutcome & TransferHandovers => ({
    kind: 'connected',
    ...base,
    agentId: lastAgentId,
    endedBy,
    connectedAt,
    ...(handovers.length ? { handovers } : {}),
  });

  /** Into a skill group's queue (the same rules as a first transfer) until an agent answers (noted in `h`). */
  const requeue = async (skillGroupId: string, h: Handover): Promise<'connected' | 'calleeGone' | 'timeout'> => {
    group = skillGroupId;
    const queue = queueOf(skillGroupId);
    let offer: AgentOffer | undefined;
    let timedOut = false;
    let gone = false;
    setHandler(agentOfferedSignal, (o) => {
      offer = o;
    });
    setHandler(queueTimeoutSignal, () => {
      timedOut = true;
    });
    await queueActs.enqueueTransfer({
      tenantId,
      skillGroupId,
      callId,
      contactWorkflowId: input.contactWorkflowId,
      timeoutMs: settings.queueTimeoutSeconds * 1000,
    });
    const watch = new CancellationScope();
    void watch
      .run(() => host.watchCallee({ call }))
      .then(
        () => {
          gone = true;
        },
        () => undefined,
      );
    try {
      for (;;) {
        await condition(() => offer !== undefined || timedOut || gone);
        if (gone && !offer) {
          await queue.signal(leaveQueueSignal, { callId });
          return 'calleeGone';
        }
        if (timedOut && !offer) return 'timeout';
        const agent = offer!;
        offer = undefined;
        let rung: Awaited<ReturnType<MediaActivities['ringAgent']>>;
        try {
          rung = await host.ringAgent({ call, agent, ringSeconds: settings.agentRingSeconds, n: ++legs });
        } catch (err) {
          if (err instanceof ActivityFailure) await queue.signal(leaveQueueSignal, { callId });
          throw err;
        }
        if (!rung.answered && rung.reason === 'calleeGone') {
          await queue.signal(leaveQueueSignal, { callId });
          return 'calleeGone';
        }
        await queue.signal(offerResultSignal, {
          callId,
          agentId: agent.agentId,
          answered: rung.answered,
          ...(rung.answered ? {} : { reason: rung.reason }),
        });
        if (!rung.answered) continue;
        watch.cancel();
        agentId = lastAgentId = h.agentId = agent.agentId;
        await host.setCallMode({ call, mode: 'talk' });
        return 'connected';
      }
    } finally {
      watch.cancel();
    }
  };

  /** A target that did not answer: the call goes back to the current skill group's queue (its own hand-over). */
  const fallback = async (): Promise<'connected' | 'calleeGone' | 'timeout'> => {
    const f: Handover = { at: new Date(Date.now()).toISOString(), to: 'skillGroup', skillGroupId: group, by: 'system' };
    handovers.push(f);
    const r = await requeue(group, f);
    f.result = r === 'timeout' ? 'noAnswer' : r;
    return r;
  };

  /** After the current party's leg is gone: reach the command's target (or fall back to the queue). */
  const transferTo = async (
    cmd: Extract<CallControlCommand, { kind: `transferTo${string}` }>,
    h: Handover,
  ): Promise<'connected' | 'calleeGone' | 'timeout'> => {
    if (cmd.kind === 'transferToSkillGroup') return requeue(cmd.skillGroupId, h);
    if (cmd.kind === 'transferToAgent') {
      const target = cmd.agent.agentId;
      let rung: Awaited<ReturnType<MediaActivities['ringAgent']>>;
      try {
        rung = await host.ringAgent({ call, agent: cmd.agent, ringSeconds: settings.agentRingSeconds, n: ++legs });
      } catch (err) {
        if (err instanceof ActivityFailure) await queueActs.withdrawOffer({ tenantId, agentId: target, callId });
        throw err;
      }
      if (rung.answered) {
        h.result = 'connected';
        agentId = lastAgentId = target;
        await host.setCallMode({ call, mode: 'talk' });
        return 'connected';
      }
      h.result = rung.reason;
      // Rang out or rejected: short break, as for a missed queue offer (agents cannot refuse calls).
      if (rung.reason === 'noAnswer' || rung.reason === 'rejected')
        await queueActs.agentMissed({ tenantId, agentId: target, callId });
      else await queueActs.withdrawOffer({ tenantId, agentId: target, callId });
      return rung.reason === 'calleeGone' ? 'calleeGone' : fallback();
    }
    const dialled = await host.dialExternal({
      call,
      number: cmd.number,
      ringSeconds: EXTERNAL_RING_SECONDS,
      n: ++legs,
    });
    if (dialled.answered) {
      h.result = 'connected';
      number = cmd.number;
      await host.setCallMode({ call, mode: 'talk' });
      return 'connected';
    }
    h.result = dialled.reason;
    return dialled.reason === 'calleeGone' ? 'calleeGone' : fallback();
  };

  try {
    connectedAt = (await host.setCallMode({ call, mode: 'talk' })).at;
    for (;;) {
      // Talking or held: until a hang-up, or a command.
      let legsEnd: Awaited<ReturnType<MediaActivities['awaitCallLegs']>> | undefined;
      let failed: Error | undefined;
      const waiting = host.awaitCallLegs({ call }).then(
        (r) => {
          legsEnd = r;
        },
        (err: unknown) => {
          failed = err instanceof Error ? err : new Error('the wait for the call legs failed');
        },
      );
      await condition(() => legsEnd !== undefined || failed !== undefined || pending() !== undefined);
      if (!legsEnd && failed === undefined) {
        await host.interruptCall({ call });
        await waiting;
      }
      if (failed !== undefined) throw failed;
      if (legsEnd!.kind === 'ended') {
        phase = 'ended';
        refuseAll('the call has ended');
        if (agentId) await agentDone(agentId);
        return connected(legsEnd!.endedBy);
      }
      const job = pending()!;
      const cmd = job.req.command;
      if (cmd.kind === 'hold' || cmd.kind === 'resume') {
        await host.setCallMode({ call, mode: cmd.kind === 'hold' ? 'hold' : 'talk' });
        phase = cmd.kind === 'hold' ? 'held' : 'talking';
        job.done = true;
        continue;
      }
      if (cmd.kind === 'hangup') {
        await host.hangUpCall({ call });
        phase = 'ended';
        job.done = true;
        if (agentId) await agentDone(agentId);
        return connected('AGENT');
      }
      // A transfer: the current party's leg ends first (its agent goes to after-call work).
      phase = 'transferring';
      const released = await host.releaseParty({ call });
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
      const reached = released.calleeGone ? 'calleeGone' : await transferTo(cmd, h);
      h.result ??= reached === 'timeout' ? 'noAnswer' : reached;
      if (reached === 'calleeGone') {
        phase = 'ended';
        return connected('USER');
      }
      if (reached === 'timeout') {
        phase = 'ended';
        const timeout: TransferOutcome & TransferHandovers = { kind: 'timeout', ...base, handovers };
        return timeout;
      }
      phase = 'talking';
    }
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    if (agentId) await agentDone(agentId);
    const lost: TransferOutcome & TransferHandovers = {
      kind: 'lost',
      ...base,
      ...(handovers.length ? { handovers } : {}),
    };
    return lost;
  } finally {
    phase = 'ended';
    refuseAll('the call has ended');
  }
}
