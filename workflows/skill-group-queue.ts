/**
 * The transfer queue of one skill group (workflow id `queue/{tenantId}/{skillGroupId}`): an entity workflow whose
 * every decision is in its history. Calls join by signal (the first one starts it, through signalWithStart); the
 * queue offers the oldest waiting call to the group's longest-idle online agent, reserving the agent in MongoDB by a
 * compare-and-set so that two transfers — even from two skill groups that share the agent — never reach the same
 * person. The call's own workflow rings the agent and reports back:
 * - answered → the agent is on the call until `transferEnded`, then in after-call work, which ends by itself after
 *   the agent's setting (or lasts until the agent resumes when that is off);
 * - not answered in time, or rejected (agents cannot refuse calls) → that agent goes on short break (小休) and the
 *   call is offered to the next agent;
 * - nobody took it before its deadline → the call is told to give up (`queueTimeout`);
 * - the callee hung up → `leaveQueue`, and an agent reserved for it is freed.
 * The state is small and carried across continue-as-new.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createQueueActivities } from '../activities/queue-activities';
import {
  agentOfferedSignal,
  enqueueCallSignal,
  leaveQueueSignal,
  offerResultSignal,
  queueProgressQuery,
  queueTimeoutSignal,
  transferEndedSignal,
  type SkillGroupQueueInput,
  type SkillGroupQueueState,
} from './definitions';

const acts = proxyActivities<ReturnType<typeof createQueueActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
});

/** How often the queue looks again for a free agent while calls wait and nobody is free. */
const POLL_MS = 2_000;
/** Continue-as-new after this many events, once nothing is mid-decision. */
const HISTORY_EVENT_LIMIT = 5_000;
/** An idle queue ends after this long (the next transfer starts it again). */
const IDLE_MS = 10 * 60_000;

export async function skillGroupQueueWorkflow(input: SkillGroupQueueInput): Promise<void> {
  const { tenantId, skillGroupId } = input;
  const state: SkillGroupQueueState = input.state ?? { waiting: [], holds: [], generation: 0 };
  const missed: { agentId: string; callId: string }[] = [];
  const withdrawn: { agentId: string; callId: string }[] = [];
  const ended: { agentId: string; callId: string }[] = [];
  let dirty = false;

  setHandler(enqueueCallSignal, ({ callId, contactWorkflowId, timeoutMs }) => {
    if (state.waiting.some((c) => c.callId === callId)) return;
    const now = Date.now();
    state.waiting.push({ callId, contactWorkflowId, enqueuedAt: now, deadline: now + timeoutMs, tried: [] });
    dirty = true;
  });
  setHandler(offerResultSignal, ({ callId, agentId, answered }) => {
    const call = state.waiting.find((c) => c.callId === callId);
    const hold = state.holds.find((h) => h.agentId === agentId && h.callId === callId);
    if (answered) {
      state.waiting = state.waiting.filter((c) => c.callId !== callId);
      if (hold) hold.phase = 'talking';
    } else {
      state.holds = state.holds.filter((h) => h !== hold);
      missed.push({ agentId, callId });
      if (call) {
        call.tried.push(agentId);
        delete call.offeredTo;
      }
    }
    dirty = true;
  });
  setHandler(transferEndedSignal, ({ callId, agentId }) => {
    state.holds = state.holds.filter((h) => !(h.agentId === agentId && h.callId === callId));
    ended.push({ agentId, callId });
    dirty = true;
  });
  setHandler(leaveQueueSignal, ({ callId }) => {
    const call = state.waiting.find((c) => c.callId === callId);
    state.waiting = state.waiting.filter((c) => c.callId !== callId);
    const hold = state.holds.find((h) => h.callId === callId && h.phase === 'offered');
    if (hold) {
      state.holds = state.holds.filter((h) => h !== hold);
      withdrawn.push({ agentId: hold.agentId, callId });
    } else if (call?.offeredTo) withdrawn.push({ agentId: call.offeredTo, callId });
    dirty = true;
  });
  setHandler(queueProgressQuery, () => ({
    waiting: state.waiting.map((c) => ({
      callId: c.callId,
      since: new Date(c.enqueuedAt).toISOString(),
      ...(c.offeredTo ? { offeredTo: c.offeredTo } : {}),
    })),
    holds: state.holds.map((h) => ({ ...h })),
  }));

  let idleSince = Date.now();
  for (;;) {
    dirty = false;
    const now = Date.now();

    // Agents whose offer failed go on short break; offers withdrawn free the agent; ended calls start 话后处理.
    for (const m of missed.splice(0)) await acts.agentMissed({ tenantId, ...m });
    for (const w of withdrawn.splice(0)) await acts.withdrawOffer({ tenantId, ...w });
    for (const e of ended.splice(0)) {
      const seconds = await acts.startAfterCallWork({ tenantId, ...e });
      state.holds.push({
        agentId: e.agentId,
        callId: e.callId,
        phase: 'afterCallWork',
        ...(seconds !== null ? { until: now + seconds * 1000 } : {}),
      });
    }
    for (const h of state.holds.filter((x) => x.phase === 'afterCallWork')) {
      if (h.until === undefined) {
        // Until the agent resumes by hand: the queue has nothing more to do for this agent.
        state.holds = state.holds.filter((x) => x !== h);
      } else if (h.until <= now) {
        await acts.endAfterCallWork({ tenantId, agentId: h.agentId });
        state.holds = state.holds.filter((x) => x !== h);
      }
    }

    // Calls whose deadline passed give up (unless an agent's phone is ringing for them right now).
    for (const call of state.waiting.filter((c) => c.deadline <= now && !c.offeredTo)) {
      state.waiting = state.waiting.filter((c) => c !== call);
      await getExternalWorkflowHandle(call.contactWorkflowId).signal(queueTimeoutSignal);
    }

    // Offer the oldest waiting calls to the longest-idle agents, while there are both.
    let agentsLeft = true;
    for (const call of state.waiting) {
      if (call.offeredTo || !agentsLeft) continue;
      const offer = await acts.reserveAgent({ tenantId, skillGroupId, callId: call.callId, exclude: call.tried });
      if (!offer) {
        agentsLeft = false;
        continue;
      }
      call.offeredTo = offer.agentId;
      state.holds.push({ agentId: offer.agentId, callId: call.callId, phase: 'offered' });
      await getExternalWorkflowHandle(call.contactWorkflowId).signal(agentOfferedSignal, offer);
    }

    if (state.waiting.length || state.holds.length) idleSince = Date.now();
    const busy = state.waiting.length > 0 || state.holds.length > 0;
    if (!busy && Date.now() - idleSince >= IDLE_MS && allHandlersFinished()) return;
    if (workflowInfo().historyLength > HISTORY_EVENT_LIMIT && !dirty && allHandlersFinished()) {
      await continueAsNew<typeof skillGroupQueueWorkflow>({
        tenantId,
        skillGroupId,
        state: { ...state, generation: state.generation + 1 },
      });
    }

    // Sleep until something happens: a signal, the next deadline or after-call-work end, or the next poll for agents.
    const wakeAt = [
      ...state.waiting.filter((c) => !c.offeredTo).map((c) => c.deadline),
      ...state.holds.flatMap((h) => (h.until !== undefined ? [h.until] : [])),
      ...(state.waiting.some((c) => !c.offeredTo) ? [Date.now() + POLL_MS] : []),
      ...(busy ? [] : [idleSince + IDLE_MS]),
    ];
    // Nothing timed (every call is being rung or talked to): wait for the next signal only.
    if (wakeAt.length === 0) await condition(() => dirty);
    else await condition(() => dirty, Math.max(1, Math.min(...wakeAt) - Date.now()));
  }
}
