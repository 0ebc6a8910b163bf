/**
 * One task's campaign: a sliding window of per-contact child workflows, never more than the task's AI seats at
 * once. Contacts are paged from MongoDB by an activity (a page of a few hundred at a time, never the whole list);
 * children report back by signal to the campaign's stable workflow id, so the campaign can continue-as-new with
 * a small state (cursor, in-flight indexes, counters) however large the list is.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { createCampaignActivities } from '../activities/campaign-activities';
import { nextOpening } from '../src/calendar';
import { contactWorkflowId } from '../src/ids';
import {
  cancelSignal,
  contactFinishedSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setSeatsSignal,
  type CampaignInput,
  type CampaignProgress,
  type CampaignState,
  type ContactRef,
  type TaskStatus,
} from './definitions';
import { contactCallWorkflow } from './contact-call';

const acts = proxyActivities<ReturnType<typeof createCampaignActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Continue-as-new well before Temporal's 10,240-event warning, even if the server does not suggest it. */
const DEFAULT_HISTORY_EVENT_LIMIT = 8000;

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  const { task } = input;
  const state: CampaignState = input.state ?? {
    cursor: 0,
    inFlight: [],
    finished: 0,
    seats: task.aiSeats,
    paused: false,
    cancelled: false,
    byResult: {},
    generation: 0,
  };
  const inFlight = new Set(state.inFlight);
  let status: TaskStatus = 'RUNNING';

  const progress = (): CampaignProgress => ({
    status,
    total: task.totalContacts,
    dispatched: state.cursor,
    inFlight: inFlight.size,
    finished: state.finished,
    seats: state.seats,
    byResult: { ...state.byResult },
    generation: state.generation,
  });

  setHandler(contactFinishedSignal, ({ index, code }) => {
    // A child signals once; a duplicate (e.g. after a child retry) must not free a second seat.
    if (!inFlight.delete(index)) return;
    state.finished++;
    if (code) state.byResult[code] = (state.byResult[code] ?? 0) + 1;
  });
  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  setHandler(cancelSignal, () => {
    state.cancelled = true;
  });
  setHandler(setSeatsSignal, (seats) => {
    if (Number.isInteger(seats) && seats >= 1) state.seats = seats;
  });
  setHandler(progressQuery, progress);

  if (!input.state) await acts.setTaskStatus(task.tenantId, task.taskId, 'RUNNING');

  let page: { no: number; contacts: ContactRef[] } | undefined;
  const allDispatched = () => state.cursor >= task.totalContacts;

  for (;;) {
    await condition(
      () =>
        state.cancelled ||
        (allDispatched() && inFlight.size === 0) ||
        (!allDispatched() && !state.paused && inFlight.size < state.seats),
    );
    if (state.cancelled || (allDispatched() && inFlight.size === 0)) break;

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (task.historyEventLimit ?? DEFAULT_HISTORY_EVENT_LIMIT)) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof campaignWorkflow>({
        task,
        state: { ...state, inFlight: [...inFlight], generation: state.generation + 1 },
      });
    }

    // Dispatch only while the task's calendar is open; a signal (pause, cancel) cuts the wait short.
    const opening = nextOpening(task.calendar, Date.now());
    if (!opening) {
      log.warn('calendar has no opening; campaign stops dispatching', { taskId: task.taskId });
      break;
    }
    if (opening.start > Date.now()) {
      await condition(() => state.cancelled || state.paused, opening.start - Date.now());
      continue;
    }

    const pageNo = Math.floor(state.cursor / task.pageSize);
    if (page?.no !== pageNo) {
      page = { no: pageNo, contacts: await acts.loadContactPage(task.tenantId, task.taskId, pageNo) };
    }
    const contact = page.contacts[state.cursor - pageNo * task.pageSize];
    if (!contact) throw new Error(`contact ${state.cursor} missing from page ${pageNo}`);
    // Count the seat before starting, so a child that finishes very quickly cannot signal before it is counted.
    inFlight.add(contact.index);
    state.cursor++;
    await startChild(contactCallWorkflow, {
      workflowId: contactWorkflowId(task.taskId, contact.index),
      args: [{ task, contact, campaignWorkflowId: info.workflowId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  }

  await condition(allHandlersFinished);
  status = state.cancelled ? 'CANCELLED' : 'COMPLETED';
  await acts.setTaskStatus(task.tenantId, task.taskId, status);
  // Let a last query observe the final state before the run closes.
  await sleep(0);
  return progress();
}
