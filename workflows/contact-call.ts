/**
 * One contact's life in a campaign: wait for an opening in the contact's own calendar, dial, record the outcome,
 * redial per the task's retry policy, then tell the campaign the seat is free.
 *
 * The dial runs on the media task queue (the processes holding an ARI connection) and re-checks the calendar just
 * before originating, so a late activity never rings a phone in a closed period.
 */
import { getExternalWorkflowHandle, proxyActivities, sleep } from '@temporalio/workflow';
import type { createCampaignActivities } from '../activities/campaign-activities';
import type { createMediaActivities } from '../activities/media-activities';
import { nextOpening } from '../src/calendar';
import { attemptId } from '../src/ids';
import {
  contactFinishedSignal,
  type AttemptOutcome,
  type ContactCallInput,
  type ContactCallResult,
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
  const calendar = contact.timezone ? { ...task.calendar, timezone: contact.timezone } : task.calendar;

  let final: AttemptOutcome | undefined;
  let attempt = 1;
  let skipped: ContactCallResult['skipped'];
  while (attempt <= task.retry.maxRetries + 1) {
    const opening = nextOpening(calendar, Date.now());
    if (!opening) {
      skipped = 'NO_OPENING';
      break;
    }
    if (opening.start > Date.now()) {
      await sleep(opening.start - Date.now());
      continue;
    }
    const id = attemptId(task.taskId, contact.index, attempt);
    const placed = await media.placeCall({
      tenantId: task.tenantId,
      taskId: task.taskId,
      contactIndex: contact.index,
      attempt,
      attemptId: id,
      phone: contact.phone,
      prompt: task.prompt,
      calendar,
      ...(task.callerNumber ? { callerNumber: task.callerNumber } : {}),
    });
    if (placed.kind === 'window-closed') {
      // Nothing was dialled. Wait for the activity's own view of the next opening (at least a second, so a clock
      // disagreement between worker and workflow can never spin).
      const reopens = placed.reopensAt ? Date.parse(placed.reopensAt) : Date.now() + 60_000;
      await sleep(Math.max(1_000, reopens - Date.now()));
      continue;
    }
    final = placed.outcome;
    await acts.recordAttempt({
      tenantId: task.tenantId,
      taskId: task.taskId,
      contactIndex: contact.index,
      outcome: final,
    });
    if (!task.retry.reasons.includes(final.code) || attempt > task.retry.maxRetries) break;
    attempt++;
    await sleep(task.retry.intervalMinutes * 60_000);
  }
  if (skipped) await acts.recordSkipped(task.tenantId, task.taskId, contact.index, skipped);

  await getExternalWorkflowHandle(input.campaignWorkflowId).signal(contactFinishedSignal, {
    index: contact.index,
    ...(final ? { code: final.code } : {}),
  });
  return {
    index: contact.index,
    attempts: final?.attempt ?? 0,
    ...(final ? { final } : {}),
    ...(skipped ? { skipped } : {}),
  };
}
