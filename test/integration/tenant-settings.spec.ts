/**
 * Tenant settings: blocked hours, holidays, the AI-seat pool, frequency caps and the default zone, read over the
 * configuration's defaults, changed by admins, and used by CreateTask and the campaign's start.
 * Real: the NestJS app (in process, over HTTP via supertest), FerretDB and the Temporal dev server. The campaign is
 * started through CampaignService.startWorkflow (what StartTask and CreateTask call) on a task queue of this test's
 * own that no worker polls: the test reads the input the campaign was started with from its Temporal history, and
 * terminates it at the end. No call is placed.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { frequencyCapOf, upcomingHolidays } from '../../activities/mongo/tenant-settings';
import { CampaignService } from '../../api/tasks/campaign.service';
import type { CampaignTask } from '../../workflows/definitions';
import { apiTestApp, apiTestConfig, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';
import { problemFields as fields } from '../support/problems';

const ADMIN = 'tset-admin-key-0123456789ab';
const MANAGER = 'tset-manager-key-0123456789';
const AUDITOR = 'tset-auditor-key-0123456789';
const OTHER_ADMIN = 'tset-other-admin-key-012345';
const TENANT = uniqueName('tset');
const OTHER_TENANT = uniqueName('tset-other');

const config = apiTestConfig('tset', {
  TEMPORAL_TASK_QUEUE: uniqueName('tenant-settings-no-worker-'),
  API_KEYS: [
    `${ADMIN}:${TENANT}:admin`,
    `${MANAGER}:${TENANT}:manager|supervisor`,
    `${AUDITOR}:${TENANT}:auditor`,
    `${OTHER_ADMIN}:${OTHER_TENANT}:admin`,
  ].join(','),
  // Defaults that differ from the built-in ones, so the test sees they come from the configuration.
  BLOCKED_HOURS: '12:00-14:00,21:00-09:00',
  HOLIDAYS: '2031-01-01,2031-10-01',
  TENANT_AI_SEATS: '20',
  FREQUENCY_CAP_PER_DAY: '2',
  FREQUENCY_CAP_PER_WEEK: '6',
  DEFAULT_TIMEZONE: 'Asia/Shanghai',
});

let api: ApiTestApp;
const started: string[] = [];

beforeAll(async () => {
  api = await apiTestApp('tenant-settings-test', { config });
}, 60_000);

afterAll(async () => {
  for (const id of started)
    await api.ports.temporal.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await api?.close();
});

const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => api.http();
const getSettings = (key = AUDITOR) => http().get('/tenant/settings').set(auth(key));
const putSettings = (body: unknown, key = ADMIN) =>
  http()
    .put('/tenant/settings')
    .set(auth(key))
    .send(body as object);
const nextYear = new Date().getUTCFullYear() + 1;

function createTask(extra: Record<string, unknown>, key = MANAGER) {
  const definition = JSON.stringify({
    name: '设置测试',
    workingDays: [1, 2, 3, 4, 5, 6, 7],
    workingWindows: [{ start: '09:00', end: '12:00' }],
    effectiveImmediately: false,
    ...extra,
  });
  return http()
    .post('/tasks')
    .set(auth(key))
    .field('definition', definition)
    .attach('file', Buffer.from('phone\n13900000001\n13900000002\n'), 'list.csv');
}

describe('tenant settings', () => {
  it('start from the configuration’s defaults, for every role', async () => {
    const res = await getSettings();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      tenantId: TENANT,
      blockedHours: [
        { start: '12:00', end: '14:00' },
        { start: '21:00', end: '09:00' },
      ],
      holidays: ['2031-01-01', '2031-10-01'],
      aiSeats: 20,
      frequencyCap: { perDay: 2, perWeek: 6 },
      timezone: 'Asia/Shanghai',
      inherited: ['blockedHours', 'holidays', 'aiSeats', 'frequencyCap', 'timezone'],
    });
    expect((await getSettings(MANAGER)).status).toBe(200);
    expect((await getSettings(ADMIN)).status).toBe(200);
    expect((await http().get('/tenant/settings')).status).toBe(401);
    expect(await api.ports.repos.tenantSettings.get(TENANT)).toMatchObject({ aiSeats: 20, timezone: 'Asia/Shanghai' });
    const doc = JSON.stringify((await http().get('/docs/openapi.json')).body);
    for (const op of ['GetTenantSettings', 'UpdateTenantSettings', 'ReplaceTenantHolidays'])
      expect(doc).toContain(`"operationId":"${op}"`);
  });

  it('refuse bad values naming each field, and write nothing', async () => {
    const shape = await putSettings({
      blockedHours: [{ start: '25:00', end: '9' }],
      holidays: '2025-10-01',
      aiSeats: 0,
      frequencyCap: { perDay: -1, perWeek: 1.5 },
      timezone: 8,
      color: 'blue',
    });
    expect(shape.status).toBe(400);
    expect(shape.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(fields(shape)).toEqual(
      expect.arrayContaining([
        'blockedHours.0.start',
        'blockedHours.0.end',
        'holidays',
        'aiSeats',
        'frequencyCap.perDay',
        'frequencyCap.perWeek',
        'timezone',
        'color',
      ]),
    );
    expect(fields(await putSettings({ blockedHours: [] }))).toEqual(['blockedHours']);
    expect(fields(await putSettings({ aiSeats: 10_001 }))).toEqual(['aiSeats']);
    expect(fields(await putSettings({ holidays: Array.from({ length: 401 }, () => '2030-01-01') }))).toEqual([
      'holidays',
    ]);

    const meaning = await putSettings({
      blockedHours: [
        { start: '12:00', end: '14:00' },
        { start: '09:00', end: '09:00' },
      ],
      holidays: ['2030-01-01', '2030-02-30', '20300301'],
      timezone: 'Mars/Olympus',
      frequencyCap: { perDay: 5, perWeek: 3 },
    });
    expect(meaning.status).toBe(422);
    expect(fields(meaning)).toEqual(['blockedHours.1', 'holidays.1', 'holidays.2', 'timezone', 'frequencyCap.perDay']);
    const wholeDay = await putSettings({
      blockedHours: [
        { start: '00:00', end: '12:00' },
        { start: '12:00', end: '00:00' },
      ],
    });
    expect(wholeDay.status).toBe(422);
    expect(wholeDay.body).toMatchObject({
      errors: [{ field: 'blockedHours', reason: expect.stringMatching(/whole day/) }],
    });

    const year = await http()
      .put(`/tenant/holidays/${nextYear}`)
      .set(auth(ADMIN))
      .send({ dates: [`${nextYear}-05-01`, `${nextYear + 1}-01-01`, `${nextYear}-13-01`] });
    expect(year.status).toBe(422);
    expect(fields(year)).toEqual(['dates.1', 'dates.2']);
    expect(fields(await http().put('/tenant/holidays/abc').set(auth(ADMIN)).send({ dates: [] }))).toEqual(['year']);
    expect(fields(await http().put('/tenant/holidays/2030').set(auth(ADMIN)).send({}))).toEqual(['dates']);

    expect((await getSettings()).body).toMatchObject({ aiSeats: 20, inherited: expect.arrayContaining(['holidays']) });
  });

  it('let only admins change them, and only their own tenant’s', async () => {
    expect((await putSettings({ aiSeats: 30 }, MANAGER)).status).toBe(403);
    expect((await putSettings({ aiSeats: 30 }, AUDITOR)).status).toBe(403);
    expect((await http().put('/tenant/holidays/2030').set(auth(MANAGER)).send({ dates: [] })).status).toBe(403);
    expect((await http().put('/tenant/settings').send({ aiSeats: 30 })).status).toBe(401);

    const other = await putSettings({ aiSeats: 3, timezone: 'Europe/Paris' }, OTHER_ADMIN);
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ tenantId: OTHER_TENANT, aiSeats: 3, timezone: 'Europe/Paris' });
    expect((await getSettings(OTHER_ADMIN)).body).toMatchObject({ aiSeats: 3, timezone: 'Europe/Paris' });
    expect((await getSettings()).body).toMatchObject({ tenantId: TENANT, aiSeats: 20, timezone: 'Asia/Shanghai' });
  });

  it('are updated and read back; null returns a field to the default; a year’s holidays are replaced alone', async () => {
    const put = await putSettings({
      blockedHours: [
        { start: '12:00', end: '14:00' },
        { start: '18:00', end: '09:00' },
      ],
      holidays: ['2030-10-02', '2030-10-01', '2030-10-01', `${nextYear}-01-01`],
      frequencyCap: { perDay: 1, perWeek: 4 },
      timezone: 'Europe/Berlin',
      aiSeats: 40,
    });
    expect(put.status).toBe(200);
    const read = await getSettings();
    expect(read.body).toMatchObject({
      blockedHours: [
        { start: '12:00', end: '14:00' },
        { start: '18:00', end: '09:00' },
      ],
      holidays: ['2030-10-01', '2030-10-02', `${nextYear}-01-01`].sort(),
      frequencyCap: { perDay: 1, perWeek: 4 },
      timezone: 'Europe/Berlin',
      aiSeats: 40,
      inherited: [],
      updatedAt: expect.any(String),
    });
    expect(put.body).toEqual(read.body);
    // The dial activity's cap for this tenant (what the media worker should pass instead of the config's).
    expect(frequencyCapOf(await api.ports.repos.tenantSettings.get(TENANT))).toEqual({
      perDay: 1,
      perWeek: 4,
      timezone: 'Europe/Berlin',
    });

    const reset = await putSettings({ aiSeats: null, frequencyCap: null });
    expect(reset.body).toMatchObject({ aiSeats: 20, frequencyCap: { perDay: 2, perWeek: 6 } });
    expect(reset.body).toMatchObject({ inherited: ['aiSeats', 'frequencyCap'], timezone: 'Europe/Berlin' });

    const year = await http()
      .put(`/tenant/holidays/${nextYear}`)
      .set(auth(ADMIN))
      .send({ dates: [`${nextYear}-10-03`, `${nextYear}-10-01`, `${nextYear}-10-02`] });
    expect(year.status).toBe(200);
    expect(year.body).toMatchObject({
      holidays: ['2030-10-01', '2030-10-02', `${nextYear}-10-01`, `${nextYear}-10-02`, `${nextYear}-10-03`].sort(),
    });
  });

  it('give a task created afterwards the tenant’s blocked hours and time zone', async () => {
    // 18:30–20:00 is open under the default blocked hours (21:00–09:00) but inside the tenant's 18:00–09:00.
    const refused = await createTask({
      workingWindows: [
        { start: '09:00', end: '12:00' },
        { start: '18:30', end: '20:00' },
      ],
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      errors: [
        {
          field: 'workingWindows.1',
          value: '18:30-20:00',
          reason: expect.stringContaining('18:00-09:00') as string,
        },
      ],
    });

    const created = await createTask({ workingWindows: [{ start: '14:00', end: '17:30' }] });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const stored = await api.ports.repos.tasks.get(TENANT, id);
    expect(stored?.calendar).toMatchObject({
      timezone: 'Europe/Berlin',
      blocked: [
        { start: '12:00', end: '14:00' },
        { start: '18:00', end: '09:00' },
      ],
    });
    // A task's own zone still wins over the tenant's.
    const own = await createTask({ timezone: 'America/New_York' });
    expect(own.status).toBe(201);
    expect((await api.ports.repos.tasks.get(TENANT, (own.body as { id: string }).id))?.calendar.timezone).toBe(
      'America/New_York',
    );
  });

  it('give the campaign the tenant’s holidays and blocked hours, and keep the pool above the seats held', async () => {
    const created = await createTask({ aiSeats: 4 });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const task = (await api.ports.repos.tasks.get(TENANT, id))!;
    // Blocked hours changed after the task was created: the campaign takes the tenant's current ones.
    expect(
      (
        await putSettings({
          blockedHours: [
            { start: '12:30', end: '13:30' },
            { start: '20:00', end: '08:00' },
          ],
        })
      ).status,
    ).toBe(200);

    const campaigns = api.app.get(CampaignService);
    started.push(task.workflowId);
    await campaigns.startWorkflow(task);
    const history = await api.ports.temporal.workflow.getHandle(task.workflowId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = defaultPayloadConverter.fromPayload<{ task: CampaignTask }>(payload!);
    expect(input.task.calendar).toEqual({
      timezone: 'Europe/Berlin',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      windows: [{ start: '09:00', end: '12:00' }],
      blocked: [
        { start: '12:30', end: '13:30' },
        { start: '20:00', end: '08:00' },
      ],
      // Past holidays (2030 is past only once the clock passes it) are dropped; the coming ones are all there.
      holidays: upcomingHolidays(
        ['2030-10-01', '2030-10-02', `${nextYear}-10-01`, `${nextYear}-10-02`, `${nextYear}-10-03`].sort(),
        Date.now(),
      ),
    });
    expect(input.task.calendar.holidays).toEqual(expect.arrayContaining([`${nextYear}-10-01`, `${nextYear}-10-03`]));
    expect(upcomingHolidays(['2000-01-01', `${nextYear}-01-01`], Date.now())).toEqual([`${nextYear}-01-01`]);

    // The task holds 4 seats of the pool (20, the default): lowering the pool below 4 is refused, naming the task.
    expect(await api.ports.repos.tenantSettings.heldSeats(TENANT)).toEqual({ [id]: 4 });
    const lowered = await putSettings({ aiSeats: 3 });
    expect(lowered.status).toBe(409);
    expect(lowered.body).toMatchObject({
      errors: [{ field: 'aiSeats', value: '3', reason: expect.stringContaining(`${id} (设置测试, RUNNING) holds 4`) }],
    });
    expect((await getSettings()).body).toMatchObject({ aiSeats: 20 });

    const exact = await putSettings({ aiSeats: 4 });
    expect(exact.status).toBe(200);
    expect((await http().get('/tasks/seats/available').set(auth(MANAGER))).body).toEqual({ available: 0 });
    // A new task asking for a seat now finds the (tenant's) pool full.
    const full = await createTask({ effectiveImmediately: true, aiSeats: 1 });
    expect(full.status).toBe(422);
    expect(fields(full)).toEqual(['aiSeats']);
    // Raising the pool frees seats at once.
    expect((await putSettings({ aiSeats: 6 })).status).toBe(200);
    expect((await http().get('/tasks/seats/available').set(auth(MANAGER))).body).toEqual({ available: 2 });
  });

  it('keep concurrent writes of one tenant (no lost update on FerretDB)', async () => {
    const years = Array.from({ length: 8 }, (_, i) => 2040 + i);
    const results = await Promise.all(
      years.map((y) =>
        http()
          .put(`/tenant/holidays/${y}`)
          .set(auth(ADMIN))
          .send({ dates: [`${y}-01-01`] }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(years.map(() => 200));
    const holidays = (await getSettings()).body as { holidays: string[] };
    expect(holidays.holidays).toEqual(expect.arrayContaining(years.map((y) => `${y}-01-01`)));
  });
});
