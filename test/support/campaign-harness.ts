/**
 * A harness for campaign workflow tests: real Temporal server (the time-skipping test server or the dev server),
 * real workflow code bundled once per file, real SDK workers; fake activities (named `fake…`, typed by the real
 * factories so they cannot drift) over an in-memory list — the real activities run end to end in test/e2e.
 */
import { Context } from '@temporalio/activity';
import type { WorkflowClient, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { createCampaignActivities } from '../../activities/campaign-activities';
import type { createMediaActivities } from '../../activities/media-activities';
import type { CallingCalendar } from '../../src/calendar';
import { CALL_RESULT_LABELS, type CallResultCode } from '../../src/call-result';
import type { campaignWorkflow } from '../../workflows/campaign';
import {
  type AttemptOutcome,
  type CampaignTask,
  type ContactRef,
  type PlaceCallInput,
  type TaskStatus,
} from '../../workflows/definitions';
import { uniqueName } from './servers';
import { until } from './wait';

type CampaignActs = ReturnType<typeof createCampaignActivities>;
type MediaActs = Pick<ReturnType<typeof createMediaActivities>, 'placeCall'>;

let env: TestWorkflowEnvironment;
let client: WorkflowClient;
let bundle: WorkflowBundleWithSourceMap;

/** Connect to a server and bundle the workflows; call in beforeAll. */
export async function openHarness(address: string): Promise<void> {
  env = await TestWorkflowEnvironment.createFromExistingServer({ address });
  client = env.client.workflow;
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
}

export async function closeHarness(): Promise<void> {
  await env?.teardown();
}

export const allDay: CallingCalendar = {
  timezone: 'UTC',
  workingDays: [1, 2, 3, 4, 5, 6, 7],
  windows: [{ start: '00:00', end: '23:59' }],
  blocked: [],
};

interface Harness {
  /** Server time when the campaign began (the first activity's schedule time). */
  startedAtMs?: number;
  admitted?: number;
  statuses: TaskStatus[];
  recorded: AttemptOutcome[];
  dialled: { input: PlaceCallInput; scheduledMs: number }[];
  maxConcurrent: number;
}

/** Fake activities over an in-memory list; `answer` decides each attempt's result. */
function fakes(
  contacts: ContactRef[],
  pageSize: number,
  answer: (input: PlaceCallInput) => CallResultCode,
  holdMs = 30,
) {
  const h: Harness = { statuses: [], recorded: [], dialled: [], maxConcurrent: 0 };
  let concurrent = 0;
  const fakeCampaign: CampaignActs = {
    loadContactPage: (_tenant, _task, page) => Promise.resolve(contacts.slice(page * pageSize, (page + 1) * pageSize)),
    setTaskStatus: (_tenant, _task, status) => {
      h.startedAtMs ??= Context.current().info.currentAttemptScheduledTimestampMs;
      h.statuses.push(status);
      return Promise.resolve();
    },
    finishTask: (_tenant, _task, status, admitted) => {
      h.statuses.push(status);
      h.admitted = admitted;
      return Promise.resolve();
    },
    recordAttempt: ({ outcome }) => {
      h.recorded.push(outcome);
      return Promise.resolve();
    },
    recordSkipped: () => Promise.resolve(),
  };
  const fakeMedia: MediaActs = {
    placeCall: async (input) => {
      const scheduledMs = Context.current().info.currentAttemptScheduledTimestampMs;
      h.dialled.push({ input, scheduledMs });
      concurrent++;
      h.maxConcurrent = Math.max(h.maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, holdMs));
      concurrent--;
      const code = answer(input);
      const t = new Date(scheduledMs).toISOString();
      return {
        kind: 'completed',
        outcome: {
          attemptId: input.attemptId,
          attempt: input.attempt,
          code,
          label: CALL_RESULT_LABELS[code],
          hangupBy: code === 'SUCCESS' ? 'ROBOT' : 'SYSTEM',
          startedAt: t,
          endedAt: t,
          ringSeconds: 0,
          talkSeconds: 0,
          dtmf: [],
        },
      };
    },
  };
  return { h, fakeCampaign, fakeMedia };
}

export async function startCampaign(
  task: Partial<CampaignTask> & { totalContacts: number },
  answer: (input: PlaceCallInput) => CallResultCode,
  opts: { pageSize?: number; holdMs?: number; contactZone?: (index: number) => string | undefined } = {},
) {
  const pageSize = opts.pageSize ?? 3;
  const contacts: ContactRef[] = Array.from({ length: task.totalContacts }, (_, i) => {
    const zone = opts.contactZone?.(i);
    return {
      index: i,
      phone: `+86138000${String(i).padStart(5, '0')}`,
      variables: {},
      ...(zone ? { timezone: zone } : {}),
    };
  });
  const { h, fakeCampaign, fakeMedia } = fakes(contacts, pageSize, answer, opts.holdMs);
  const taskQueue = uniqueName('campaign-');
  const mediaTaskQueue = `${taskQueue}-media`;
  const conn = env.nativeConnection;
  const campaignWorker = await Worker.create({
    connection: conn,
    taskQueue,
    workflowBundle: bundle,
    activities: fakeCampaign,
  });
  const mediaWorker = await Worker.create({ connection: conn, taskQueue: mediaTaskQueue, activities: fakeMedia });
  const full: CampaignTask = {
    tenantId: 't1',
    taskId: uniqueName('task'),
    calendar: allDay,
    retry: { reasons: [], maxRetries: 0, intervalMinutes: 1 },
    aiSeats: 2,
    pageSize,
    prompt: '您好',
    mediaTaskQueue,
    ...task,
  };
  // Start the workflow only once both workers poll: a workflow task that no worker has picked up yet looks idle to
  // the time-skipping server, which would then jump its clock ahead (by years) before the campaign even begins.
  let started!: (handle: WorkflowHandle<typeof campaignWorkflow>) => void;
  const handlePromise = new Promise<WorkflowHandle<typeof campaignWorkflow>>((resolve) => (started = resolve));
  const done = mediaWorker.runUntil(
    campaignWorker.runUntil(async () => {
      await until(
        () => campaignWorker.getState() === 'RUNNING' && mediaWorker.getState() === 'RUNNING',
        'workers',
        20_000,
        20,
      );
      const handle = await client.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: `task/${full.taskId}`,
        taskQueue,
        args: [{ task: full }],
      });
      started(handle);
      const result = await handle.result();
      // Keep the workers until every child has closed too: a child's last workflow task can outlive the campaign's
      // result, and a task left on a queue nobody polls would stop the test server from skipping time later on.
      for (let i = 0; i < result.dispatched; i++) await client.getHandle(`${handle.workflowId}/contact/${i}`).result();
      return result;
    }),
  );
  const handle = await Promise.race([handlePromise, done.then(() => handlePromise)]);
  return { h, handle, done, task: full };
}

export async function runCampaign(...args: Parameters<typeof startCampaign>) {
  const { h, done, task } = await startCampaign(...args);
  return { h, result: await done, task };
}

/**
 * The server's current time. The time-skipping server's clock runs ahead of the wall clock once earlier tests have
 * skipped time, so schedules are built relative to this, probed with an empty campaign.
 */
export async function serverNow(): Promise<number> {
  const { h } = await runCampaign({ totalContacts: 0 }, () => 'SUCCESS');
  if (h.startedAtMs === undefined) throw new Error('the probe campaign ran no activity');
  return h.startedAtMs;
}
