/**
 * Call lists, templates, exports, statistics and the do-not-call list through the HTTP API.
 * Real: the NestJS app (in process, over HTTP via supertest) and FerretDB. Temporal is not contacted: every task is
 * created with effectiveImmediately false, so no campaign starts (the client connects lazily). Calls are not placed:
 * statistics are fed through the same repository methods the campaign's activities use.
 */
import type request from 'supertest';
import * as XLSX from 'xlsx';
import type { AttemptOutcome } from '../../workflows/definitions';
import { apiTestApp, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';

const MANAGER = 'lists-manager-key-0123456789';
const AUDITOR = 'lists-auditor-key-0123456789';
const OTHER = 'lists-other-tenant-key-012345';
const TENANT = uniqueName('tenant');

let api: ApiTestApp;

beforeAll(async () => {
  api = await apiTestApp('lists', {
    env: {
      API_KEYS: `${MANAGER}:${TENANT}:manager|supervisor,${AUDITOR}:${TENANT}:auditor,${OTHER}:${uniqueName('other')}:manager`,
    },
  });
}, 60_000);

afterAll(() => api?.close());

const auth = (key = MANAGER) => ({ Authorization: `Bearer ${key}` });
const http = () => api.http();
const definition = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: '清单测试',
    workingDays: [1, 2, 3, 4, 5],
    workingWindows: [{ start: '09:00', end: '12:00' }],
    effectiveImmediately: false,
    ...extra,
  });
const phone = (n: number) => `139${String(n).padStart(8, '0')}`;
const csv = (lines: string[]) => Buffer.from(lines.join('\n'), 'utf8');
const xlsxOf = (rows: unknown[][]) => {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), 'list');
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer;
};
const readXlsx = (body: Buffer) => {
  const wb = XLSX.read(body, { type: 'buffer' });
  return XLSX.utils.sheet_to_json<unknown[]>(wb.Sheets[wb.SheetNames[0]!]!, { header: 1, raw: true, defval: '' });
};
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

async function createTask(file: Buffer, name = 'list.csv', extra: Record<string, unknown> = {}, key = MANAGER) {
  return http().post('/tasks').set(auth(key)).field('definition', definition(extra)).attach('file', file, name);
}

async function counts() {
  const db = api.ports.repos.conn.db!;
  const n = (c: string) => db.collection(c).countDocuments({ tenantId: TENANT });
  return { tasks: await n('tasks'), pages: await n('contact_pages'), phones: await n('contact_phones') };
}

describe('call-list import (CreateTask)', () => {
  it('imports a duplicate-laden CSV: numbers normalised, duplicates dropped and counted', async () => {
    const res = await createTask(
      csv([
        '用户号码,用户名称',
        '13800138000,张三',
        '+86 138 0013 8000,again',
        '008613800138000,again',
        '13900139000,李四',
      ]),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ totalContacts: 2, duplicatesRemoved: 2 });
    expect(res.body.import).toMatchObject({ status: 'accepted', rows: 4, imported: 2, duplicatesInFile: 2 });
    const details = await http().get(`/tasks/${res.body.id}/details`).set(auth());
    expect(details.body.items.map((r: { phone: string }) => r.phone)).toEqual(['+8613800138000', '+8613900139000']);
  });

  it('imports an xlsx list with numeric phone cells, variables and 1,200 rows over three buckets', async () => {
    const rows: unknown[][] = [['用户号码', '用户名称', '时区', 'amount']];
    for (let i = 0; i < 1200; i++) rows.push([Number(`86${phone(i)}`), `客户${i}`, i % 2 ? 'Asia/Urumqi' : '', i]);
    const res = await createTask(xlsxOf(rows), 'list.xlsx', {
      prompt: '您好，您的账单金额为${amount}元，请按时还款。',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ totalContacts: 1200 });
    const last = await http().get(`/tasks/${res.body.id}/details?page=60&pageSize=20`).set(auth());
    expect(last.body.items.at(-1)).toMatchObject({ index: 1199, phone: `+86${phone(1199)}`, name: '客户1199' });
  });

  it('rejects a file with mixed valid and invalid rows, writes nothing, and offers the report as xlsx', async () => {
    const before = await counts();
    const res = await createTask(
      csv([
        'phone,name,note',
        '13800138000,ok,',
        'abc,bad phone,',
        '13700137000,,http://spam.example',
        '13600136000,ok,',
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors).toEqual([
      { field: 'phone', row: 3, value: 'abc', reason: 'phone number may contain only digits and a leading +' },
      { field: 'note', row: 4, value: 'http://spam.example', reason: 'links are not allowed in variable values' },
    ]);
    expect(await counts()).toEqual(before);
    const importId = /imports\/(imp_[0-9a-f]+)\//.exec(res.body.detail as string)?.[1];
    expect(importId).toBeDefined();
    const report = await http().get(`/tasks/imports/${importId}/errors.xlsx`).set(auth()).buffer(true).parse(binary);
    expect(report.status).toBe(200);
    const rows = readXlsx(report.body as Buffer);
    expect(rows[1]).toEqual([3, 'phone', 'abc', 'phone number may contain only digits and a leading +']);
    // Another tenant cannot read the report.
    expect((await http().get(`/tasks/imports/${importId}/errors.xlsx`).set(auth(OTHER))).status).toBe(404);
  });

  it('rejects a list whose prompt variable column is missing, naming it', async () => {
    const res = await createTask(csv(['phone', '13800138000']), 'l.csv', { prompt: '您好，您的金额为${amount}元' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ field: 'amount', row: 1 });
  });

  it.each([
    ['broken xlsx bytes', Buffer.from('PK\u0003\u0004 this is not a zip at all'), 'list.xlsx'],
    ['a text file named .xlsx', Buffer.from('phone\n13800138000\n'), 'list.xlsx'],
    ['a wrong file type', Buffer.from('%PDF-1.4'), 'list.pdf'],
    ['an empty file', Buffer.alloc(0), 'list.csv'],
    ['a huge field', csv(['phone,v', `13800138000,"${'x'.repeat(200_000)}"`]), 'list.csv'],
    ['an unterminated quote', csv(['phone,v', '13800138000,"abc']), 'list.csv'],
    ['GBK bytes', Buffer.from([0xd3, 0xc3, 0xbb, 0xa7, 0x0a, 0x31]), 'list.csv'],
    ['a header only', csv(['phone']), 'list.csv'],
  ])('answers %s with a 4xx problem naming the file, never a 500', async (_label, file, name) => {
    const res = await createTask(file, name);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors?.[0]?.field).toBe('file');
  });

  it('refuses an upload from an auditor (403) and without a key (401)', async () => {
    expect((await createTask(csv(['phone', '13800138000']), 'l.csv', {}, AUDITOR)).status).toBe(403);
    expect((await http().post('/tasks').field('definition', definition())).status).toBe(401);
  });
});

describe('AttachTask', () => {
  let taskId: string;
  beforeAll(async () => {
    const res = await createTask(csv(['phone', ...Array.from({ length: 498 }, (_, i) => phone(i))]));
    expect(res.status).toBe(201);
    taskId = res.body.id;
  });

  it('appends to the partly filled bucket and a new one, dropping numbers already in the task', async () => {
    const res = await http()
      .post(`/tasks/${taskId}/contacts`)
      .set(auth())
      .attach(
        'file',
        csv(['用户号码', phone(0), phone(497), phone(1000), phone(1001), phone(1002), phone(1000)]),
        'more.csv',
      );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 3, duplicatesInTask: 2, duplicatesInFile: 1, totalContacts: 501 });
    const page = await http().get(`/tasks/${taskId}/details?page=25&pageSize=20`).set(auth());
    expect(page.body.items.map((r: { index: number; phone: string }) => [r.index, r.phone])).toEqual([
      [480, `+86${phone(480)}`],
      ...Array.from({ length: 17 }, (_, k) => [481 + k, `+86${phone(481 + k)}`]),
      [498, `+86${phone(1000)}`],
      [499, `+86${phone(1001)}`],
    ]);
    expect((await http().get(`/tasks/${taskId}`).set(auth())).body.totalContacts).toBe(501);
  });

  it('is idempotent with an Idempotency-Key: the repeat returns the first result and writes nothing', async () => {
    const body = { contacts: [{ phone: phone(2000), name: '王五', variables: { level: 'VIP' } }] };
    const first = await http().post(`/tasks/${taskId}/contacts`).set(auth()).set('Idempotency-Key', 'k-1').send(body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ imported: 1, totalContacts: 502 });
    const again = await http().post(`/tasks/${taskId}/contacts`).set(auth()).set('Idempotency-Key', 'k-1').send(body);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await http().get(`/tasks/${taskId}`).set(auth())).body.totalContacts).toBe(502);
    const other = { contacts: [{ phone: phone(2001) }] };
    const reused = await http().post(`/tasks/${taskId}/contacts`).set(auth()).set('Idempotency-Key', 'k-1').send(other);
    expect(reused.status).toBe(409);
  });

  it('names the field and row of a bad JSON contact, and writes nothing', async () => {
    const res = await http()
      .post(`/tasks/${taskId}/contacts`)
      .set(auth())
      .send({ contacts: [{ phone: phone(3000) }, { phone: 'nope' }] });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ field: 'phone', row: 3, value: 'nope' });
    expect((await http().get(`/tasks/${taskId}`).set(auth())).body.totalContacts).toBe(502);
    const malformed = await http().post(`/tasks/${taskId}/contacts`).set(auth()).send({ contacts: 'x' });
    expect(malformed.status).toBe(422);
  });

  it('answers 404 for another tenant’s task and 403 for an auditor', async () => {
    const body = { contacts: [{ phone: phone(4000) }] };
    expect((await http().post(`/tasks/${taskId}/contacts`).set(auth(OTHER)).send(body)).status).toBe(404);
    expect((await http().get(`/tasks/${taskId}/statistics`).set(auth(OTHER))).status).toBe(404);
    expect((await http().get(`/tasks/${taskId}/export`).set(auth(OTHER))).status).toBe(404);
    expect((await http().post(`/tasks/${taskId}/contacts`).set(auth(AUDITOR)).send(body)).status).toBe(403);
  });
});

describe('do-not-call list', () => {
  it('adds, lists, flags at import, checks and removes numbers', async () => {
    const add = await http()
      .post('/dnc')
      .set(auth())
      .send({ entries: [{ phone: '13500135000', note: '投诉' }, { phone: '+8613500135001' }] });
    expect(add.status).toBe(200);
    expect(add.body).toEqual({ received: 2, added: 2 });
    const upload = await http()
      .post('/dnc')
      .set(auth())
      .attach(
        'file',
        xlsxOf([
          ['用户号码', '备注'],
          [13500135002, 'x'],
          ['13500135000', 'again'],
        ]),
        'dnc.xlsx',
      );
    expect(upload.body).toEqual({ received: 2, added: 1 });
    expect(
      (
        await http()
          .post('/dnc')
          .set(auth())
          .send({ entries: [{ phone: 'bad' }] })
      ).body.errors[0],
    ).toMatchObject({ field: 'entries.0.phone' });
    expect(
      (
        await http()
          .post('/dnc')
          .set(auth(AUDITOR))
          .send({ entries: [{ phone: '13500135009' }] })
      ).status,
    ).toBe(403);
    const listed = await http().get('/dnc').set(auth(AUDITOR));
    expect(listed.body.total).toBe(3);
    expect(listed.body.items[0].phone).toBe('+86135****5000');

    const task = await createTask(csv(['phone', '13500135000', '13500135003', '13500135002']));
    expect(task.body.import).toMatchObject({ imported: 3, doNotCall: 2 });
    expect(task.body.doNotCall).toBe(2);
    const details = await http().get(`/tasks/${task.body.id}/details`).set(auth());
    expect(details.body.items.map((r: { doNotCall?: boolean }) => r.doNotCall ?? false)).toEqual([true, false, true]);

    expect(await api.ports.repos.dnc.isListed(TENANT, '+8613500135000')).toBe(true);
    expect((await http().get('/dnc/13500135000').set(auth())).body).toEqual({ phone: '+8613500135000', listed: true });
    expect((await http().delete('/dnc/13500135000').set(auth())).status).toBe(204);
    expect(await api.ports.repos.dnc.isListed(TENANT, '+8613500135000')).toBe(false);
    expect((await http().delete('/dnc/13500135000').set(auth())).status).toBe(404);
    // Another tenant does not see this tenant's list.
    expect(await api.ports.repos.dnc.isListed('someone-else', '+8613500135001')).toBe(false);
  });
});

describe('templates and exports', () => {
  it('serves the generic template and a task’s template with one column per prompt variable', async () => {
    const generic = await http().get('/tasks/template.xlsx').set(auth(AUDITOR)).buffer(true).parse(binary);
    expect(generic.status).toBe(200);
    expect(readXlsx(generic.body as Buffer)[0]).toEqual(['用户号码', '用户名称', '时区']);
    const task = await createTask(csv(['phone,amount,date', '13800138000,100,7月1日']), 'l.csv', {
      prompt: '您好，您的账单${amount}元将于${date}到期。',
    });
    const own = await http().get(`/tasks/${task.body.id}/template.xlsx`).set(auth()).buffer(true).parse(binary);
    expect(readXlsx(own.body as Buffer)[0]).toEqual(['用户号码', '用户名称', '时区', 'amount', 'date']);
    expect((await http().get(`/tasks/${task.body.id}/template.xlsx`).set(auth(OTHER))).status).toBe(404);
  });

  it('neutralises formula cells in CSV and xlsx exports, and masks numbers for auditors', async () => {
    const task = await createTask(
      csv([
        'phone,name',
        '13800138000,"=HYPERLINK(""http://x"")"',
        '13900139000,@SUM(1)',
        '13700137000,-1',
        '13600136000,+1',
      ]),
    );
    expect(task.status).toBe(201);
    const id = task.body.id as string;
    const out = await http().get(`/tasks/${id}/export?format=csv`).set(auth());
    expect(out.status).toBe(200);
    expect(out.headers['content-type']).toMatch(/text\/csv/);
    const lines = out.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain(`'+8613800138000,"'=HYPERLINK(""http://x"")"`);
    expect(lines[2]).toContain(`,'@SUM(1),`);
    expect(lines[3]).toContain(`,'-1,`);
    expect(lines[4]).toContain(`,'+1,`);

    const x = await http().get(`/tasks/${id}/export?format=xlsx`).set(auth(AUDITOR)).buffer(true).parse(binary);
    expect(x.status).toBe(200);
    const rows = readXlsx(x.body as Buffer);
    expect(rows[1]!.slice(0, 3)).toEqual([1, "'+86138****8000", `'=HYPERLINK("http://x")`]);
    expect(rows.slice(1).every((r) => !String(r[2]).match(/^[=+\-@]/))).toBe(true);
    expect((await http().get(`/tasks/${id}/export?format=pdf`).set(auth())).status).toBe(400);
  });
});

describe('statistics', () => {
  it('reports dialled/total, connect rate, talk time, results, donut and redials from the task counters', async () => {
    const task = await createTask(csv(['phone', '13800138000', '13900139000', '13700137000', '13600136000']));
    const id = task.body.id as string;
    const outcome = (index: number, attempt: number, code: AttemptOutcome['code'], talk = 0): AttemptOutcome => ({
      attemptId: `${id}-${index}-${attempt}`,
      attempt,
      code,
      label: code,
      hangupBy: 'SYSTEM',
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      ringSeconds: 3,
      talkSeconds: talk,
      dtmf: [],
    });
    // Contact 0: busy, then answered on the redial; contact 1: answered; contact 2: empty number.
    const attempts: [number, AttemptOutcome][] = [
      [0, outcome(0, 1, 'BUSY')],
      [0, outcome(0, 2, 'SUCCESS', 10)],
      [1, outcome(1, 1, 'SUCCESS', 5)],
      [2, outcome(2, 1, 'EMPTY_NUMBER')],
    ];
    for (const [index, o] of attempts) {
      await api.ports.repos.calls.finalize(TENANT, o, { taskId: id, contactIndex: index, phone: 'x' });
      await api.ports.repos.tasks.countAttempt(TENANT, id, o);
    }
    const res = await http().get(`/tasks/${id}/statistics`).set(auth(AUDITOR));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      total: 4,
      dialled: 3,
      answered: 2,
      connectRate: 0.6667,
      averageTalkSeconds: 7.5,
      attempts: 4,
      redials: 1,
      categories: { 未开始: 1, 已经接通: 2, 号码问题: 1, 线路问题: 0 },
    });
    expect(res.body.results.find((r: { code: string }) => r.code === 'BUSY')).toEqual({
      code: 'BUSY',
      label: '用户占线',
      attempts: 1,
      contacts: 0,
    });
    const view = await http().get(`/tasks/${id}`).set(auth());
    expect(view.body.statistics).toEqual(res.body);
  });
});

describe('OpenAPI', () => {
  it('documents the list routes with their operationIds', async () => {
    const doc = await http().get('/docs/openapi.json');
    expect(doc.status).toBe(200);
    const ids = Object.values(doc.body.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(
      (ops) => Object.values(ops).map((o) => o.operationId),
    );
    for (const id of [
      'AttachTask',
      'GetTaskStatistics',
      'ExportTaskDetail',
      'DownloadListTemplate',
      'DownloadTaskListTemplate',
      'DownloadImportErrors',
      'AddDoNotCall',
      'ListDoNotCall',
      'CheckDoNotCall',
      'RemoveDoNotCall',
    ])
      expect(ids).toContain(id);
    expect(doc.body.components.schemas.ImportReportDto.properties.imported.example).toBe(1150);
  });
});
