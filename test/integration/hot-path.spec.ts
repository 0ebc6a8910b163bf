/**
 * The campaign's hot path touches the database by exact `_id` only (issue #10).
 *
 * FerretDB 1.24 pushes a filter down to SQL only when it is exactly `{ _id: <string> }`; with one more field (even
 * `tenantId`), an operator or a range, it decodes every document of the collection — seconds at a million documents.
 * This suite records every command the MongoDB driver sends (command monitoring) while each hot-path repository
 * method and campaign activity runs, and fails if a query, update, delete or findAndModify has any other filter, or
 * if an aggregate, count or distinct is sent. Inserts are allowed. The readers of the results (ListTaskDetail with
 * and without filters, the export) are checked against what recordAttempt wrote, and send exact-`_id` reads only.
 * Real: FerretDB (or MongoDB) of the test servers, ListImportService, TasksService and ListExportService.
 */
import type { CommandStartedEvent } from 'mongodb';
import { createCampaignActivities } from '../../activities/campaign-activities';
import { createLogger } from '../../activities/logger';
import { openRepositories, type Repositories } from '../../activities/mongo/connection';
import { ListImportRepository } from '../../activities/mongo/list-repositories';
import { toLastAttempt } from '../../activities/mongo/repositories';
import { PHONE_BUCKETS } from '../../activities/mongo/list-schemas';
import { RESULT_BUCKET } from '../../activities/mongo/schemas';
import { ListExportService } from '../../api/lists/list-export.service';
import { ListImportService, PAGE_SIZE } from '../../api/lists/list-import.service';
import { DEFAULT_LIST_LIMITS } from '../../api/lists/list-limits';
import { readRows } from '../../api/lists/list-reader';
import { TasksService } from '../../api/tasks/tasks.service';
import type { CallResultCode } from '../../src/call-result';
import { attemptId } from '../../src/ids';
import { maskPhone } from '../../src/phone';
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
      totalContacts: 4,
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
      contacts: [0, 1, 2, 3].map((i) => ({ i, phone: `${phone.slice(0, -1)}${i}`, vars: {}, attempts: 0 })),
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
      ['ContactPageRepository.contacts (loadContactPage)', () => campaign.loadContactPage(tenantId, taskId, 0)],
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
        'recordAttempt (call record, result bucket with its before-image, countAttempt, result index)',
        () => campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: first, phone }),
      ],
      [
        'recordAttempt again (idempotent)',
        () => campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: first, phone }),
      ],
      [
        'recordAttempt of a redial (the result bucket returns the previous attempt)',
        async () => {
          const redial = outcome(0, 2, 'SUCCESS');
          await repos.calls.claim(claimOf(redial, 0));
          await campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: redial, phone });
        },
      ],
      [
        'recordAttempt of the first attempt again, after the redial (a zombie execution: nothing moves)',
        () => campaign.recordAttempt({ tenantId, taskId, contactIndex: 0, outcome: first, phone }),
      ],
      [
        'ContactPageRepository.recordResult (one findAndModify of the result bucket)',
        async () => {
          const o = outcome(2, 1, 'NO_ANSWER');
          expect(await repos.pages.recordResult(tenantId, taskId, 2, toLastAttempt(o))).toEqual({
            counted: true,
            previous: undefined,
          });
          expect(await repos.pages.recordResult(tenantId, taskId, 2, toLastAttempt(o))).toEqual({
            counted: false,
            previous: undefined,
          });
        },
      ],
      [
        'recordAttempt of an older history (no phone, no call record: the number is read from the page)',
        () => campaign.recordAttempt({ tenantId, taskId, contactIndex: 3, outcome: outcome(3, 1, 'POWERED_OFF') }),
      ],
      [
        'ContactPageRepository.countResult (result index: one $inc)',
        () => repos.pages.countResult(tenantId, taskId, 130, 'BUSY', undefined),
      ],
      ['ContactPageRepository.resultIndex', () => repos.pages.resultIndex(tenantId, taskId, 0)],
      ['ContactPageRepository.resultBucket', () => repos.pages.resultBucket(tenantId, taskId, 0)],
      ['ContactPageRepository.get (contacts merged with results)', () => repos.pages.get(tenantId, taskId, 0)],
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
    expect(task?.stats).toMatchObject({
      attempts: 3,
      dialled: 2,
      latest: { SUCCESS: 1, NO_ANSWER: 0, POWERED_OFF: 1 },
    });
    expect(await repos.tasks.get('another-tenant', taskId)).toBeNull();
    expect(await repos.calls.get('another-tenant', first.attemptId)).toBeNull();
    expect(await repos.calls.get(tenantId, first.attemptId)).toMatchObject({ state: 'final', code: 'NO_ANSWER' });
    expect(await repos.calls.get(tenantId, attemptId(taskId, 1, 1))).toBeNull();
    expect(await repos.calls.finalize(tenantId, first, { taskId, contactIndex: 0, phone })).toBe(false);
    // A second finalisation with another outcome: the record keeps the first one (fields written back, extra unset).
    const other = { ...outcome(0, 1, 'SUCCESS'), answeredAt: new Date().toISOString(), note: 'second', cause: 16 };
    expect(await repos.calls.finalize(tenantId, other, { taskId, contactIndex: 0, phone })).toBe(false);
    const kept = await repos.calls.get(tenantId, first.attemptId);
    expect(kept).toMatchObject({ state: 'final', code: 'NO_ANSWER', hangupBy: 'SYSTEM', talkSeconds: 0 });
    expect([kept?.answeredAt, kept?.note, kept?.cause]).toEqual([undefined, undefined, undefined]);
    expect(
      (await repos.imports.phoneBucket('another-tenant', taskId, ListImportRepository.bucketKey(phone)[0])).size,
    ).toBe(0);
    const page = await repos.pages.get(tenantId, taskId, 0);
    expect(page?.contacts.map((c) => [c.attempts, c.last?.code, c.skipped])).toEqual([
      [2, 'SUCCESS', undefined],
      [0, undefined, 'DO_NOT_CALL'],
      [1, 'BUSY', undefined],
      [1, 'POWERED_OFF', undefined],
    ]);
    expect(page?.contacts[0]?.last).toMatchObject({ attemptId: attemptId(taskId, 0, 2), hangupBy: 'ROBOT' });
    expect(page?.contacts[0]?.last?.startedAt).toBeInstanceOf(Date);
    // Results live in their own bucket; the contact page itself is never written by an attempt.
    const raw = await repos.pages.contacts(tenantId, taskId, 0);
    expect(raw?.contacts.map((c) => [c.attempts, c.last, c.skipped])).toEqual([
      [0, undefined, undefined],
      [0, undefined, undefined],
      [0, undefined, undefined],
      [0, undefined, undefined],
    ]);
    expect(await repos.calls.get(tenantId, attemptId(taskId, 3, 1))).toMatchObject({ phone: '+8613800000003' });
    // The result index counts contacts by latest result per result bucket (125 contacts): the redial moved contact 0.
    const index = await repos.pages.resultIndex(tenantId, taskId, 0);
    expect(Object.fromEntries(index)).toEqual({
      0: { NO_ANSWER: 0, SUCCESS: 1, POWERED_OFF: 1 },
      1: { BUSY: 1 },
    });
    expect((await repos.pages.resultIndex('another-tenant', taskId, 0)).size).toBe(0);
    expect((await repos.pages.resultBucket('another-tenant', taskId, 0)).size).toBe(0);

    // An outcome the dial activity stored says so: recordAttempt does not read the call record.
    const stored = { ...outcome(3, 2, 'BUSY'), stored: true as const };
    await repos.calls.claim(claimOf(stored, 3));
    await repos.calls.finalize(tenantId, stored, { taskId, contactIndex: 3, phone });
    seen = [];
    await campaign.recordAttempt({ tenantId, taskId, contactIndex: 3, outcome: stored, phone });
    expect(seen.filter((ev) => ev.commandName !== 'endSessions').map((ev) => ev.command[ev.commandName])).toEqual([
      'contact_results',
      'task_counters',
      'result_index',
    ]);
  });
});

describe('readers of the result buckets', () => {
  const tenantId = uniqueName('hotr');
  const n = 300; // three result buckets of 125 and a contact page of 500
  const phoneOf = (i: number) => `+86137${String(i).padStart(8, '0')}`;
  let repos: Repositories;
  let taskId: string;
  let seen: CommandStartedEvent[] = [];
  const record = (ev: CommandStartedEvent) => seen.push(ev);
  /** Latest result per contact, as the test recorded it. */
  const latest = new Map<number, CallResultCode>();

  beforeAll(async () => {
    repos = await openRepositories(`${servers.mongoBaseUri}/${uniqueName('waihu_hotr_')}?monitorCommands=true`);
    taskId = uniqueName('t').replace(/[^A-Za-z0-9]/g, '');
    const csv = Buffer.from(['用户号码', ...Array.from({ length: n }, (_, i) => phoneOf(i))].join('\n'));
    const silent = createLogger('silent', 'hot-path');
    await new ListImportService(repos, DEFAULT_LIST_LIMITS, silent).import(
      tenantId,
      {
        kind: 'create',
        taskId,
        requiredVariables: [],
        task: (t) => ({
          _id: taskId,
          tenantId,
          name: 'readers',
          description: '',
          status: 'RUNNING',
          effectiveImmediately: false,
          calendar: { timezone: 'Asia/Shanghai', workingDays: [1], windows: [], blocked: [] },
          retry: { reasons: ['BUSY'], maxRetries: 1, intervalMinutes: 1 },
          aiSeats: 1,
          prompt: 'x',
          totalContacts: t.totalContacts,
          pageSize: PAGE_SIZE,
          pages: t.pages,
          duplicatesRemoved: t.duplicates,
          stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {}, dialled: 0, latest: {} },
          workflowId: `task/${taskId}`,
        }),
      },
      readRows({ buffer: csv, originalname: 'list.csv', size: csv.length }, { maxRows: n + 2, maxRecordBytes: 4096 }),
    );
    const campaign = createCampaignActivities({
      tasks: repos.tasks,
      pages: repos.pages,
      calls: repos.calls,
      seats: repos.seats,
      logger: silent,
    });
    const attempt = async (i: number, a: number, code: CallResultCode) => {
      const o: AttemptOutcome = {
        attemptId: attemptId(taskId, i, a),
        attempt: a,
        code,
        label: code,
        hangupBy: code === 'SUCCESS' ? 'ROBOT' : 'SYSTEM',
        startedAt: new Date().toISOString(),
        endedAt: new Date().toISOString(),
        ringSeconds: 1,
        talkSeconds: code === 'SUCCESS' ? 5 : 0,
        dtmf: [],
      };
      await campaign.recordAttempt({ tenantId, taskId, contactIndex: i, outcome: o, phone: phoneOf(i) });
      latest.set(i, code);
    };
    // Contacts 0–269 dialled: every third busy, the rest answered; busy ones below 30 redialled and answered.
    for (let i = 0; i < 270; i++) await attempt(i, 1, i % 3 === 1 ? 'BUSY' : 'SUCCESS');
    for (let i = 1; i < 30; i += 3) await attempt(i, 2, 'SUCCESS');
    await campaign.recordSkipped(tenantId, taskId, 299, 'DO_NOT_CALL');
    repos.conn.getClient().on('commandStarted', record);
  });
  afterAll(async () => {
    repos?.conn.getClient().off('commandStarted', record);
    await repos?.conn.dropDatabase();
    await repos?.conn.close();
  });

  const service = () =>
    new TasksService(
      {} as never,
      repos,
      createLogger('silent', 'hot-path'),
      {} as never,
      DEFAULT_LIST_LIMITS,
      {} as never,
      {} as never,
    );
  const withCode = (code: CallResultCode) =>
    [...latest]
      .filter(([, c]) => c === code)
      .map(([i]) => i)
      .sort((a, b) => a - b);

  it('ListTaskDetail: pages, result filter (result_index), phone filter (phone buckets), exact-_id reads only', async () => {
    const tasks = service();
    seen = [];
    const first = await tasks.details(tenantId, taskId, { page: 7, pageSize: 20 }, true);
    expect(first.total).toBe(n);
    expect(first.items.map((r) => [r.index, r.result, r.attempts])).toEqual(
      Array.from({ length: 20 }, (_, k) => 120 + k).map((i) => [i, latest.get(i), i < 30 && i % 3 === 1 ? 2 : 1]),
    );
    const tail = await tasks.details(tenantId, taskId, { page: 15, pageSize: 20 }, true);
    expect(tail.items.at(-1)).toMatchObject({ index: 299, skipped: 'DO_NOT_CALL', attempts: 0 });
    expect(tail.items.at(-1)?.result).toBeUndefined();

    const success = withCode('SUCCESS');
    expect(success.length).toBeGreaterThan(RESULT_BUCKET);
    for (const [page, pageSize] of [
      [1, 20],
      [5, 20],
      [2, 100],
      [10, 20],
    ] as const) {
      const got = await tasks.details(tenantId, taskId, { result: 'SUCCESS', page, pageSize }, false);
      expect({ page, total: got.total, items: got.items.map((r) => r.index) }).toEqual({
        page,
        total: success.length,
        items: success.slice((page - 1) * pageSize, page * pageSize),
      });
    }
    const busy = withCode('BUSY');
    const lastBusy = await tasks.details(tenantId, taskId, { result: 'BUSY', page: 4, pageSize: 20 }, false);
    expect({ total: lastBusy.total, items: lastBusy.items.map((r) => r.index) }).toEqual({
      total: busy.length,
      items: busy.slice(60, 80),
    });
    expect(lastBusy.items[0]).toMatchObject({
      result: 'BUSY',
      hangupBy: 'SYSTEM',
      phone: maskPhone(phoneOf(busy[60]!)),
    });

    // A full number reads its own phone bucket only; other digits read every bucket (a substring search).
    const phoneBucketReads = () =>
      seen.filter((ev) => ev.commandName === 'find' && (ev.command as { find?: string }).find === 'contact_phones')
        .length;
    const before = phoneBucketReads();
    const one = await tasks.details(tenantId, taskId, { phone: '13700000130', page: 1, pageSize: 20 }, true);
    expect(one).toMatchObject({ total: 1, items: [{ index: 130, phone: phoneOf(130), result: latest.get(130) }] });
    expect(phoneBucketReads() - before).toBe(1);
    const e164 = await tasks.details(tenantId, taskId, { phone: '+8613700000130', page: 1, pageSize: 20 }, true);
    expect(e164.items.map((r) => r.index)).toEqual([130]);
    // Digits shared by contacts 120–129, with and without a result filter.
    const some = await tasks.details(tenantId, taskId, { phone: '+861370000012', page: 1, pageSize: 20 }, true);
    expect(some.items.map((r) => r.index)).toEqual(Array.from({ length: 10 }, (_, k) => 120 + k));
    expect(phoneBucketReads() - before).toBe(2 + PHONE_BUCKETS);
    const someBusy = await tasks.details(
      tenantId,
      taskId,
      { phone: '1370000012', result: 'BUSY', page: 1, pageSize: 20 },
      true,
    );
    expect(someBusy.items.map((r) => r.index)).toEqual(busy.filter((i) => i >= 120 && i < 130));
    expect(someBusy.total).toBe(someBusy.items.length);

    expect(seen.map(nonIdOperation).filter(Boolean)).toEqual([]);
    // Another tenant sees nothing of the task.
    await expect(tasks.details('another-tenant', taskId, { page: 1, pageSize: 20 }, true)).rejects.toThrow(/task/);
  });

  it('the export carries every contact with its latest result', async () => {
    const task = await repos.tasks.get(tenantId, taskId);
    const chunks: Buffer[] = [];
    for await (const chunk of new ListExportService(repos).csv(task!, true)) chunks.push(Buffer.from(chunk as Buffer));
    const lines = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(n + 1);
    const cells = (i: number) => lines[i + 1]!.split(',');
    expect([cells(1)[0], cells(1)[3], cells(1)[12]]).toEqual(['2', '呼叫成功', '2']);
    expect([cells(34)[0], cells(34)[3], cells(34)[12]]).toEqual(['35', '用户占线', '1']);
    expect([cells(280)[0], cells(280)[3], cells(280)[12]]).toEqual(['281', '', '0']);
    expect(cells(299).at(-1)).toBe('DO_NOT_CALL');
  });
});
