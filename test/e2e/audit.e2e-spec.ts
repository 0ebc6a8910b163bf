/**
 * Audit end to end (issue #9): one contact whose call is window-delayed (the task's window opens a minute or two
 * after the start), waits for a seat while a supervisor has paused the task, is busy on the first attempt, is
 * redialled after the retry interval, answers the second time and walks the demo script by keys to the robot's
 * transfer. Then an auditor reads the call's timeline (every step in order, agreeing with the dialog record and the
 * call record), verifies it by replay against the current workflow code, exports the task's calls and transcripts
 * and the raw history (numbers masked), and is refused every write route.
 *
 * Real: the API in process over HTTP, the Temporal dev server and workers, FerretDB, Asterisk 22 over ARI,
 * espeak-ng, sipp (ports 5800–5849). Nothing is faked.
 *
 * With WAIHU_RECORD_HISTORIES=1 the contact's and the campaign's histories are kept in test/fixtures/histories
 * (`audit-*.json`): the replay corpus (test/workflows/replay.spec.ts) and the timeline's unit tests read them.
 */
import type { INestApplication } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DateTime } from 'luxon';
import { renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import * as XLSX from 'xlsx';
import { createLogger } from '../../activities/logger';
import { installRuntime } from '../../activities/observability/runtime';
import { TEMPORAL } from '../../api/common/tokens';
import { demoScript } from '../../src/script/demo';
import { attemptId, contactWorkflowId, taskWorkflowId } from '../../src/ids';
import { zoneWhereOpenNow } from '../support/calendar';
import { writeKeySequence } from '../support/dtmf-pcap';
import { testConfig, uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { sleep, until } from '../support/wait';

const MANAGER = 'audit-manager-key-0123456789';
const SUPERVISOR = 'audit-supervisor-key-01234567';
const AUDITOR = 'audit-auditor-key-0123456789';
const TENANT = uniqueName('tenant');
const SIP_PORT = 5800;
const PHONE = '+8613900000077';
const MASKED = '+86139****0077';

let stack: Stack;
let app: INestApplication;
const callees: SippCallee[] = [];

/** The worker's Prometheus endpoint (the Temporal runtime's exporter; in this file's range of owned ports). */
const WORKER_METRICS = '127.0.0.1:5849';

beforeAll(async () => {
  // As activities/worker.ts does before any connection: the runtime exports the worker's metrics. (The jest setup
  // installed a runtime without an exporter; nothing has used it yet, so it is replaced.)
  await Runtime.instance().shutdown();
  installRuntime(testConfig({ WORKER_METRICS_BIND: WORKER_METRICS }), createLogger('warn', 'audit'));
  callees.push(await startCallee('busy', SIP_PORT));
  stack = await startStack('audit', {
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor,${AUDITOR}:${TENANT}:auditor`,
    SIP_ROUTES: `${PHONE}=127.0.0.1:${SIP_PORT}`,
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  stopCallees(callees);
});

const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => request(app.getHttpServer());

async function approvedDemoScript(): Promise<{ id: string; version: number }> {
  const s: Partial<ReturnType<typeof demoScript>> = demoScript();
  delete s.id;
  delete s.sceneClass;
  const { name, industry, scene, remarks, ...content } = s as ReturnType<typeof demoScript>;
  const created = await http()
    .post('/scripts')
    .set(as(MANAGER))
    .send({ name, industry, scene, remarks, script: content });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await http().post(`/scripts/${id}/dubbing/tts`).set(as(MANAGER)).send({})).status).toBe(200);
  const submitted = await http().post(`/scripts/${id}/submit`).set(as(MANAGER)).send({});
  const version = (submitted.body.version ?? submitted.body.current?.version) as number;
  const approved = await http().post(`/scripts/${id}/versions/${version}/approve`).set(as(SUPERVISOR)).send({});
  expect([200, 201]).toContain(approved.status);
  return { id, version };
}

/** A window that opens at the next minute boundary at least 20 s away, in a zone open now. */
function windowOpeningSoon(): { zone: string; start: string; end: string; opensAt: number } {
  const zone = zoneWhereOpenNow(50);
  const now = DateTime.now().setZone(zone);
  let opens = now.startOf('minute').plus({ minutes: 1 });
  if (opens.diff(now).as('seconds') < 20) opens = opens.plus({ minutes: 1 });
  return {
    zone,
    start: opens.toFormat('HH:mm'),
    end: opens.plus({ minutes: 40 }).toFormat('HH:mm'),
    opensAt: opens.toMillis(),
  };
}

let taskId = '';
let temporal: Client;

describe('an auditor reads and verifies one call’s whole story', () => {
  it('runs a window-delayed, paused, retried, transferred call', async () => {
    temporal = app.get<Client>(TEMPORAL);
    const script = await approvedDemoScript();
    const w = windowOpeningSoon();
    const csv = ['用户号码,用户名称,custName,shopName', `${PHONE},张三,张三,小王的店`].join('\n');
    const created = await http()
      .post('/tasks')
      .set(as(MANAGER))
      .field(
        'definition',
        JSON.stringify({
          name: '审计_回放',
          workingDays: [1, 2, 3, 4, 5, 6, 7],
          workingWindows: [{ start: w.start, end: w.end }],
          timezone: w.zone,
          aiSeats: 1,
          scriptId: script.id,
          retry: { reasons: ['BUSY'], maxRetries: 1, intervalMinutes: 1 },
        }),
      )
      .attach('file', Buffer.from(csv, 'utf8'), 'list.csv');
    expect(created.status).toBe(201);
    taskId = created.body.id as string;

    // Pause once the contact is admitted (a paused campaign admits nobody), and resume after its window opened:
    // the contact then waits for its seat while the task is paused.
    await until(
      () =>
        temporal.workflow
          .getHandle(contactWorkflowId(taskId, 0))
          .describe()
          .then(
            () => true,
            () => false,
          ),
      'the contact workflow to start',
      30_000,
      200,
    );
    expect((await http().post(`/tasks/${taskId}/stop`).set(as(SUPERVISOR))).status).toBe(200);
    await sleep(Math.max(0, w.opensAt - Date.now()) + 4_000);
    expect((await http().post(`/tasks/${taskId}/start`).set(as(SUPERVISOR))).status).toBe(200);

    // The first attempt is busy; the redial (a minute later) reaches a callee that answers and presses keys:
    // 1 (本人) → rate, 9 (KB flow 物流查询) → k.ask, 1 (yes) → k.transfer.
    await until(
      async () => {
        const d = await http().get(`/tasks/${taskId}/details`).set(as(MANAGER));
        return d.body.items?.[0]?.resultLabel === '用户占线';
      },
      'the first attempt to be busy',
      60_000,
      500,
    );
    stopCallees(callees.splice(0));
    const keysDir = join(tmpdir(), uniqueName('waihu-audit-keys-'));
    // test/sipp/dialog-keys.xml plays key0-1, key1-8, key2-9, key3-2, key4-1 (by name, at fixed times): the
    // files under those names carry this test's keys instead.
    writeKeySequence(keysDir, ['1', '9', '1', '1', '1']);
    for (const [from, to] of [
      ['key1-9', 'key1-8'],
      ['key2-1', 'key2-9'],
      ['key3-1', 'key3-2'],
    ])
      renameSync(join(keysDir, `${from}.pcap`), join(keysDir, `${to}.pcap`));
    callees.push(await startCallee('dialog-keys', SIP_PORT, [], { cwd: keysDir }));

    await until(
      async () => (await http().get(`/tasks/${taskId}`).set(as(MANAGER))).body.status === 'COMPLETED',
      'the task to complete',
      180_000,
      1000,
    );

    if (process.env.WAIHU_RECORD_HISTORIES === '1') {
      const dir = join(__dirname, '..', 'fixtures', 'histories');
      const contact = await temporal.workflow.getHandle(contactWorkflowId(taskId, 0)).fetchHistory();
      writeFileSync(join(dir, 'audit-contact-0.json'), historyToJSON(contact));
      const campaign = await temporal.workflow.getHandle(taskWorkflowId(taskId)).fetchHistory();
      writeFileSync(join(dir, 'audit-campaign.json'), historyToJSON(campaign));
    }
    const details = await http().get(`/tasks/${taskId}/details`).set(as(MANAGER));
    expect(details.body.items[0]).toMatchObject({ resultLabel: '呼叫成功', attemptId: attemptId(taskId, 0, 2) });
  }, 400_000);

  it('shows the timeline: every step in order, agreeing with the call and dialog records', async () => {
    const call = attemptId(taskId, 0, 2);
    const res = await http().get(`/tasks/${taskId}/calls/${call}/timeline`).set(as(AUDITOR));
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body).toMatchObject({
      taskId,
      attemptId: call,
      contactIndex: 0,
      attempt: 2,
      workflowId: contactWorkflowId(taskId, 0),
      phone: MASKED,
      temporalUiUrl: expect.stringContaining(encodeURIComponent(contactWorkflowId(taskId, 0))),
    });
    expect(body.checks.length).toBeGreaterThanOrEqual(3);
    for (const c of body.checks) expect(c).toMatchObject({ ok: true });
    const entries = body.entries as { kind: string; reason?: string; attempt?: number; paused?: unknown[] }[];
    // The transfer's own steps (hold, queue, agent: issue #8) come after the robot's transfer, before the hang-up.
    const story = entries.filter((e) => !['status', 'turn', 'queue', 'activity'].includes(e.kind)).map((e) => e.kind);
    const queued = entries.findIndex((e) => e.kind === 'queue');
    if (queued >= 0) expect(queued).toBeGreaterThan(entries.findIndex((e) => e.kind === 'transfer'));
    expect(story).toEqual([
      'due',
      'wait',
      'seat',
      'dial',
      'ringing',
      'hangup',
      'result',
      'recorded',
      'wait',
      'seat',
      'dial',
      'ringing',
      'answered',
      'transfer',
      'hangup',
      'result',
      'recorded',
      'finished',
    ]);
    const waits = entries.filter((e) => e.kind === 'wait');
    expect(waits.map((e) => e.reason)).toEqual(['closed: outside working windows', 'redial interval']);
    const seats = entries.filter((e) => e.kind === 'seat');
    expect(seats[0]!.paused).toHaveLength(1);
    expect(seats[1]!.paused).toBeUndefined();
    // Every turn of the dialog, in order, as the dialog record has them.
    const dialog = await http().get(`/tasks/${taskId}/calls/${call}/dialog`).set(as(AUDITOR));
    const turns = entries.filter((e) => e.kind === 'turn') as unknown as {
      turn: { seq: number; key?: string; bargeInIgnored?: boolean };
    }[];
    expect(turns.map((t) => t.turn.seq)).toEqual(dialog.body.turns.map((t: { seq: number }) => t.seq));
    expect(turns.filter((t) => t.turn.key && !t.turn.bargeInIgnored).map((t) => t.turn.key)).toEqual(['1', '9', '1']);
    // Times never go backwards.
    const times = entries.map((e) => Date.parse((e as unknown as { at: string }).at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // A manager sees the full number; another call of the task or a foreign id is 404.
    const managed = await http().get(`/tasks/${taskId}/calls/${call}/timeline`).set(as(MANAGER));
    expect(managed.body.phone).toBe(PHONE);
    expect((await http().get(`/tasks/${taskId}/calls/nope-0-1/timeline`).set(as(AUDITOR))).status).toBe(404);
  });

  it('verifies the call by replaying its history against the current workflow code', async () => {
    const res = await http()
      .post(`/tasks/${taskId}/calls/${attemptId(taskId, 0, 1)}/replay`)
      .set(as(AUDITOR));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sameDecisions: true, workflowId: contactWorkflowId(taskId, 0) });
    expect(res.body.events).toBeGreaterThan(20);
  }, 120_000);

  it('exports calls, transcripts and the raw history, masked for auditors', async () => {
    const calls = await http().get(`/tasks/${taskId}/audit/calls?format=json`).set(as(AUDITOR));
    expect(calls.status).toBe(200);
    expect(
      calls.body.items.map((c: { attemptId: string; outcome?: { code: string } }) => [c.attemptId, c.outcome?.code]),
    ).toEqual([
      [attemptId(taskId, 0, 1), 'BUSY'],
      [attemptId(taskId, 0, 2), 'SUCCESS'],
    ]);
    expect(calls.body.items[0].phone).toBe(MASKED);
    const csv = await http().get(`/tasks/${taskId}/audit/calls?format=csv`).set(as(AUDITOR));
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(MASKED);
    expect(csv.text).not.toContain(PHONE);
    const xlsx = await http()
      .get(`/tasks/${taskId}/audit/dialogs?format=xlsx`)
      .set(as(MANAGER))
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(xlsx.status).toBe(200);
    const wb = XLSX.read(xlsx.body as Buffer);
    const rows = XLSX.utils.sheet_to_json<unknown[]>(wb.Sheets[wb.SheetNames[0]!]!, { header: 1 });
    expect(rows.length).toBeGreaterThan(3);
    const history = await http()
      .get(`/tasks/${taskId}/calls/${attemptId(taskId, 0, 2)}/history`)
      .set(as(AUDITOR));
    expect(history.status).toBe(200);
    // Every payload decoded: the callee's number appears only masked; the history still replays.
    const decoded = JSON.stringify(history.body, (k, v) =>
      k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v,
    );
    expect(decoded).not.toContain(PHONE);
    expect(decoded).toContain(MASKED);
    expect(history.body.events.length).toBeGreaterThan(20);
    const full = await http()
      .get(`/tasks/${taskId}/calls/${attemptId(taskId, 0, 2)}/history`)
      .set(as(MANAGER));
    expect(JSON.stringify(full.body, (k, v) => (k === 'data' ? Buffer.from(v, 'base64').toString() : v))).toContain(
      PHONE,
    );
  });

  it('serves Prometheus metrics at /metrics', async () => {
    const res = await http().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('waihu_campaigns_running');
    expect(res.text).toContain('waihu_api_process_cpu_user_seconds_total');
    // The worker's own endpoint: the SDK's workflow task latency and this worker's call metrics.
    const worker = await fetch(`http://${WORKER_METRICS}/metrics`).then((r) => r.text());
    expect(worker).toMatch(/workflow_task_execution_latency/);
    expect(worker).toMatch(/waihu_calls_total\{[^}]*result="BUSY"[^}]*\} 1/);
    expect(worker).toMatch(/waihu_calls_total\{[^}]*result="SUCCESS"[^}]*\} 1/);
    expect(worker).toMatch(/waihu_calls_in_progress\{[^}]*\} 0/);
    expect(worker).toMatch(/waihu_dial_overhead_seconds_count\b[^\n]* 2/);
    console.log(
      worker
        .split('\n')
        .filter((l) => /^waihu_|workflow_task_execution_latency_seconds_(sum|count)/.test(l))
        .join('\n'),
    );
  });
});
