/**
 * Concurrent writes to one document, on the embedded FerretDB (real): FerretDB 1.24 loses concurrent updates of one
 * document, so the repositories queue their writes per document (activities/mongo/doc-lock.ts). Calls that end at
 * the same moment must all be counted and all land in their bucket.
 */
import { createCampaignActivities } from '../../activities/campaign-activities';
import { createLogger } from '../../activities/logger';
import { openRepositories, type Repositories } from '../../activities/mongo/connection';
import { IncrementBatcher, incrementBatcher } from '../../activities/mongo/group-commit';
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

  it('records 60 attempts that end at once exactly: counters and result index group-committed, retries not counted', async () => {
    const taskId = uniqueName('g');
    const n = 60;
    await repos.models.tasks.create({
      _id: taskId,
      tenantId,
      name: 'group commit',
      status: 'RUNNING',
      effectiveImmediately: true,
      calendar: { timezone: 'UTC', workingDays: [1], windows: [], blocked: [] },
      retry: { reasons: ['BUSY'], maxRetries: 1, intervalMinutes: 1 },
      aiSeats: n,
      prompt: 'x',
      totalContacts: n,
      pageSize: 500,
      pages: 1,
      stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {}, dialled: 0, latest: {} },
      workflowId: `task/${taskId}`,
    });
    const campaign = createCampaignActivities({
      tasks: repos.tasks,
      pages: repos.pages,
      calls: repos.calls,
      seats: repos.seats,
      logger: createLogger('silent', 'concurrent-writes'),
    });
    // Every third contact busy, the others answered; every fifth answered one transferred (every other one of
    // those to an agent).
    const attempt = (i: number, a: number, code: AttemptOutcome['code']): AttemptOutcome => ({
      ...outcome(taskId, i),
      attemptId: `${taskId}-${i}-${a}`,
      attempt: a,
      code,
      hangupBy: code === 'SUCCESS' ? 'ROBOT' : 'SYSTEM',
      talkSeconds: code === 'SUCCESS' ? 2 : 0,
      ...(code === 'SUCCESS' && i % 5 === 0
        ? {
            transfer:
              i % 10 === 0
                ? {
                    kind: 'connected',
                    agentId: 'a1',
                    endedBy: 'USER',
                    connectedAt: new Date().toISOString(),
                    skillGroupId: 'g',
                    startedAt: new Date().toISOString(),
                  }
                : { kind: 'timeout', skillGroupId: 'g', startedAt: new Date().toISOString() },
          }
        : {}),
    });
    const record = (i: number, o: AttemptOutcome) =>
      campaign.recordAttempt({
        tenantId,
        taskId,
        contactIndex: i,
        outcome: o,
        phone: `+86138${String(i).padStart(8, '0')}`,
      });
    const before = { ...incrementBatcher.stats };
    const first = Array.from({ length: n }, (_, i) => attempt(i, 1, i % 3 === 1 ? 'BUSY' : 'SUCCESS'));
    // Each attempt recorded twice at once (a retried activity): counted once.
    await Promise.all([...first.map((o, i) => record(i, o)), ...first.map((o, i) => record(i, o))]);
    const writes = incrementBatcher.stats.writes - before.writes;
    const increments = incrementBatcher.stats.increments - before.increments;
    // The busy ones redialled and answered, all at once.
    const busy = first.map((_, i) => i).filter((i) => i % 3 === 1);
    await Promise.all(busy.map((i) => record(i, attempt(i, 2, 'SUCCESS'))));

    const answeredFirst = n - busy.length;
    const task = await repos.tasks.get(tenantId, taskId);
    expect(task?.stats).toMatchObject({
      attempts: n + busy.length,
      dialled: n,
      answered: answeredFirst + busy.length,
      talkSeconds: 2 * (answeredFirst + busy.length),
      byResult: { SUCCESS: answeredFirst + busy.length, BUSY: busy.length },
      latest: { SUCCESS: n, BUSY: 0 },
      transferred: first.filter((o) => o.transfer).length + busy.filter((i) => i % 5 === 0).length,
      transferConnected:
        first.filter((o) => o.transfer?.kind === 'connected').length + busy.filter((i) => i % 10 === 0).length,
    });
    const index = await repos.pages.resultIndex(tenantId, taskId, 0);
    expect(Object.fromEntries(index)).toEqual({ 0: { SUCCESS: n, BUSY: 0 } });
    const page = await repos.pages.get(tenantId, taskId, 0);
    expect(page).toBeNull(); // no contact page in this test: results live in their bucket
    const results = await repos.pages.results(tenantId, taskId, 0, n);
    expect([...results.values()].filter((r) => r.last?.code === 'SUCCESS')).toHaveLength(n);
    // 60 first attempts counted (120 recordings) with two documents to move each: far fewer writes than increments.
    expect(increments).toBe(2 * n);
    expect(writes).toBeLessThan(increments);
  });

  it('group commit: a write that fails fails exactly the callers it carried, and applies none of them', async () => {
    const batcher = new IncrementBatcher();
    const coll = repos.conn.collection<{ _id: string; n: number; s: string }>(uniqueName('gc'));
    await coll.insertOne({ _id: 'doc', n: 0, s: 'text' });
    const write = (inc: Record<string, number>) => coll.updateOne({ _id: 'doc' }, { $inc: inc });
    const settled = (p: Promise<void>) =>
      p.then(
        () => 'ok',
        () => 'failed',
      );
    // The first call is written at once; the next two arrive while it is in flight and share one write, which
    // fails ($inc of a string), so both fail and neither is applied.
    const results = Promise.all([
      settled(batcher.add('gc/doc', { n: 1 }, write)),
      settled(batcher.add('gc/doc', { n: 10 }, write)),
      settled(batcher.add('gc/doc', { s: 1 }, write)),
    ]);
    expect(await results).toEqual(['ok', 'failed', 'failed']);
    expect(batcher.stats).toEqual({ writes: 2, increments: 3 });
    await batcher.add('gc/doc', { n: 100 }, write);
    expect(await coll.findOne({ _id: 'doc' })).toMatchObject({ n: 101, s: 'text' });
  });

  it('lets exactly the cap through when one number is dialled many times at once', async () => {
    const cap = { perDay: 3, perWeek: 10, timezone: 'Asia/Shanghai' };
    const at = Date.now();
    const decisions = await Promise.all(
      Array.from({ length: 12 }, () => repos.dialCounts.tryRecord('tenant-cap', '+8613800000001', cap, at)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    const doc = await repos.conn.collection('dial_counts').findOne({ _id: 'tenant-cap/+8613800000001' as never });
    expect(Object.values((doc as unknown as { days: Record<string, number> }).days)).toEqual([3]);
    const refused = decisions.find((d) => !d.allowed);
    expect(refused && !refused.allowed && refused.retryAt).toBeGreaterThan(at);
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
