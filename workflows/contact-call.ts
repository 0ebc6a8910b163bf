/**
 * One contact's life in a campaign (workflow id `task/{taskId}/contact/{index}`): wait for an opening in the
 * contact's own calendar, ask the campaign for a seat, dial, give the seat back, record the outcome, redial per the
 * task's retry policy, and finally tell the campaign the contact is done. Its history is the contact's whole story;
 * the robot's dialog and the transfer to an agent (workflows/robot-dialog, workflows/transfer) run here too, turn by turn.
 *
 * The dial runs on the media task queue (the processes holding an ARI connection) and re-checks the calendar just
 * before originating, so a late activity never rings a phone in a closed period.
 */
import {
  ActivityFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createCampaignActivities } from '../activities/campaign-activities';
import type { createMediaActivities } from '../activities/media-activities';
import { closedReason, isOpenAt, nextOpening } from '../src/calendar';
import { CALL_RESULT_LABELS } from '../src/call-result';
import { attemptId } from '../src/ids';
import { endAnsweredCall, runDialog, sayGoodbye } from './robot-dialog';
import { runTransfer } from './transfer';
import { WAIHU_STATUS } from './search-attributes';
import {
  cancelContactSignal,
  contactFinishedSignal,
  seatGrantedSignal,
  seatReleaseSignal,
  seatRequestSignal,
  type AttemptOutcome,
  type ContactCallInput,
  type ContactCallResult,
  type ContactSkip,
  type PlaceCallInput,
  type PlaceCallResult,
  type TransferOutcome,
  DEFAULT_TRANSFER,
} from './definitions';

const acts = proxyActivities<ReturnType<typeof createCampaignActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Upper bound of one dial activity: ring timeout + maximum call duration (1800 s) + margin. */
const DIAL_TIMEOUT = '40 minutes';

export async function contactCallWorkflow(input: ContactCallInput): Promise<ContactCallResult> {
  const { task, contact } = input;
  const media = proxyActivities<ReturnType<typeof createMediaActivities>>({
    taskQueue: task.mediaTaskQueue,
    startToCloseTimeout: DIAL_TIMEOUT,
    heartbeatTimeout: '20 seconds',
    // Safe to retry: the attempt id is the channel id and the call record's key (see activities/media-activities).
    retry: { initialInterval: '2 seconds', maximumAttempts: 5 },
  });
  const campaign = getExternalWorkflowHandle(input.campaignWorkflowId);
  const calendar = contact.timezone ? { ...task.calendar, timezone: contact.timezone } : task.calendar;

  let granted = false;
  let cancelled = false;
  const showStatus = (value: string) => {
    if (task.searchAttributes) upsertSearchAttributes([{ key: WAIHU_STATUS, value }]);
  };
  setHandler(seatGrantedSignal, () => {
    granted = true;
  });
  setHandler(cancelContactSignal, () => {
    cancelled = true;
  });

  /**
   * Since the `wait-reasons` patch, every durable wait's timer carries its reason in the history (the timer's
   * summary, shown by the Temporal UI and read by the call timeline), and the status shows it too. Histories from
   * before the patch replay with the plain timed condition they were recorded with.
   */
  const reasons = patched('wait-reasons');
  const wait = async (ms: number, reason: string): Promise<void> => {
    if (!reasons) {
      await condition(() => cancelled, ms);
      return;
    }
    showStatus(reason.startsWith('closed') ? 'WAITING_WINDOW' : 'WAITING');
    await CancellationScope.cancellable(async () => {
      try {
        await Promise.race([sleep(ms, { summary: `waiting: ${reason}` }), condition(() => cancelled)]);
      } finally {
        CancellationScope.current().cancel();
      }
    });
  };

  let final: AttemptOutcome | undefined;
  let skipped: ContactSkip | undefined;
  let attempt = 1;
  try {
    if (contact.doNotCall) skipped = 'DO_NOT_CALL';
    while (!skipped && attempt <= task.retry.maxRetries + 1 && !cancelled) {
      const opening = nextOpening(calendar, Date.now());
      if (!opening) {
        skipped = 'NO_OPENING';
        break;
      }
      if (opening.start > Date.now()) {
        await wait(opening.start - Date.now(), `closed: ${closedReason(calendar, Date.now()) ?? 'no opening'}`);
        continue;
      }

      granted = false;
      if (reasons) showStatus('WAITING_SEAT');
      await campaign.signal(seatRequestSignal, contact.index);
      await condition(() => granted || cancelled);
      if (!granted) break; // cancelled while waiting for a seat
      let placed: PlaceCallResult;
      try {
        // Waiting for a seat may have taken long: re-check the calendar before dialling.
        if (!isOpenAt(calendar, Date.now())) continue;
        showStatus('DIALLING');
        const place: PlaceCallInput = {
          tenantId: task.tenantId,
          taskId: task.taskId,
          contactIndex: contact.index,
          attempt,
          attemptId: attemptId(task.taskId, contact.index, attempt),
          phone: contact.phone,
          prompt: task.prompt,
          calendar,
          ...(task.callerNumber ? { callerNumber: task.callerNumber } : {}),
          ...(task.callerNumbers?.length ? { callerNumbers: task.callerNumbers } : {}),
          ...(task.script ? { script: task.script } : {}),
          ...(task.amd ? { amd: true } : {}),
        };
        placed = await dial(media.placeCall, place);
        if (placed.kind === 'answered' && task.script) {
          // The robot's dialog runs here, turn by turn; the seat stays taken until the call ends or an agent has it.
          showStatus('IN_CALL');
          let run = await runDialog({
            hostQueue: placed.hostQueue,
            call: { tenantId: task.tenantId, attemptId: place.attemptId, script: task.script },
            script: placed.script,
            variables: contact.variables,
          });
          // 转人工: the script handed the callee to a skill group's agents.
          const turns = [...run.turns];
          let transfer: TransferOutcome | undefined;
          let backToRobot = 0;
          // Histories from before the transfer existed went straight to the hang-up: patch `human-transfer`.
          while (run.end.kind === 'transfer' && run.end.skillGroupId && patched('human-transfer')) {
            showStatus('TRANSFERRING');
            const call = { tenantId: task.tenantId, attemptId: place.attemptId, script: task.script };
            const settings = task.transfer ?? DEFAULT_TRANSFER;
            transfer = await runTransfer({
              hostQueue: placed.hostQueue,
              call,
              skillGroupId: run.end.skillGroupId,
              contactWorkflowId: workflowInfo().workflowId,
              settings,
              // A lost host's call is adopted by any media worker (patch `transfer-adoption` in runTransfer); what
              // follows the transfer (the prompt, the robot, the end) then runs on the adopter's host queue.
              adoption: {
                mediaQueue: task.mediaTaskQueue,
                place,
                startedAt: placed.startedAt,
                answeredAt: placed.answeredAt,
                ...(placed.amd ? { amd: placed.amd } : {}),
              },
              onHostChanged: (hostQueue) => {
                if (placed.kind === 'answered') placed.hostQueue = hostQueue;
              },
              // An agent has the callee: the AI seat (the robot's concurrency) is free for the next call while the
              // person talks. Histories from before kept the seat to the end: patch `free-seat-at-handover`.
              onConnected: async () => {
                if (patched('free-seat-at-handover')) await campaign.signal(seatReleaseSignal, contact.index);
              },
            });
            if (transfer.kind !== 'timeout') break;
            await sayGoodbye(placed.hostQueue, call, settings.timeoutPrompt);
            // The task's fallback: hang up, or back to the robot at its fallback flow (once per call; a second
            // transfer that finds nobody hangs up). No patch needed: histories from before the setting never get here.
            if (settings.onQueueTimeout !== 'robot' || !settings.fallbackFlowId || backToRobot++ > 0) break;
            transfer = { ...transfer, backToRobotAt: new Date(Date.now()).toISOString() };
            showStatus('IN_CALL');
            run = await runDialog({
              hostQueue: placed.hostQueue,
              call,
              script: placed.script,
              variables: contact.variables,
              resume: { state: run.state, flowId: settings.fallbackFlowId },
            });
            turns.push(...run.turns);
          }
          const end = transfer?.kind === 'lost' ? { ...run.end, kind: 'lost' as const } : run.end;
          const outcome = await endAnsweredCall(placed.hostQueue, media, {
            place,
            turns,
            tags: run.tags,
            end,
            ...(transfer ? { transfer } : {}),
          });
          placed = { kind: 'completed', outcome };
        }
      } finally {
        await campaign.signal(seatReleaseSignal, contact.index);
      }
      if (placed.kind === 'blocked') {
        skipped = placed.reason;
        break;
      }
      if (placed.kind === 'deferred') {
        // Capped or all lines busy, not failed: the same attempt waits (then for an opening) and dials again.
        await wait(
          Math.max(1_000, Date.parse(placed.until) - Date.now()),
          placed.reason === 'LINE_BUSY' ? 'all lines busy' : 'frequency cap',
        );
        continue;
      }
      if (placed.kind === 'answered') throw new Error('an answered call without a script'); // placeCall never does this
      if (placed.kind === 'window-closed') {
        // Nothing was dialled. Wait for the activity's own view of the next opening (at least a second, so a clock
        // disagreement between worker and workflow can never spin).
        const reopens = placed.reopensAt ? Date.parse(placed.reopensAt) : Date.now() + 60_000;
        await wait(Math.max(1_000, reopens - Date.now()), 'closed at the dial-time re-check');
        continue;
      }
      final = placed.outcome;
      showStatus(final.code);
      await acts.recordAttempt({
        tenantId: task.tenantId,
        taskId: task.taskId,
        contactIndex: contact.index,
        outcome: final,
        phone: contact.phone,
      });
      if (!task.retry.reasons.includes(final.code) || attempt > task.retry.maxRetries) break;
      attempt++;
      // A redial waits its interval, then for the next opening if the interval ends in a closed period.
      await wait(task.retry.intervalMinutes * 60_000, 'redial interval');
    }
    if (!final && cancelled) skipped = 'CANCELLED';
    if (skipped) {
      showStatus(skipped);
      await acts.recordSkipped(task.tenantId, task.taskId, contact.index, skipped);
    }
  } finally {
    // Whatever happened, the campaign must learn that this contact no longer needs a live slot or a seat.
    await campaign.signal(contactFinishedSignal, { index: contact.index, ...(final ? { code: final.code } : {}) });
  }
  return {
    index: contact.index,
    attempts: final?.attempt ?? 0,
    ...(final ? { final } : {}),
    ...(skipped ? { skipped } : {}),
  };
}

/**
 * Dial, turning a dial activity that failed for good (after its retries) into an outcome: the attempt is 呼损
 * (the system could not complete it), which the retry policy may redial, instead of a failed contact workflow.
 */
async function dial(
  placeCall: (i: PlaceCallInput) => Promise<PlaceCallResult>,
  req: PlaceCallInput,
): Promise<PlaceCallResult> {
  try {
    return await placeCall(req);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const now = new Date(Date.now()).toISOString();
    return {
      kind: 'completed',
      outcome: {
        attemptId: req.attemptId,
        attempt: req.attempt,
        code: 'CALL_LOSS',
        label: CALL_RESULT_LABELS.CALL_LOSS,
        hangupBy: 'SYSTEM',
        startedAt: now,
        endedAt: now,
        ringSeconds: 0,
        talkSeconds: 0,
        dtmf: [],
        note: `dial activity failed: ${err.cause?.message ?? err.message}`,
      },
    };
  }
}
