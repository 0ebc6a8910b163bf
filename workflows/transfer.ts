/**
 * 转人工 inside the call's workflow: the robot's script asked for a skill group. The callee hears music on hold, the
 * call joins the skill group's queue (workflows/skill-group-queue), and each agent the queue offers is rung from here
 * (on the worker holding the channel); the queue hears whether the agent answered. An answered agent is bridged
 * with the callee until one of them hangs up. Every step — the offer, the ring and its result, the bridge — is an
 * activity or a signal in this history and the queue's.
 */
import {
  ActivityFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { createMediaActivities } from '../activities/media-activities';
import type { createQueueActivities } from '../activities/queue-activities';
import { queueWorkflowId } from '../src/ids';
import {
  agentOfferedSignal,
  leaveQueueSignal,
  offerResultSignal,
  queueTimeoutSignal,
  transferEndedSignal,
  type AgentOffer,
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
}

export async function runTransfer(input: TransferInput): Promise<TransferOutcome> {
  const { call, skillGroupId, settings } = input;
  const callId = call.attemptId;
  const base = { skillGroupId, startedAt: new Date(Date.now()).toISOString() };
  const host = proxyActivities<MediaActivities>({
    taskQueue: input.hostQueue,
    scheduleToStartTimeout: '15 seconds',
    // A transferred call may talk for as long as a call may last (seed: 1800 s by default) and then some.
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '20 seconds',
    retry: { maximumAttempts: 1 },
  });
  const queue = getExternalWorkflowHandle(queueWorkflowId(call.tenantId, skillGroupId));

  let offer: AgentOffer | undefined;
  let timedOut = false;
  let calleeGone = false;
  setHandler(agentOfferedSignal, (o) => {
    offer = o;
  });
  setHandler(queueTimeoutSignal, () => {
    timedOut = true;
  });

  try {
    await host.startHold({ call });
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

  // While the callee waits, watch for a hang-up (cancelled once the wait is over).
  const watch = new CancellationScope();
  void watch
    .run(() => host.watchCallee({ call }))
    .then(
      () => {
        calleeGone = true;
      },
      () => undefined,
    );
  try {
    for (let n = 1; ; n++) {
      await condition(() => offer !== undefined || timedOut || calleeGone);
      if (calleeGone && !offer) {
        await queue.signal(leaveQueueSignal, { callId });
        return { kind: 'abandoned', ...base };
      }
      if (timedOut && !offer) return { kind: 'timeout', ...base };
      const agent = offer!;
      offer = undefined;
      let rung: Awaited<ReturnType<MediaActivities['ringAgent']>>;
      try {
        rung = await host.ringAgent({ call, agent, ringSeconds: settings.agentRingSeconds, n });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        await queue.signal(leaveQueueSignal, { callId });
        return { kind: 'lost', ...base };
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
