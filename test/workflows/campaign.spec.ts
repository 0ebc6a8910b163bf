/**
 * Campaign and contact workflows on the real Temporal time-skipping test server.
 * Real: Temporal server, workflow code (bundled once), the SDK worker.
 * Fake (named `fake…`, typed by the real factories so they cannot drift): the MongoDB and ARI activities — the
 * real ones are exercised end to end in test/e2e.
 */
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DateTime } from 'luxon';
import type { createCampaignActivities } from '../../activities/campaign-activities';
import type { createMediaActivities } from '../../activities/media-activities';
import { isOpenAt, type CallingCalendar } from '../../src/calendar';
import { CALL_RESULT_LABELS, type CallResultCode } from '../../src/call-result';
import type { campaignWorkflow } from '../../workflows/campaign';
import type { AttemptOutcome, CampaignTask, ContactRef, PlaceCallInput, TaskStatus } from '../../workflows/definitions';
import { servers, uniqueName } from '../support/servers';

type CampaignActs = ReturnType<typeof createCampaignActivities>;
type MediaActs = ReturnType<typeof createMediaActivities>;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: servers.temporalTestAddress });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

const allDay: CallingCalendar = {
  timezone: 'UTC',
  workingDays: [1, 2, 3, 4, 5, 6, 7],
  windows: [{ start: '00:00', end: '23:59' }],
  blocked: [],
};

interface Harness {
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
      h.statuses.push(status);
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

async function runCampaign(
  task: Partial<CampaignTask> & { totalContacts: number },
  answer: (input: PlaceCallInput) => CallResultCode,
  opts: { pageSize?: number } = {},
) {
  const pageSize = opts.pageSize ?? 3;
  const contacts: ContactRef[] = Array.from({ length: task.totalContacts }, (_, i) => ({
    index: i,
    phone: `+86138000${String(i).padStart(5, '0')}`,
    variables: {},
  }));
  const { h, fakeCampaign, fakeMedia } = fakes(contacts, pageSize, answer);
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
  const result = await mediaWorker.runUntil(
    campaignWorker.runUntil(
      env.client.workflow.execute<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: `task/${full.taskId}`,
        taskQueue,
        args: [{ task: full }],
      }),
    ),
  );
  return { h, result, task: full };
}

describe('campaignWorkflow', () => {
  it('dials every contact once across pages and never exceeds the AI seats', async () => {
    const { h, result } = await runCampaign({ totalContacts: 7, aiSeats: 2 }, () => 'SUCCESS');
    expect(result).toMatchObject({ status: 'COMPLETED', total: 7, finished: 7, byResult: { SUCCESS: 7 } });
    expect(h.dialled.map((d) => d.input.contactIndex).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(h.maxConcurrent).toBeLessThanOrEqual(2);
    expect(h.maxConcurrent).toBe(2);
    expect(h.statuses).toEqual(['RUNNING', 'COMPLETED']);
  });

  it('redials only the selected failure reasons, after the interval, with a new attempt id', async () => {
    const { h, result } = await runCampaign(
      { totalContacts: 2, retry: { reasons: ['BUSY'], maxRetries: 2, intervalMinutes: 30 } },
      (input) =>
        input.contactIndex === 0 && input.attempt === 1
          ? 'BUSY'
          : input.contactIndex === 1
            ? 'EMPTY_NUMBER'
            : 'SUCCESS',
    );
    expect(result.byResult).toEqual({ SUCCESS: 1, EMPTY_NUMBER: 1 });
    const c0 = h.dialled.filter((d) => d.input.contactIndex === 0);
    expect(c0.map((d) => d.input.attemptId.split('-').slice(-1)[0])).toEqual(['1', '2']);
    // The redial waits the interval (time-skipped): at least 30 minutes of workflow time between the two attempts.
    const [first, second] = c0;
    expect(second && first && second.scheduledMs - first.scheduledMs).toBeGreaterThanOrEqual(30 * 60_000);
    // 空号 is not a selected reason: no redial.
    expect(h.dialled.filter((d) => d.input.contactIndex === 1)).toHaveLength(1);
  });

  it('stops redialling after maxRetries', async () => {
    const { h } = await runCampaign(
      { totalContacts: 1, retry: { reasons: ['NO_ANSWER'], maxRetries: 3, intervalMinutes: 1 } },
      () => 'NO_ANSWER',
    );
    expect(h.dialled).toHaveLength(4);
    expect(h.recorded.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('waits for the calendar to open and never dials in a closed period', async () => {
    // A calendar whose only window opens at the top of the hour after next (never across midnight: it lasts 30 min).
    const now = DateTime.fromMillis(Date.now(), { zone: 'UTC' });
    const opens = now.plus({ hours: 2 }).startOf('hour');
    const calendar: CallingCalendar = {
      timezone: 'UTC',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      windows: [{ start: opens.toFormat('HH:mm'), end: opens.plus({ minutes: 30 }).toFormat('HH:mm') }],
      blocked: [],
    };
    const { h } = await runCampaign({ totalContacts: 3, aiSeats: 3, calendar }, () => 'SUCCESS');
    expect(h.dialled).toHaveLength(3);
    for (const d of h.dialled) {
      expect(isOpenAt(calendar, d.scheduledMs)).toBe(true);
      expect(d.scheduledMs).toBeGreaterThanOrEqual(opens.toMillis());
    }
  });

  it('continues as new with a small state on a long list and still dials each contact exactly once', async () => {
    const { h, result } = await runCampaign(
      { totalContacts: 60, aiSeats: 5, historyEventLimit: 150 },
      () => 'SUCCESS',
      {
        pageSize: 7,
      },
    );
    expect(result).toMatchObject({ status: 'COMPLETED', finished: 60 });
    expect(result.generation).toBeGreaterThanOrEqual(2);
    expect(new Set(h.dialled.map((d) => d.input.contactIndex)).size).toBe(60);
    expect(h.dialled).toHaveLength(60);
  });
});
