/**
 * The walking skeleton, end to end on real servers.
 * Real: the NestJS API (in process, over HTTP via supertest), the Temporal dev server and SDK workers (in process),
 * FerretDB (MongoDB protocol), Asterisk 22 over ARI, espeak-ng TTS in the Asterisk root, and one sipp callee per
 * behaviour on loopback. Nothing is faked.
 *
 * One list holds one number per sipp behaviour; number → callee routing is the product's own prefix routing
 * (SIP_ROUTES), each route pointing at one sipp process.
 */
import type { INestApplication } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { TEMPORAL } from '../../api/common/tokens';
import { WAIHU_STATUS } from '../../workflows/search-attributes';
import { zoneWhereOpenNow } from '../support/calendar';
import { servers, uniqueName } from '../support/servers';
import { startStack, type Stack } from '../support/stack';
import { startCallee, stopCallees, type Behaviour, type SippCallee } from '../support/sipp';

const KEY = 'e2e-manager-key-0123456789';
const AUDITOR_KEY = 'e2e-auditor-key-0123456789';
const OTHER_TENANT_KEY = 'e2e-other-tenant-key-01234';
const TENANT = uniqueName('tenant');

/** number suffix, behaviour, expected result, expected hang-up side */
const CASES: [string, Behaviour, string, string][] = [
  ['01', 'answer', '呼叫成功', 'ROBOT'],
  ['02', 'busy', '用户占线', 'SYSTEM'],
  ['03', 'no-answer', '无应答', 'SYSTEM'],
  ['04', 'decline', '用户无法接通(拒绝)', 'USER'],
  ['05', 'not-found', '空号', 'SYSTEM'],
  ['06', 'unavailable', '无应答', 'SYSTEM'],
  ['07', 'congestion', '呼损', 'SYSTEM'],
  ['08', 'callee-hangup', '呼叫成功', 'USER'],
  ['09', 'dtmf', '呼叫成功', 'ROBOT'],
];
const phoneOf = (suffix: string) => `+86138000000${suffix}`;
const SIP_BASE_PORT = 5172;

let callees: SippCallee[] = [];
let stack: Stack;
let app: INestApplication;

beforeAll(async () => {
  callees = await Promise.all(CASES.map(([, behaviour], i) => startCallee(behaviour, SIP_BASE_PORT + i)));
  stack = await startStack('e2e', {
    API_KEYS: `${KEY}:${TENANT}:manager|supervisor,${AUDITOR_KEY}:${TENANT}:auditor,${OTHER_TENANT_KEY}:${uniqueName('other')}:manager`,
    RING_TIMEOUT_SECONDS: '6',
    SIP_ROUTES: CASES.map(([suffix], i) => `${phoneOf(suffix)}=127.0.0.1:${SIP_BASE_PORT + i}`).join(','),
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  stopCallees(callees);
});

const auth = (key = KEY) => ({ Authorization: `Bearer ${key}` });

/**
 * With WAIHU_RECORD_HISTORIES=1, keep this run's workflow histories as replay fixtures (test/fixtures/histories):
 * test/workflows/replay.spec.ts then checks in every run that the current workflow code still makes the decisions
 * these real campaigns made. Record again only on purpose, together with a `patched()` change.
 */
async function recordHistories(workflowIds: string[]): Promise<void> {
  const dir = join(__dirname, '..', 'fixtures', 'histories');
  mkdirSync(dir, { recursive: true });
  const cli = join(
    process.env.WAIHU_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'waihu'),
    'venv',
    'bin',
    'temporal',
  );
  for (const id of workflowIds) {
    // The CLI writes the standard proto JSON of a history, which the SDK's replayer reads.
    const { stdout } = await promisify(execFile)(
      cli,
      ['workflow', 'show', '--workflow-id', id, '--address', servers.temporalAddress, '--output', 'json'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const name = id.split('/').slice(2).join('-') || 'campaign';
    writeFileSync(join(dir, `walking-skeleton-${name}.json`), stdout);
  }
}

async function waitForStatus(taskId: string, statuses: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(app.getHttpServer()).get(`/tasks/${taskId}`).set(auth());
    expect(res.status).toBe(200);
    if (statuses.includes(res.body.status)) return res.body;
    if (Date.now() > deadline)
      throw new Error(`task ${taskId} still ${res.body.status}: ${JSON.stringify(res.body.progress)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('walking skeleton: CSV → campaign → ARI calls → results', () => {
  it('reports Temporal, MongoDB and ARI up on /health without credentials', async () => {
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'up',
      checks: { temporal: { status: 'up' }, mongodb: { status: 'up' }, ari: { status: 'up' } },
    });
  });

  it('places one real call per behaviour and records the seed result of each', async () => {
    const csv = ['用户号码,用户名称', ...CASES.map(([suffix, behaviour]) => `${phoneOf(suffix)},${behaviour}`)].join(
      '\n',
    );
    const definition = {
      name: '端到端_skeleton',
      description: 'one number per sipp behaviour',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      workingWindows: [{ start: '00:00', end: '23:59' }],
      timezone: zoneWhereOpenNow(),
      aiSeats: 9,
    };
    const created = await request(app.getHttpServer())
      .post('/tasks')
      .set(auth())
      .field('definition', JSON.stringify(definition))
      .attach('file', Buffer.from(csv, 'utf8'), 'list.csv');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ totalContacts: 9, status: 'RUNNING' });

    const done = await waitForStatus(created.body.id, ['COMPLETED'], 150_000);
    expect(done.stats.attempts).toBe(9);

    const details = await request(app.getHttpServer()).get(`/tasks/${created.body.id}/details?pageSize=20`).set(auth());
    expect(details.status).toBe(200);
    expect(details.body.total).toBe(9);
    const byPhone = new Map<string, Record<string, unknown>>(
      details.body.items.map((r: { phone: string }) => [r.phone, r]),
    );
    for (const [suffix, behaviour, label, hangupBy] of CASES) {
      const row = byPhone.get(phoneOf(suffix));
      expect({ behaviour, label: row?.resultLabel, hangupBy: row?.hangupBy }).toEqual({ behaviour, label, hangupBy });
      expect(typeof row?.startedAt).toBe('string');
      expect(typeof row?.endedAt).toBe('string');
      if (label === '呼叫成功') {
        expect(typeof row?.answeredAt).toBe('string');
        expect(row?.talkSeconds).toBeGreaterThan(0.5);
      } else {
        expect(row?.answeredAt).toBeUndefined();
        expect(row?.talkSeconds).toBe(0);
      }
    }
    // The robot played the whole Mandarin prompt (several seconds) before hanging up; the callee who hung up
    // after ~1.5 s cut it short.
    const robotEnded = byPhone.get(phoneOf('01'))!;
    const calleeEnded = byPhone.get(phoneOf('08'))!;
    expect(robotEnded.talkSeconds as number).toBeGreaterThan(calleeEnded.talkSeconds as number);
    expect(robotEnded.resultDetail).toBe('用户听完语音');
    expect(calleeEnded.resultDetail).toBeUndefined();
    // The no-answer callee rang until the configured ring timeout (6 s).
    expect(byPhone.get(phoneOf('03'))!.ringSeconds as number).toBeGreaterThanOrEqual(5);

    // The Temporal UI lists the task's calls by search attribute, each with its result.
    const temporal = app.get<Client>(TEMPORAL);
    const listed = async () => {
      const statuses: Record<string, string> = {};
      for await (const wf of temporal.workflow.list({ query: `WaihuTask = '${created.body.id}'` }))
        statuses[wf.workflowId] = String(wf.typedSearchAttributes.get(WAIHU_STATUS));
      return statuses;
    };
    let seen: Record<string, string> = {};
    for (let i = 0; i < 50 && Object.keys(seen).length < 10; i++) {
      seen = await listed();
      if (Object.keys(seen).length < 10) await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen[`task/${created.body.id}`]).toBe('COMPLETED');
    expect(seen[`task/${created.body.id}/contact/1`]).toBe('BUSY');
    expect(Object.keys(seen)).toHaveLength(10);
    if (process.env.WAIHU_RECORD_HISTORIES === '1') await recordHistories(Object.keys(seen));

    // Auditors read masked numbers; another tenant cannot see the task at all.
    const audited = await request(app.getHttpServer()).get(`/tasks/${created.body.id}/details`).set(auth(AUDITOR_KEY));
    expect(audited.status).toBe(200);
    expect(audited.body.items.map((r: { phone: string }) => r.phone)).toContain('+86138****0001');
    const other = await request(app.getHttpServer())
      .get(`/tasks/${created.body.id}/details`)
      .set(auth(OTHER_TENANT_KEY));
    expect(other.status).toBe(404);
  }, 200_000);

  it('rejects a list with a bad row, naming row and column, and writes nothing', async () => {
    const before = await request(app.getHttpServer()).get('/tasks').set(auth());
    const res = await request(app.getHttpServer())
      .post('/tasks')
      .set(auth())
      .field(
        'definition',
        JSON.stringify({ name: 'bad_list', workingDays: [1], workingWindows: [{ start: '09:00', end: '12:00' }] }),
      )
      .attach('file', Buffer.from('phone\n13800138000\nnot-a-number\n', 'utf8'), 'list.csv');
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors).toEqual([{ field: 'phone', row: 3, value: 'not-a-number', reason: expect.any(String) }]);
    const after = await request(app.getHttpServer()).get('/tasks').set(auth());
    expect(after.body.total).toBe(before.body.total);
  });

  it('rejects a definition with overlapping windows or a window inside blocked hours, naming the field', async () => {
    const res = await request(app.getHttpServer())
      .post('/tasks')
      .set(auth())
      .field(
        'definition',
        JSON.stringify({
          name: 'bad_windows',
          workingDays: [1],
          workingWindows: [
            { start: '09:00', end: '11:00' },
            { start: '10:00', end: '11:30' },
          ],
        }),
      )
      .attach('file', Buffer.from('phone\n13800138000\n', 'utf8'), 'list.csv');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ field: 'workingWindows.1', reason: 'overlaps workingWindows.0' }),
    ]);

    const blocked = await request(app.getHttpServer())
      .post('/tasks')
      .set(auth())
      .field(
        'definition',
        JSON.stringify({ name: 'night', workingDays: [1], workingWindows: [{ start: '22:00', end: '23:00' }] }),
      )
      .attach('file', Buffer.from('phone\n13800138000\n', 'utf8'), 'list.csv');
    expect(blocked.status).toBe(422);
    expect(blocked.body.errors[0]).toMatchObject({ field: 'workingWindows.0' });
    expect(blocked.body.errors[0].reason).toMatch(/blocked hours/);
  });

  it('authenticates every route and checks roles', async () => {
    expect((await request(app.getHttpServer()).get('/tasks')).status).toBe(401);
    expect((await request(app.getHttpServer()).get('/tasks').set(auth('wrong-key-wrong-key-wrong'))).status).toBe(401);
    const forbidden = await request(app.getHttpServer())
      .post('/tasks')
      .set(auth(AUDITOR_KEY))
      .field('definition', '{}');
    expect(forbidden.status).toBe(403);
    expect((await request(app.getHttpServer()).get('/tasks').set(auth(AUDITOR_KEY))).status).toBe(200);
  });
});
