/**
 * The campaign's hot path touches the database by exact `_id` only (issue #10).
 *
 * FerretDB 1.24 pushes a filter down to SQL only when it is exactly `{ _id: <string> }`; with one more field (even
 * `tenantId`), an operator or a range, it decodes every document of the collection — seconds at a million documents.
 * This suite records every command the MongoDB driver sends (command monitoring) while each hot-path repository
 * method and campaign activity runs, and fails if a query, update, delete or findAndModify has any other filter, or
 * if an aggregate, count or distinct is sent. Inserts are allowed. Real: FerretDB (or MongoDB) of the test servers.
 */
import type { CommandStartedEvent } from 'mongodb';
import { createCampaignActivities } from '../../activities/campaign-activities';
import { createLogger } from '../../activities/logger';
import { openRepositories, type Repositories } from '../../activities/mongo/connection';
import { ListImportRepository } from '../../activities/mongo/list-repositories';
import { toLastAttempt } from '../../activities/mongo/repositories';
import { attemptId } from '../../src/ids';
import type { AttemptOutcome } from '../../workflows/definitions';
import { servers, uniqueName } from '../support/servers';

/** Why a command is not an exact-`_id` operation, or undefined if it is one (or is not a data command at all). */
export function nonIdOperation(ev: Pick<CommandStartedEvent, 'commandName' | 'command'>): string | undefined {
  const cmd = ev.command as Record<string, unknown>;
  const filters: unknown[] = [];
  switch (ev.commandName) {
    case 'find':
      filters.push(cmd.filter ?? {});
      break;
    case 'update':
      for (const u of (cmd.updates as { q?: unknown }[]) ?? []) filters.push(u.q ?? {});
      break;
    case 'delete':
      for (const d of (cmd.deletes as { q?: unknown }[]) ?? []) filters.push(d.q ?? {});
      break;
    case 'findAndModify':
      filters.push(cmd.query ?? {});
      break;
    case 'aggregate':
    case 'count':
    case 'distinct':
    case 'mapReduce':
      return `${ev.commandName} scans the collection`;
    default:
      return undefined; // insert, getMore of an _id find, hello, ping, endSessions, createIndexes, …
  }
  for (const f of filters) {
    const keys = f && typeof f === 'object' ? Object.keys(f) : [];
    const id = keys.length === 1 && keys[0] === '_id' ? (f as { _id: unknown })._id : undefined;
    const exact = typeof id === 'string' || typeof id === 'number';
    if (!exact) return `${ev.commandName} on ${String(cmd[ev.commandName])} with filter ${JSON.stringify(f)}`;
  }
  return undefined;
}

describe(nonIdOperation.name, () => {
  const find = (filter: unknown) => ({ commandName: 'find', command: { find: 'c', filter } });
  it('accepts an exact _id equality, inserts and non-data commands', () => {
    expect(nonIdOperation(find({ _id: 'a/1' }))).toBeUndefined();
    expect(nonIdOperation({ commandName: 'insert', command: { insert: 'c', documents: [{}] } })).toBeUndefined();
    expect(
      nonIdOperation({ commandName: 'update', command: { update: 'c', updates: [{ q: { _id: 'x' }, u: {} }] } }),
    ).toBeUndefined();
    expect(nonIdOperation({ commandName: 'ping', command: { ping: 1 } })).toBeUndefined();
  });
  it('flags anything else: another field beside _id, an operator on _id, no _id, aggregates and counts', () => {
    expect(nonIdOperation(find({ _id: 'a', tenantId: 't' }))).toMatch(/filter/);
    expect(nonIdOperation(find({ _id: { $in: ['a', 'b'] } }))).toMatch(/filter/);
    expect(nonIdOperation(find({ tenantId: 't' }))).toMatch(/filter/);
    expect(nonIdOperation(find({}))).toMatch(/filter/);
    expect(
      nonIdOperation({
        commandName: 'update',
        command: { update: 'c', updates: [{ q: { _id: 'x', version: 2 }, u: {} }] },
      }),
    ).toMatch(/filter/);
    expect(
      nonIdOperation({ commandName: 'delete', command: { delete: 'c', deletes: [{ q: { _id: 'x', s: 1 } }] } }),
    ).toBeDefined();
    expect(
      nonIdOperation({ commandName: 'findAndModify', command: { findAndModify: 'c', query: { a: 1 } } }),
    ).toBeDefined();
    expect(nonIdOperation({ commandName: 'aggregate', command: { aggregate: 'c', pipeline: [] } })).toMatch(/scans/);
    expect(nonIdOperation({ commandName: 'count', command: { count: 'c' } })).toMatch(/scans/);
  });
});

describe('hot-path repository methods', () => {
  const tenantId = uniqueName('hot');
  const taskId = uniqueName('t');
  const phone = '+8613800000007';
  let repos: Repositories;
  let seen: CommandStartedEvent[] = [];
  const record = (ev: CommandStartedEvent) => seen.push(ev);

  beforeAll(async () => {
    // monitorCommands as a URI option: the repositories open their own connection, exactly as the worker does.
    repos = await openRepositories(`${servers.mongoBaseUri}/${uniqueName('waihu_hot_')}?monitorCommands=true`);
    await repos.models.tasks.create({
      _id: taskId,
      tenantId,
      name: 'hot',
      status: 'RUNNING',
      effectiveImmediately: true,
      calendar: { timezone: 'UTC', workingDays: [1], windows: [], blocked: [] },
      retry: { reasons: ['NO_ANSWER'], maxRetries: 1, intervalMinutes: 1 },
      aiSeats: 1,
      prompt: 'x',
      totalContacts: 3,
      pageSize: 500,
      pages: 1,
      stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {}, dialled: 0, latest: {} },
      workflowId: `task/${taskId}`,
    });
    await repos.models.contactPages.create({
      _id: `${taskId}/0`,
      tenantId,
      taskId,
      page: 0,
      contacts: [0, 1, 2].map((i) => ({ i, phone: `${phone.slice(0, -1)}${i}`, vars: {}, attempts: 0 })),
    });
    await repos.dnc.add(tenantId, [{ phone: '+8613900000000' }]);
    await repos.imports.putPhoneBuckets(
      tenantId,
      taskId,
      new Map([[ListImportRepository.bucketKey(phone)[0], new Map([[ListImportRepository.keyOf(phone), 0]])]]),
      'insert',
    );
    repos.conn.getClient().on('commandStarted', record);
  });
  afterAll(async () => {
    repos?.conn.getClient().off('commandStarted', record);
    await repos?.conn.dropDatabase();
    await repos?.conn.close();
  });

  const outcome = (index: number, attempt: number, code: AttemptOutcome['code']): AttemptOutcome => ({
    attemptId: attemptId(taskId, index, attempt),
    attempt,
    code,
    label: code,
    hangupBy: code === 'SUCCESS' ? 'ROBOT' : 'SYSTEM',
    startedAt: new Date().toISOString(),
    endedAt: new Date().toISOString(),
    ringSeconds: 1,
    talkSeconds: code === 'SUCCESS' ? 3 : 0,
    dtmf: [],
  });

  /** Run one method, and return the commands it sent that are not exact-`_id` operations. */
  async function offending(name: string, run: () => Promise<unknown>): Promise<string[]> {
    seen = [];
    await run();
    expect({ name, commands: seen.length > 0 }).toEqual({ name, commands: true });
    return seen.map(nonIdOperation).filter((x): x is string => x !== undefined);
  }

  it('every hot-path method sends exact-_id filters only', async () => {
    const silent = createLogger('silent', 'hot-path');
    const campaign = createCampaignActivities({
      tasks: repos.tasks,
      pages: repos.pages,
      calls: repos.calls,
      seats: repos.seats,
      logger: silent,
    });
    const cap = { perDay: 1, perWeek: 5, timezone: 'UTC' };
    const first = outcome(0, 1, 'NO_ANSWER');
    const claimOf = (o: AttemptOutcome, index: number) => ({
      _id: o.attemptId,
      tenantId,
      taskId,
      contactIndex: index,
      attempt: o.attempt,
      phone,
    });
    const runs: [string, () => Promise<unknown>][] = [
      ['ContactPageRepository.get (loadContactPage)', () => campaign.loadContactPage(tenantId, taskId, 0)],
      ['DncRepository.isListed', () => repos.dnc.isListed(tenantId, phone)],
      ['CallRepository.claim', () => repos.calls.claim(claimOf(first, 0))],
      ['CallRepository.claim (already claimed)', () => repos.calls.claim(claimOf(first, 0))],
      [
        'DialCountRepository.tryRecord (first call)',
        () => repos.dialCounts.tryRecord(tenantId, phone, cap, Date.now()),
      ],
      [
        'DialCountRepository.tryRecord (over the cap)',
        () => repos.dialCounts.tryRecord(tenantId, phone, cap, Date.now()),
      ],
      ['CallRepository.finalize', () => repos.calls.finalize(tenantId, first, { taskId, contactIndex: 0, phone })],
      ['CallRepository.get', () => repos.calls.get(tenantId, first.attemptId)],
      [
        'CallRepository.setRecording',
        () => repos.calls.setRecording(tenantId, first.attemptId, { name: first.attemptId, format: 'wav' }),
      ],
      [
        'recordAttempt (finalize, setLastAttempt, markCounted, countAttempt)',
        () => campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: first }),
      ],
      [
        'recordAttempt again (idempotent)',
        () => campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: first }),
      ],
      [
        'recordAttempt of a redial (countAttempt reads the previous attempt)',
        async () => {
          const redial = outcome(0, 2, 'SUCCESS');
          await repos.calls.claim(claimOf(redial, 0));
          await campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: redial });
        },
      ],
      [
        'CallRepository.release',
        async () => {
          const deferred = outcome(1, 1, 'SUCCESS');
          await repos.calls.claim(claimOf(deferred, 1));
          await repos.calls.release(tenantId, deferred.attemptId);
        },
      ],
      [
        'ContactPageRepository.setLastAttempt',
        () => repos.pages.setLastAttempt(tenantId, taskId, 500, 2, toLastAttempt(outcome(2, 1, 'BUSY'))),
      ],
      ['recordSkipped (markSkipped)', () => campaign.recordSkipped(tenantId, taskId, 1, 'DO_NOT_CALL')],
      ['TaskRepository.setStatus', () => repos.tasks.setStatus(tenantId, taskId, 'PAUSED')],
      ['TaskRepository.get (GetTaskStatistics, taskOr404)', () => repos.tasks.get(tenantId, taskId)],
      [
        'ListImportRepository.phoneBucket (AttachTask duplicate check)',
        () => repos.imports.phoneBucket(tenantId, taskId, ListImportRepository.bucketKey(phone)[0]),
      ],
    ];
    const problems: Record<string, string[]> = {};
    for (const [name, run] of runs) {
      const bad = await offending(name, run);
      if (bad.length) problems[name] = bad;
    }
    expect(problems).toEqual({});

    // And the methods still do their job with `_id`-only filters (tenant checked on what they read).
    const task = await repos.tasks.get(tenantId, taskId);
    expect(task?.stats).toMatchObject({ attempts: 2, dialled: 1, latest: { SUCCESS: 1, NO_ANSWER: 0 } });
    expect(await repos.tasks.get('another-tenant', taskId)).toBeNull();
    expect(await repos.calls.get('another-tenant', first.attemptId)).toBeNull();
    expect(await repos.calls.get(tenantId, first.attemptId)).toMatchObject({ state: 'final', code: 'NO_ANSWER' });
    expect(await repos.calls.get(tenantId, attemptId(taskId, 1, 1))).toBeNull();
    expect(await repos.calls.finalize(tenantId, first, { taskId, contactIndex: 0, phone })).toBe(false);
    expect(await repos.calls.markCounted(tenantId, first.attemptId)).toBe(false);
    expect(
      (await repos.imports.phoneBucket('another-tenant', taskId, ListImportRepository.bucketKey(phone)[0])).size,
    ).toBe(0);
    const page = await repos.pages.get(tenantId, taskId, 0);
    expect(page?.contacts.map((c) => [c.attempts, c.last?.code, c.skipped])).toEqual([
      [2, 'SUCCESS', undefined],
      [0, undefined, 'DO_NOT_CALL'],
      [1, 'BUSY', undefined],
    ]);
  });
});
