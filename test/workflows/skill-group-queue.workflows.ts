/**
 * The workflow bundle of test/workflows/skill-group-queue.spec.ts: every real workflow (workflows/index.ts, with
 * skillGroupQueueWorkflow) plus `queueCallerDouble`, a test double of the transferred call's side of the queue
 * protocol (workflows/transfer.ts without the media): after `delayMs` it joins the queue through the
 * `enqueueTransfer` activity (signal-with-start, as a real transfer does), answers or misses each offer as told (or as
 * the agent's phone would, given the offer's auto-answer seconds), talks
 * for a while and reports the end, and records when the queue offered it an agent or told it to give up.
 */
import {
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { createQueueActivities } from '../../activities/queue-activities';
import {
  agentOfferedSignal,
  offerResultSignal,
  queueTimeoutSignal,
  transferEndedSignal,
  type AgentOffer,
} from '../../workflows/definitions';

export * from '../../workflows';

const acts = proxyActivities<ReturnType<typeof createQueueActivities>>({ startToCloseTimeout: '10 seconds' });

export interface CallerDoubleInput {
  tenantId: string;
  skillGroupId: string;
  queueWorkflowId: string;
  /** Workflow time to wait before joining the queue (orders the callers). */
  delayMs: number;
  callId: string;
  timeoutMs: number;
  /** Per offer, in order: the agent answers (true) or lets it ring / rejects (false); missing = false. */
  answers: boolean[];
  /**
   * Instead of `answers`, simulate the agents' phones in workflow time: a phone told to auto-answer after N s (the
   * offer's `autoAnswerSeconds`, sent as Call-Info answer-after) answers N s after it starts ringing; one that is not
   * rings `ringMs` (the seed's 30 s) unanswered, which the call reports as a miss.
   */
  phones?: { ringMs: number };
  /** How long a connected call lasts. */
  talkMs: number;
}

export interface CallerDoubleResult {
  /** Workflow time (epoch ms) of joining the queue. */
  enqueuedAt: number;
  offers: { agentId: string; at: number; autoAnswerSeconds: number | null }[];
  /** When the agent's phone answered (workflow time). */
  answeredAt?: number;
  /** The agent who took the call. */
  connected?: string;
  /** When the queue told the call to give up. */
  timedOutAt?: number;
}

export async function queueCallerDouble(input: CallerDoubleInput): Promise<CallerDoubleResult> {
  const offers: CallerDoubleResult['offers'] = [];
  let pending: AgentOffer | undefined;
  let timedOutAt: number | undefined;
  setHandler(agentOfferedSignal, (o) => {
    pending = o;
    offers.push({ agentId: o.agentId, at: Date.now(), autoAnswerSeconds: o.autoAnswerSeconds });
  });
  setHandler(queueTimeoutSignal, () => {
    timedOutAt = Date.now();
  });
  if (input.delayMs > 0) await sleep(input.delayMs);
  const enqueuedAt = Date.now();
  await acts.enqueueTransfer({
    tenantId: input.tenantId,
    skillGroupId: input.skillGroupId,
    callId: input.callId,
    contactWorkflowId: workflowInfo().workflowId,
    timeoutMs: input.timeoutMs,
  });
  const queue = getExternalWorkflowHandle(input.queueWorkflowId);
  for (let n = 0; ; n++) {
    await condition(() => pending !== undefined || timedOutAt !== undefined);
    if (!pending) return { enqueuedAt, offers, ...(timedOutAt !== undefined ? { timedOutAt } : {}) };
    const offer = pending;
    pending = undefined;
    let answered = input.answers[n] ?? false;
    if (input.phones) {
      const auto = offer.autoAnswerSeconds;
      answered = auto !== null && auto * 1000 < input.phones.ringMs;
      await sleep(answered ? auto! * 1000 : input.phones.ringMs);
    }
    await queue.signal(offerResultSignal, { callId: input.callId, agentId: offer.agentId, answered });
    if (answered) {
      const answeredAt = Date.now();
      await sleep(input.talkMs);
      await queue.signal(transferEndedSignal, { callId: input.callId, agentId: offer.agentId });
      return { enqueuedAt, offers, connected: offer.agentId, answeredAt };
    }
  }
}
