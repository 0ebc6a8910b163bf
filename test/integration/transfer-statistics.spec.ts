/**
 * Task statistics count transfers to human agents (issue #8 item 6): recordAttempt (the campaign activity) counts
 * each attempt's transfer into the task's counters, and GetTaskStatistics answers `transferred`,
 * `transferConnected`, `transferRate` (transferred ÷ answered calls) and `transferConnectRate`, documented in the
 * OpenAPI document with examples. Real: the NestJS app over HTTP (supertest), FerretDB (or MongoDB) of the test
 * servers, the repositories and the campaign activities. Temporal is not contacted (no route here starts a campaign).
 */
import { createCampaignActivities } from '../../activities/campaign-activities';
import { createLogger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import { taskStatistics } from '../../api/tasks/task-statistics';
import { attemptId } from '../../src/ids';
import type { AttemptOutcome, TransferOutcome } from '../../workflows/definitions';
import { apiTestApp, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';

const MANAGER = 'xfer-stats-manager-key-0123456789';
const OTHER = 'xfer-stats-other-tenant-key-012345';
const tenantId = uniqueName('xfer');
const taskId = uniqueName('t').replace(/[^A-Za-z0-9]/g, '');
let api: ApiTestApp;
let repos: Repositories;
const http = () => api.http();
const as = (key: string) => ({ Authorization: `Bearer ${key}` });

beforeAll(async () => {
  api = await apiTestApp('transfer-statistics', {
    env: { API_KEYS: `${MANAGER}:${tenantId}:manager,${OTHER}:${uniqueName('other')}:manager` },
  });
  repos = api.ports.repos;
  await repos.models.tasks.create({
    _id: taskId,
    tenantId,
    name: 'transfers',
    status: 'RUNNING',
    effectiveImmediately: true,
    calendar: { timezone: 'UTC', workingDays: [1], windows: [], blocked: [] },
    retry: { reasons: ['NO_ANSWER'], maxRetries: 1, intervalMinutes: 1 },
    aiSeats: 2,
    prompt: 'x',
    totalContacts: 10,
    pageSize: 500,
    pages: 1,
    stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {}, dialled: 0, latest: {} },
    workflowId: `task/${taskId}`,
  });
});
afterAll(() => api?.close());

const at = new Date().toISOString();
const transfer = (kind: TransferOutcome['kind']): TransferOutcome =>
  kind === 'connected'
    ? { kind, agentId: 'agent-1', endedBy: 'USER', connectedAt: at, skillGroupId: 'sales', startedAt: at }
    : { kind, skillGroupId: 'sales', startedAt: at };

function outcome(index: number, attempt: number, code: AttemptOutcome['code'], kind?: TransferOutcome['kind']) {
  return {
    attemptId: attemptId(taskId, index, attempt),
    attempt,
    code,
    label: code,
    hangupBy: code === 'SUCCESS' ? 'USER' : 'SYSTEM',
    startedAt: at,
    endedAt: at,
    ringSeconds: 1,
    talkSeconds: code === 'SUCCESS' ? 30 : 0,
    dtmf: [],
    ...(kind ? { transfer: transfer(kind) } : {}),
  } satisfies AttemptOutcome;
}

describe('transfer statistics', () => {
  it('counts transferred and agent-connected calls and the transfer rate, once per attempt', async () => {
    const campaign = createCampaignActivities({
      tasks: repos.tasks,
      pages: repos.pages,
      calls: repos.calls,
      seats: repos.seats,
      logger: createLogger('silent', 'transfer-statistics'),
    });
    const statistics = async () => {
      const res = await http().get(`/tasks/${taskId}/statistics`).set(as(MANAGER));
      expect(res.status).toBe(200);
      return res.body as Record<string, unknown>;
    };
    expect(await statistics()).toMatchObject({
      transferred: 0,
      transferConnected: 0,
      transferRate: 0,
      transferConnectRate: 0,
    });
    const attempts: [number, AttemptOutcome][] = [
      [0, outcome(0, 1, 'SUCCESS', 'connected')],
      [1, outcome(1, 1, 'SUCCESS', 'connected')],
      [2, outcome(2, 1, 'SUCCESS', 'timeout')],
      [3, outcome(3, 1, 'SUCCESS', 'abandoned')],
      [4, outcome(4, 1, 'SUCCESS', 'lost')],
      [5, outcome(5, 1, 'SUCCESS')],
      [6, outcome(6, 1, 'SUCCESS')],
      [7, outcome(7, 1, 'SUCCESS')],
      [8, outcome(8, 1, 'NO_ANSWER')],
      [8, outcome(8, 2, 'SUCCESS', 'connected')], // a redial answered and transferred
      [9, outcome(9, 1, 'BUSY')],
    ];
    for (const [index, o] of attempts) {
      await campaign.recordAttempt({ tenantId, taskId, contactIndex: index, outcome: o, phone: `+8613800000${index}` });
    }
    // A retried recording of a transferred attempt is not counted again.
    await campaign.recordAttempt({
      tenantId,
      taskId,
      contactIndex: 0,
      outcome: attempts[0]![1],
      phone: '+86138000000',
    });

    const stats = await statistics();
    expect(stats).toMatchObject({
      answered: 9,
      attempts: 11,
      transferred: 6,
      transferConnected: 3,
      transferRate: 0.6667,
      transferConnectRate: 0.5,
    });
    // GetTask carries the same statistics, and its stored counters.
    const view = await http().get(`/tasks/${taskId}`).set(as(MANAGER));
    expect(view.body.statistics).toEqual(stats);
    expect(view.body.stats).toMatchObject({ transferred: 6, transferConnected: 3 });
    // Another tenant does not see the task.
    expect((await http().get(`/tasks/${taskId}/statistics`).set(as(OTHER))).status).toBe(404);
  });

  it('documents the transfer figures in the OpenAPI document, with examples', async () => {
    const doc = await http().get('/docs/openapi.json');
    expect(doc.status).toBe(200);
    const op = doc.body.paths['/tasks/{taskId}/statistics'].get;
    expect(op.operationId).toBe('GetTaskStatistics');
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/TaskStatisticsViewDto',
    );
    const props = doc.body.components.schemas.TaskStatisticsViewDto.properties;
    expect(props).toMatchObject({
      transferred: { example: 6 },
      transferConnected: { example: 5 },
      transferRate: { example: 0.2 },
      transferConnectRate: { example: 0.8333 },
      connectRate: { example: 0.75 },
    });
  });

  it('reads 0 for tasks counted before transfers were counted', () => {
    expect(
      taskStatistics({
        totalContacts: 5,
        stats: { attempts: 4, finished: 4, answered: 2, talkSeconds: 10, byResult: { SUCCESS: 2, BUSY: 2 } },
      }),
    ).toMatchObject({ answered: 2, transferred: 0, transferConnected: 0, transferRate: 0, transferConnectRate: 0 });
  });
});
