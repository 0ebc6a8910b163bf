/**
 * One task's campaign (workflow id `task/{taskId}`): admits contacts as per-contact child workflows, pages them from
 * MongoDB a bucket at a time (never the whole list), and hands out the task's AI seats to children that are ready
 * to dial. Children talk to the campaign by signals to its stable id, so the campaign can continue-as-new with a
 * small state (CampaignScheduler) however long the list is. Supervisors steer it with updates (pause, resume,
 * cancel, seats), each validated and answered with the resulting progress.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { createCampaignActivities } from '../activities/campaign-activities';
import { contactWorkflowId } from '../src/ids';
import { CampaignScheduler, MAX_SEATS } from './campaign-scheduler';
import { contactCallWorkflow } from './contact-call';
import { WAIHU_STATUS, WAIHU_TASK, WAIHU_TENANT } from './search-attributes';
import {
  cancelContactSignal,
  cancelUpdate,
  contactFinishedSignal,
  listExtendedSignal,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  seatGrantedSignal,
  seatReleaseSignal,
  seatRequestSignal,
  setSeatsUpdate,
  type CampaignInput,
  type CampaignProgress,
  type ContactRef,
  type TaskStatus,
} from './definitions';

const acts = proxyActivities<ReturnType<typeof createCampaignActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Patch id: grants, cancellations and child starts issued together in one workflow task. */
const BATCHED_ADMISSION = 'batched-admission';

/** Children started in one workflow task at most (keeps each task's command list and history step modest). */
const ADMIT_BATCH = 50;

/** Continue-as-new well before Temporal's 10,240-event warning, even if the server does not suggest it. */
const DEFAULT_HISTORY_EVENT_LIMIT = 8000;

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignProgress> {
  const { task } = input;
  const sched = new CampaignScheduler(input.state ?? CampaignScheduler.initial(task));
  let status: TaskStatus = sched.paused ? 'PAUSED' : 'RUNNING';
  const setStatus = (next: TaskStatus) => {
    status = next;
    if (task.searchAttributes) upsertSearchAttributes([{ key: WAIHU_STATUS, value: next }]);
  };
  const toCancel: number[] = [];
  let page: { no: number; contacts: ContactRef[] } | undefined;

  setHandler(seatRequestSignal, (index) => sched.request(index));
  setHandler(seatReleaseSignal, (index) => sched.release(index));
  setHandler(contactFinishedSignal, ({ index, code }) => void sched.finish(index, code));
  setHandler(listExtendedSignal, (total) => {
    sched.extend(total);
    // The bucket that held the old end of the list now holds new contacts too: read it again.
    page = undefined;
  });
  setHandler(progressQuery, () => sched.progress(status));

  const notCancelled = () => {
    if (sched.cancelled) throw ApplicationFailure.nonRetryable('the task is cancelled', 'TaskCancelled');
  };
  setHandler(
    pauseUpdate,
    () => {
      sched.pause();
      setStatus('PAUSED');
      return sched.progress(status);
    },
    { validator: notCancelled },
  );
  setHandler(
    resumeUpdate,
    () => {
      sched.resume();
      setStatus('RUNNING');
      return sched.progress(status);
    },
    { validator: notCancelled },
  );
  setHandler(cancelUpdate, () => {
    toCancel.push(...sched.cancel());
    return sched.progress(status);
  });
  setHandler(
    setSeatsUpdate,
    (seats) => {
      sched.setSeats(seats);
      return sched.progress(status);
    },
    {
      validator: (seats) => {
        notCancelled();
        if (!Number.isInteger(seats) || seats < 1 || seats > MAX_SEATS)
          throw ApplicationFailure.nonRetryable(`seats must be an integer from 1 to ${MAX_SEATS}`, 'InvalidSeats');
      },
    },
  );

  if (!input.state) {
    const startAt = task.startAt ? Date.parse(task.startAt) : NaN;
    if (task.searchAttributes)
      upsertSearchAttributes([
        { key: WAIHU_TENANT, value: task.tenantId },
        { key: WAIHU_TASK, value: task.taskId },
      ]);
    if (startAt > Date.now()) {
      setStatus('NOT_STARTED');
      await condition(() => sched.cancelled, startAt - Date.now());
    }
    setStatus(sched.paused ? 'PAUSED' : 'RUNNING');
    if (!sched.cancelled) await acts.setTaskStatus(task.tenantId, task.taskId, status);
  }

  const historyLimit = task.historyEventLimit ?? DEFAULT_HISTORY_EVENT_LIMIT;
  // Version gate (histories recorded before it admitted one child, and sent one grant, per workflow task).
  const batched = patched(BATCHED_ADMISSION);
  const admitBatch = batched ? ADMIT_BATCH : 1;
  /** Issue the commands together (one workflow task) or, on the old path, one after the other. */
  const inTurn = async (commands: (() => Promise<unknown>)[]): Promise<void> => {
    if (batched) await Promise.all(commands.map((c) => c()));
    else for (const c of commands) await c();
  };

  for (;;) {
    await condition(() => sched.hasGrantable() || toCancel.length > 0 || sched.canAdmit() || sched.done());

    // All grants (and cancellations) of this turn go out together: one workflow task carries every signal command.
    await inTurn(
      sched.takeGrants().map(
        (index) => () =>
          getExternalWorkflowHandle(contactWorkflowId(task.taskId, index))
            .signal(seatGrantedSignal)
            .catch((err: unknown) => {
              // The child is gone (terminated by an operator): take its seat back.
              log.warn('seat grant not delivered', { index, error: String(err) });
              sched.finish(index, undefined);
            }),
      ),
    );
    await inTurn(
      toCancel.splice(0).map(
        (index) => () =>
          getExternalWorkflowHandle(contactWorkflowId(task.taskId, index))
            .signal(cancelContactSignal)
            .catch(() => sched.finish(index, undefined)),
      ),
    );
    if (sched.done()) break;

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > historyLimit) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof campaignWorkflow>({ task, state: sched.nextGeneration() });
    }

    // Admit every contact the live limit allows from the current bucket, and start their children together: one
    // workflow task carries all the start commands (admitting one child per task limits a campaign to a few
    // contacts a second; see BENCHMARKS.md).
    if (!sched.canAdmit()) continue;
    const pageNo = Math.floor(sched.cursor / task.pageSize);
    const cached = page?.no === pageNo;
    if (!page || !cached) {
      page = { no: pageNo, contacts: await acts.loadContactPage(task.tenantId, task.taskId, pageNo) };
    }
    const admitted: ContactRef[] = [];
    while (sched.canAdmit() && Math.floor(sched.cursor / task.pageSize) === pageNo && admitted.length < admitBatch) {
      const contact = page.contacts[sched.cursor - pageNo * task.pageSize];
      if (!contact) break;
      // Admit before starting, so a child that reports back at once is already known.
      sched.admit();
      admitted.push(contact);
    }
    if (!admitted.length) {
      // Paused or cancelled while the page was loading: nothing to admit now, and nothing is wrong with the list.
      if (!sched.canAdmit()) continue;
      // A cached bucket can predate contacts appended to it (AttachTask): read it again before giving up.
      if (cached) {
        page = undefined;
        continue;
      }
      throw ApplicationFailure.nonRetryable(`contact ${sched.cursor} missing from page ${pageNo}`, 'ListCorrupt');
    }
    await inTurn(
      admitted.map(
        (contact) => () =>
          startChild(contactCallWorkflow, {
            workflowId: contactWorkflowId(task.taskId, contact.index),
            args: [{ task, contact, campaignWorkflowId: info.workflowId }],
            ...(task.searchAttributes
              ? {
                  typedSearchAttributes: [
                    { key: WAIHU_TENANT, value: task.tenantId },
                    { key: WAIHU_TASK, value: task.taskId },
                    { key: WAIHU_STATUS, value: 'WAITING' },
                  ],
                }
              : {}),
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          }),
      ),
    );
  }

  await condition(allHandlersFinished);
  const final = sched.cancelled ? 'CANCELLED' : 'COMPLETED';
  setStatus(final);
  await acts.finishTask(task.tenantId, task.taskId, final, sched.cursor);
  return sched.progress(status);
}
