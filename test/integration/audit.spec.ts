/**
 * Audit API rules on the real servers (FerretDB, the Temporal dev server); the API in process over HTTP. No worker
 * runs and nothing is dialled: a call's record is written by the campaign's own recording activity
 * (createCampaignActivities().recordAttempt), exactly as a finished call writes it.
 *
 * - an auditor can read but not change anything: every write route of the OpenAPI document answers 403 (the one
 *   POST an auditor may call, ReplayCallHistory, writes nothing);
 * - exports mask numbers for auditors, keep them for managers, and neutralise formula cells;
 * - another tenant's call is a 404; `/metrics` needs METRICS_TOKEN when it is set.
 */
import type request from 'supertest';
import { createCampaignActivities } from '../../activities/campaign-activities';
import { attemptId } from '../../src/ids';
import { apiTestApp, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';

const MANAGER = 'audit-int-manager-key-012345';
const AUDITOR = 'audit-int-auditor-key-012345';
const OTHER = 'audit-int-other-tenant-key-0123';
const METRICS_TOKEN = 'audit-int-metrics-token-0123';
const TENANT = uniqueName('tenant');
const PHONE = '+8613900000123';
const MASKED = '+86139****0123';

let api: ApiTestApp;

beforeAll(async () => {
  api = await apiTestApp('audit', {
    env: {
      API_KEYS: `${MANAGER}:${TENANT}:manager,${AUDITOR}:${TENANT}:auditor,${OTHER}:${uniqueName('other')}:manager|auditor`,
      METRICS_TOKEN,
    },
  });
}, 60_000);

afterAll(() => api?.close());

const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => api.http();

/** A task (not started) whose one contact has one finished, answered call. */
async function taskWithACall(): Promise<string> {
  const created = await http()
    .post('/tasks')
    .set(as(MANAGER))
    .field(
      'definition',
      JSON.stringify({
        name: '审计导出',
        workingDays: [1, 2, 3, 4, 5],
        workingWindows: [{ start: '09:00', end: '12:00' }],
        effectiveImmediately: false,
      }),
    )
    .attach('file', Buffer.from(`phone,name\n${PHONE},@张三\n`, 'utf8'), 'list.csv');
  expect(created.status).toBe(201);
  const taskId = created.body.id as string;
  const acts = createCampaignActivities({ ...api.ports.repos, logger: api.ports.logger });
  await acts.recordAttempt({
    tenantId: TENANT,
    taskId,
    contactIndex: 0,
    outcome: {
      attemptId: attemptId(taskId, 0, 1),
      attempt: 1,
      code: 'SUCCESS',
      label: '呼叫成功',
      hangupBy: 'ROBOT',
      startedAt: '2026-01-05T02:00:00.000Z',
      answeredAt: '2026-01-05T02:00:03.000Z',
      endedAt: '2026-01-05T02:00:30.000Z',
      ringSeconds: 3,
      talkSeconds: 27,
      dtmf: ['1'],
      note: `-callback ${PHONE}`,
    },
  });
  return taskId;
}

describe('audit API', () => {
  it('refuses auditors every write route (403), read routes stay open to them', async () => {
    const doc = (await http().get('/docs/openapi.json')).body as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const writes: [string, string, string][] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        if (['post', 'put', 'patch', 'delete'].includes(method) && op.operationId !== 'ReplayCallHistory')
          writes.push([method, path.replace(/\{[^}]+\}/g, 'x1'), op.operationId ?? '']);
    expect(writes.length).toBeGreaterThan(15);
    for (const [method, path, op] of writes) {
      const res = await (http() as unknown as Record<string, (p: string) => request.Test>)[method]!(path)
        .set(as(AUDITOR))
        .send({});
      expect({ op, status: res.status }).toEqual({ op, status: 403 });
    }
    expect((await http().get('/tasks').set(as(AUDITOR))).status).toBe(200);
  });

  it('exports every call of a task: masked for auditors, full for managers, formula cells neutralised', async () => {
    const taskId = await taskWithACall();
    const audited = await http().get(`/tasks/${taskId}/audit/calls?format=json`).set(as(AUDITOR));
    expect(audited.status).toBe(200);
    expect(audited.body.items).toEqual([
      expect.objectContaining({ attemptId: attemptId(taskId, 0, 1), phone: MASKED, attempt: 1 }),
    ]);
    expect(audited.body.items[0].outcome).toMatchObject({ code: 'SUCCESS', talkSeconds: 27 });
    const managed = await http().get(`/tasks/${taskId}/audit/calls?format=json`).set(as(MANAGER));
    expect(managed.body.items[0].phone).toBe(PHONE);

    const csv = await http().get(`/tasks/${taskId}/audit/calls?format=csv`).set(as(AUDITOR));
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).toContain(MASKED);
    expect(csv.text).not.toContain(PHONE);
    expect(csv.text).toContain(`'@张三`);
    expect(csv.text).toContain(`'-callback ${MASKED}`);

    // No dialog record: the transcript export has its header only.
    const dialogs = await http().get(`/tasks/${taskId}/audit/dialogs?format=json`).set(as(AUDITOR));
    expect(dialogs.body).toEqual({ taskId, items: [] });
    const bad = await http().get(`/tasks/${taskId}/audit/calls?format=pdf`).set(as(AUDITOR));
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'format' })]);
  });

  it('keeps calls to their tenant: another tenant’s or a malformed call id is 404', async () => {
    const taskId = await taskWithACall();
    const call = attemptId(taskId, 0, 1);
    for (const route of ['timeline', 'history'])
      expect((await http().get(`/tasks/${taskId}/calls/${call}/${route}`).set(as(OTHER))).status).toBe(404);
    expect((await http().post(`/tasks/${taskId}/calls/${call}/replay`).set(as(OTHER))).status).toBe(404);
    expect((await http().get(`/tasks/${taskId}/audit/calls`).set(as(OTHER))).status).toBe(404);
    expect((await http().get(`/tasks/${taskId}/calls/other-0-1/timeline`).set(as(AUDITOR))).status).toBe(404);
    // The task was never started: no workflow, so no history.
    expect((await http().get(`/tasks/${taskId}/calls/${call}/timeline`).set(as(AUDITOR))).status).toBe(404);
  });

  it('serves /metrics only with METRICS_TOKEN when it is set', async () => {
    expect((await http().get('/metrics')).status).toBe(401);
    expect((await http().get('/metrics').set(as(MANAGER))).status).toBe(401);
    const res = await http().get('/metrics').set(as(METRICS_TOKEN));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/^waihu_campaigns_running \d+$/m);
    expect(res.text).toContain('# TYPE waihu_task_seats_in_use gauge');
  });
});
