/**
 * Concurrent writes to one document, on the embedded FerretDB (real): FerretDB 1.24 loses concurrent updates of one
 * document, so the repositories queue their writes per document (activities/mongo/doc-lock.ts). Calls that end at
 * the same moment must all be counted and all land in their bucket.
 */
import { openRepositories, type Repositories } from '../../activities/mongo/connection';
import { toLastAttempt } from '../../activities/mongo/repositories';
import type { AttemptOutcome } from '../../workflows/definitions';
import { servers, uniqueName } from '../support/servers';

let repos: Repositories;
const tenantId = 'tenant-concurrency';

beforeAll(async () => {
  repos = await openRepositories(`${servers.mongoBaseUri}/${uniqueName('waihu_conc_')}`);
});
afterAll(async () => {
  await repos?.conn.dropDatabase();
  await repos?.conn.close();
});

const outcome = (taskId: string, i: number): AttemptOutcome => ({
  attemptId: `${taskId}-${i}-1`,
  attempt: 1,
  code: 'SUCCESS',
  label: '呼叫成功',
  hangupBy: 'ROBOT',
  startedAt: new Date().toISOString(),
  endedAt: new Date().toISOString(),
  ringSeconds: 1,
  talkSeconds: 2,
  dtmf: [],
});

describe('concurrent writes to one document', () => {
  it('counts 40 calls that end at once, and writes each into the shared bucket', async () => {
    const taskId = uniqueName('t');
    const n = 40;
    await repos.models.contactPages.create({
      _id: `${taskId}/0`,
      tenantId,
      taskId,
      page: 0,
      contacts: Array.from({ length: n }, (_, i) => ({
        i,
        phone: `+86138${String(i).padStart(8, '0')}`,
        vars: {},
        attempts: 0,
      })),
    });
    await repos.models.tasks.create({
      _id: taskId,
      tenantId,
      name: 'concurrency',
      status: 'RUNNING',
      effectiveImmediately: true,
      calendar: { timezone: 'UTC', workingDays: [1], windows: [], blocked: [] },
      retry: { reasons: [], maxRetries: 0, intervalMinutes: 1 },
      aiSeats: n,
      prompt: 'x',
      totalContacts: n,
      pageSize: 500,
      pages: 1,
      stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {} },
      workflowId: `task/${taskId}`,
    });
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const o = outcome(taskId, i);
        await repos.pages.setLastAttempt(tenantId, taskId, 500, i, toLastAttempt(o));
        await repos.tasks.countAttempt(tenantId, taskId, o);
      }),
    );
    const task = await repos.tasks.get(tenantId, taskId);
    expect(task?.stats).toMatchObject({ attempts: n, answered: n, talkSeconds: 2 * n });
    const page = await repos.pages.get(tenantId, taskId, 0);
    expect(page?.contacts.filter((c) => c.attempts === 1)).toHaveLength(n);
  });

  it('never hands out more seats than the pool when many tasks reserve at once', async () => {
    const pool = 10;
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => repos.seats.reserve('tenant-pool', `task${i}`, 1, pool)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(pool);
    expect(await repos.seats.available('tenant-pool', pool)).toBe(0);
  });
});
