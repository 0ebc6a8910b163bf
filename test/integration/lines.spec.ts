/**
 * Caller lines and numbers: the HTTP API, the push to Asterisk at run time, and line concurrency across two tasks.
 * Real: the NestJS app (in process, over HTTP via supertest), FerretDB, Asterisk (ARI dynamic configuration, real
 * originates through the line's PJSIP endpoint) and a sipp callee that answers. Temporal is not contacted: the two
 * "tasks" of the concurrency test are two groups of callers of the line allocator, each call placed from this test
 * the way the dial activity places it (acquire → originate through the granted line → release on ChannelDestroyed).
 * Asterisk's own count of the line's channels (ARI endpoint channel_ids, polled, and its channel events) is what the
 * concurrency assertion trusts.
 */
import { AriAdapter } from '../../activities/ari/ari-adapter';
import { createLogger } from '../../activities/logger';
import { LineAllocator } from '../../activities/telephony/line-allocator';
import { dialString, removeLine, syncLinesToAsterisk } from '../../activities/telephony/pjsip-lines';
import { TrunkObserver } from '../support/asterisk';
import { apiTestApp, apiTestConfig, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { sleep, until } from '../support/wait';
import { problemFields as fields } from '../support/problems';

const CALLEE_PORT = 5510;
const ADMIN = 'lines-admin-key-0123456789';
const MANAGER = 'lines-manager-key-0123456789';
const AUDITOR = 'lines-auditor-key-0123456789';
const OTHER = 'lines-other-tenant-key-01234';
const TENANT = uniqueName('lines');
const OTHER_TENANT = uniqueName('lines-other');

const config = apiTestConfig('lines', {
  API_KEYS: [
    `${ADMIN}:${TENANT}:admin`,
    `${MANAGER}:${TENANT}:manager`,
    `${AUDITOR}:${TENANT}:auditor`,
    `${OTHER}:${OTHER_TENANT}:manager`,
  ].join(','),
});
const logger = createLogger(config.logLevel, 'lines-test');
const ariAuth = {
  authorization: `Basic ${Buffer.from(`${config.ari.username}:${config.ari.password}`).toString('base64')}`,
};

let api: ApiTestApp;
let callee: SippCallee | undefined;
const createdLines: string[] = [];
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  api = await apiTestApp('lines', { config, logger });
  callee = await startCallee('answer', CALLEE_PORT);
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close();
  // Lines live in Asterisk's memory until it restarts: leave none of ours behind.
  const ari = await AriAdapter.connect({ ...config.ari, app: uniqueName('lines-cleanup-') }, logger);
  for (const id of createdLines) await removeLine(ari.ari, id);
  await ari.close();
  stopCallees(callee ? [callee] : []);
  await api?.close();
});

const auth = (key = MANAGER) => ({ Authorization: `Bearer ${key}` });
const http = () => api.http();

async function ariGet(path: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${config.ari.url}/ari${path}`, { headers: ariAuth });
  return { status: r.status, body: r.ok ? await r.json() : await r.text() };
}

async function createLine(body: Record<string, unknown>, key = MANAGER) {
  const res = await http().post('/lines').set(auth(key)).send(body);
  if (res.status === 201) createdLines.push((res.body as { id: string }).id);
  return res;
}

/** The aor's contacts as Asterisk holds them (ARI dynamic configuration GET). */
async function aorContacts(lineId: string): Promise<string[] | undefined> {
  const r = await ariGet(`/asterisk/config/dynamic/res_pjsip/aor/${lineId}`);
  if (r.status !== 200) return undefined;
  return (r.body as { attribute: string; value: string }[])
    .filter((t) => t.attribute === 'contact')
    .flatMap((t) => t.value.split(','))
    .filter(Boolean);
}

describe('lines API', () => {
  it('validates a line naming every bad field, and lets only managers (or admins) write', async () => {
    const bad = await createLine({ name: ' ', address: 'not an address', concurrency: 0, enabled: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(fields(bad)).toEqual(expect.arrayContaining(['name', 'address', 'concurrency', 'enabled']));

    expect((await createLine({ name: 'x', address: '127.0.0.1:70000', concurrency: 1 })).body).toMatchObject({
      status: 422,
      errors: [{ field: 'address' }],
    });
    expect((await createLine({ name: '审计', address: '127.0.0.1', concurrency: 1 }, AUDITOR)).status).toBe(403);
    expect((await http().post('/lines').send({ name: 'x', address: '127.0.0.1', concurrency: 1 })).status).toBe(401);
  });

  it('creates, lists, reads, updates, disables and deletes a line, within the tenant only', async () => {
    const created = await createLine({ name: '上海电信线路1', address: '127.0.0.1', concurrency: 100 }, ADMIN);
    expect(created.status).toBe(201);
    const line = created.body as { id: string };
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^line-[0-9a-f]{12}$/),
      name: '上海电信线路1',
      address: '127.0.0.1:5060',
      concurrency: 100,
      enabled: true,
      inUse: 0,
    });

    const dup = await createLine({ name: '上海电信线路1', address: '127.0.0.2', concurrency: 1 });
    expect(dup.status).toBe(409);
    expect(fields(dup)).toEqual(['name']);

    const list = await http().get('/lines').set(auth(AUDITOR));
    expect(list.status).toBe(200);
    expect((list.body as { items: { id: string }[] }).items.map((l) => l.id)).toContain(line.id);
    expect((await http().get(`/lines/${line.id}`).set(auth(AUDITOR))).body).toMatchObject({ id: line.id });
    // Another tenant neither sees nor changes it.
    expect((await http().get(`/lines/${line.id}`).set(auth(OTHER))).status).toBe(404);
    expect((await http().patch(`/lines/${line.id}`).set(auth(OTHER)).send({ concurrency: 5 })).status).toBe(404);
    expect((await http().get('/lines').set(auth(OTHER))).body).toMatchObject({ total: 0 });

    const patched = await http().patch(`/lines/${line.id}`).set(auth()).send({ concurrency: 30, name: '线路一' });
    expect(patched.body).toMatchObject({ concurrency: 30, name: '线路一' });
    expect((await http().patch(`/lines/${line.id}`).set(auth()).send({})).status).toBe(422);
    expect((await http().patch(`/lines/${line.id}`).set(auth(AUDITOR)).send({ concurrency: 3 })).status).toBe(403);

    expect((await http().post(`/lines/${line.id}/disable`).set(auth())).body).toMatchObject({ enabled: false });
    expect((await http().post(`/lines/${line.id}/enable`).set(auth())).body).toMatchObject({ enabled: true });

    expect((await http().delete(`/lines/${line.id}`).set(auth(OTHER))).status).toBe(404);
    expect((await http().delete(`/lines/${line.id}`).set(auth())).status).toBe(204);
    expect((await http().get(`/lines/${line.id}`).set(auth())).status).toBe(404);
  });

  it('adds caller numbers in bulk to a line (all or nothing, at most 300), with number group and skill groups', async () => {
    const line = (await createLine({ name: '号码线路', address: '127.0.0.1:5510', concurrency: 2 })).body as {
      id: string;
    };
    const bad = await http()
      .post('/caller-numbers')
      .set(auth())
      .send({ lineId: line.id, numbers: ['02150001001', '12345', '021-5000-1001'] });
    expect(bad.status).toBe(422);
    expect(fields(bad)).toEqual(['numbers.1', 'numbers.2']);

    const tooMany = await http()
      .post('/caller-numbers')
      .set(auth())
      .send({ lineId: line.id, numbers: Array.from({ length: 301 }, (_, i) => `0215${String(i).padStart(7, '0')}`) });
    expect(tooMany.status).toBe(400);
    expect(fields(tooMany)).toEqual(['numbers']);

    const noGroups = await http()
      .post('/caller-numbers')
      .set(auth())
      .send({ lineId: line.id, numbers: ['02150001001'], outboundScope: 'SOME' });
    expect(fields(noGroups)).toEqual(['skillGroups']);
    const otherLine = await http()
      .post('/caller-numbers')
      .set(auth(OTHER))
      .send({ lineId: line.id, numbers: ['02150001001'] });
    expect(otherLine.status).toBe(422);
    expect(fields(otherLine)).toEqual(['lineId']);

    // One number per line of text, as the seed's form takes them.
    const added = await http()
      .post('/caller-numbers')
      .set(auth())
      .send({
        lineId: line.id,
        numbers: '02150001001\n+862150001002\n',
        numberGroup: '华东号码组',
        outboundScope: 'SOME',
        skillGroups: ['sales'],
      });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      added: 2,
      items: [
        {
          number: '+862150001001',
          lineId: line.id,
          numberGroup: '华东号码组',
          outboundScope: 'SOME',
          skillGroups: ['sales'],
          status: 'VALID',
        },
        { number: '+862150001002' },
      ],
    });

    const again = await http()
      .post('/caller-numbers')
      .set(auth())
      .send({ lineId: line.id, numbers: ['02150001003', '02150001002'] });
    expect(again.status).toBe(409);
    expect(fields(again)).toEqual(['numbers.1']);
    // A number belongs to one enterprise: another tenant cannot register it on its own line.
    const otherTenantLine = (await createLine({ name: '他人线路', address: '127.0.0.9', concurrency: 1 }, OTHER))
      .body as {
      id: string;
    };
    expect(
      (
        await http()
          .post('/caller-numbers')
          .set(auth(OTHER))
          .send({ lineId: otherTenantLine.id, numbers: ['02150001001'] })
      ).status,
    ).toBe(409);
    expect((await http().get('/caller-numbers/02150001001').set(auth(OTHER))).status).toBe(404);

    const listed = await http().get(`/caller-numbers?lineId=${line.id}`).set(auth(AUDITOR));
    expect(listed.body).toMatchObject({ total: 2 });
    expect((await http().get('/caller-numbers?numberGroup=nope').set(auth())).body).toMatchObject({ total: 0 });

    const updated = await http()
      .patch('/caller-numbers/+862150001002')
      .set(auth())
      .send({ outboundScope: 'ALL', numberGroup: null, status: 'INVALID' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ outboundScope: 'ALL', skillGroups: [], status: 'INVALID' });
    expect(updated.body).not.toHaveProperty('numberGroup');
    expect(
      (await http().patch('/caller-numbers/02150001002').set(auth(AUDITOR)).send({ status: 'VALID' })).status,
    ).toBe(403);

    // A line with numbers is not deleted; the refusal names them.
    const refused = await http().delete(`/lines/${line.id}`).set(auth());
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ errors: [{ field: 'id', value: '+862150001001, +862150001002' }] });

    // A number a live task dials from is neither deleted nor is its line disabled.
    const task = await http()
      .post('/tasks')
      .set(auth())
      .field(
        'definition',
        JSON.stringify({
          name: '线路测试',
          workingDays: [1, 2, 3, 4, 5],
          workingWindows: [{ start: '09:00', end: '12:00' }],
          effectiveImmediately: false,
          callerNumber: '+862150001001',
        }),
      )
      .attach('file', Buffer.from('phone\n13800138000\n'), 'list.csv');
    expect(task.status).toBe(201);
    const inUse = await http().delete('/caller-numbers/02150001001').set(auth());
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ errors: [{ field: 'number', value: expect.stringContaining('线路测试') }] });
    expect((await http().post(`/lines/${line.id}/disable`).set(auth())).status).toBe(409);

    expect((await http().delete('/caller-numbers/02150001002').set(auth())).status).toBe(204);
    expect((await http().delete('/caller-numbers/02150001002').set(auth())).status).toBe(404);
  });
  it('describes every line and number route in the OpenAPI document', async () => {
    const doc = (await http().get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(ids).toEqual(
      expect.arrayContaining([
        'CreateLine',
        'ListLines',
        'GetLine',
        'UpdateLine',
        'DisableLine',
        'EnableLine',
        'DeleteLine',
        'AddCallerNumbers',
        'ListCallerNumbers',
        'GetCallerNumber',
        'UpdateCallerNumber',
        'DeleteCallerNumber',
      ]),
    );
  });
});

describe('lines in Asterisk', () => {
  it('pushes a created line to Asterisk without a restart, follows address changes, and removes it on delete', async () => {
    const created = await createLine({ name: '推送线路', address: '127.0.0.1:5511', concurrency: 1 });
    const id = (created.body as { id: string }).id;
    const endpoint = await ariGet(`/endpoints/PJSIP/${id}`);
    expect(endpoint).toMatchObject({ status: 200, body: { technology: 'PJSIP', resource: id, channel_ids: [] } });
    expect(await aorContacts(id)).toEqual(['sip:127.0.0.1:5511']);
    // The existing trunk is still there beside it.
    expect((await ariGet('/endpoints/PJSIP/carrier')).status).toBe(200);

    await http().patch(`/lines/${id}`).set(auth()).send({ address: '127.0.0.1:5512' }).expect(200);
    expect(await aorContacts(id)).toEqual(['sip:127.0.0.1:5512']);

    // Asterisk restarted (its memory wizard forgot the line): a media worker's start-up sync puts it back.
    const ari = await AriAdapter.connect({ ...config.ari, app: uniqueName('lines-sync-') }, logger);
    closers.push(() => ari.close());
    await removeLine(ari.ari, id);
    expect((await ariGet(`/endpoints/PJSIP/${id}`)).status).toBe(404);
    const result = await syncLinesToAsterisk(ari.ari, await api.ports.repos.lines.allLines());
    expect(result.failed).toEqual([]);
    expect((await ariGet(`/endpoints/PJSIP/${id}`)).status).toBe(200);
    expect(await aorContacts(id)).toEqual(['sip:127.0.0.1:5512']);
    // Syncing again changes nothing (idempotent: still one contact).
    await syncLinesToAsterisk(ari.ari, await api.ports.repos.lines.allLines());
    expect(await aorContacts(id)).toEqual(['sip:127.0.0.1:5512']);

    await http().delete(`/lines/${id}`).set(auth()).expect(204);
    expect((await ariGet(`/endpoints/PJSIP/${id}`)).status).toBe(404);
    expect(await aorContacts(id)).toBeUndefined();
  });
});

describe('LineAllocator', () => {
  async function lineWithNumbers(concurrency: number, numbers: string[], name = uniqueName('分配')) {
    const line = (await createLine({ name, address: `127.0.0.1:${CALLEE_PORT}`, concurrency })).body as { id: string };
    await http().post('/caller-numbers').set(auth()).send({ lineId: line.id, numbers }).expect(201);
    return line.id;
  }

  it('rotates over the numbers, is idempotent per attempt, skips unusable numbers and reclaims stale holders', async () => {
    let now = 1_000_000;
    const allocator = new LineAllocator(api.ports.repos.lines, { maxHoldMs: 60_000, busyRetryMs: 500, now: () => now });
    const lineId = await lineWithNumbers(2, ['02150002001', '02150002002', '02150002003']);
    const numbers = ['+862150002001', '+862150002002', '+862150002003'];
    const req = (attemptId: string, rotationKey: number, callerNumbers = numbers) => ({
      tenantId: TENANT,
      attemptId,
      callerNumbers,
      rotationKey,
    });

    const a = await allocator.acquire(req('t1-0-1', 1));
    expect(a).toEqual({
      kind: 'granted',
      lineId,
      endpoint: lineId,
      address: `127.0.0.1:${CALLEE_PORT}`,
      callerNumber: numbers[1],
    });
    // The same attempt again, even with another rotation start: the same grant, still one slot.
    expect(await allocator.acquire(req('t1-0-1', 7))).toEqual(a);
    expect((await allocator.inUse([lineId])).get(lineId)).toBe(1);
    expect(await allocator.acquire(req('t1-1-1', 2))).toMatchObject({ kind: 'granted', callerNumber: numbers[2] });
    const busy = await allocator.acquire(req('t2-0-1', 0));
    expect(busy).toMatchObject({ kind: 'busy' });
    expect((busy as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(500);

    await allocator.release(lineId, 't1-0-1');
    await allocator.release(lineId, 't1-0-1'); // twice: harmless
    expect((await allocator.inUse([lineId])).get(lineId)).toBe(1);
    expect(await allocator.acquire(req('t2-0-1', 0))).toMatchObject({ kind: 'granted', callerNumber: numbers[0] });

    // A holder older than maxHoldMs (a lost process) is reclaimed.
    now += 61_000;
    expect(await allocator.acquire(req('t3-0-1', 0))).toMatchObject({ kind: 'granted' });
    expect((await allocator.inUse([lineId])).get(lineId)).toBe(1);
    await allocator.releaseAttempt(TENANT, 't3-0-1', numbers);
    expect((await allocator.inUse([lineId])).get(lineId)).toBe(0);

    // Unknown, other tenants', INVALID numbers and disabled lines are skipped; with none left: unusable.
    await http().patch('/caller-numbers/02150002001').set(auth()).send({ status: 'INVALID' }).expect(200);
    expect(await allocator.acquire(req('t4-0-1', 0))).toMatchObject({ kind: 'granted', callerNumber: numbers[1] });
    expect(await allocator.acquire({ ...req('t4-1-1', 0), tenantId: OTHER_TENANT })).toMatchObject({
      kind: 'unusable',
    });
    expect(await allocator.acquire(req('t4-2-1', 0, ['+862150009999']))).toMatchObject({ kind: 'unusable' });
    expect(await allocator.acquire(req('t4-3-1', 0, []))).toMatchObject({ kind: 'unusable' });
    await http().post(`/lines/${lineId}/disable`).set(auth()).expect(200);
    expect(await allocator.acquire(req('t4-4-1', 0))).toMatchObject({ kind: 'unusable' });
  });

  it('never lets two tasks sharing a line of concurrency 2 exceed 2 channels in Asterisk, and completes all 6 calls', async () => {
    const lineId = await lineWithNumbers(2, ['02150003001', '02150003002', '02150003003']);
    const allocator = new LineAllocator(api.ports.repos.lines, {
      maxHoldMs: 120_000,
      busyRetryMs: 150,
      busyJitterMs: 100,
    });
    const ari = await AriAdapter.connect({ ...config.ari, app: uniqueName('lines-dial-') }, logger);
    closers.push(() => ari.close());
    const observer = await TrunkObserver.start(config.ari, uniqueName('lines-observer-'), `PJSIP/${lineId}`);
    closers.push(() => observer.close());

    // Asterisk's own count of the line's channels, polled while the calls run.
    let polledMax = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await ariGet(`/endpoints/PJSIP/${lineId}`);
        polledMax = Math.max(polledMax, ((r.body as { channel_ids?: string[] }).channel_ids ?? []).length);
        await sleep(50);
      }
    })();

    const tasks = [
      { taskId: uniqueName('ta'), callerNumbers: ['+862150003001', '+862150003002'] },
      { taskId: uniqueName('tb'), callerNumbers: ['+862150003003', '+862150003001'] },
    ];
    const grantedWith: Record<string, string[]> = {};
    const call = async (task: (typeof tasks)[number], contact: number) => {
      const attemptId = `${task.taskId}-${contact}-1`;
      for (;;) {
        const grant = await allocator.acquire({
          tenantId: TENANT,
          attemptId,
          callerNumbers: task.callerNumbers,
          rotationKey: contact,
        });
        if (grant.kind === 'busy') {
          await sleep(grant.retryAfterMs);
          continue;
        }
        if (grant.kind !== 'granted') throw new Error(`unexpected ${grant.kind}`);
        (grantedWith[task.taskId] ??= []).push(grant.callerNumber);
        try {
          const session = await ari.originate({
            channelId: attemptId,
            endpoint: dialString(grant.endpoint, '+8613800000001', grant.address),
            callerId: grant.callerNumber,
            timeoutSeconds: 10,
          });
          const answered = await Promise.race([session.answered, session.destroyed.then(() => undefined)]);
          if (answered === undefined) throw new Error(`${attemptId} was not answered`);
          await sleep(1_500); // the callee holds the call
          await ari.hangup(session);
          await session.destroyed;
          return { attemptId, answered: true };
        } finally {
          await allocator.release(grant.lineId, attemptId);
        }
      }
    };

    const started = Date.now();
    const results = await Promise.all(tasks.flatMap((task) => [0, 1, 2].map((contact) => call(task, contact))));
    const elapsedMs = Date.now() - started;
    polling = false;
    await poller;

    expect(results).toHaveLength(6);
    expect(results.every((r) => r.answered)).toBe(true);
    expect(observer.total).toBe(6);
    // Counted by Asterisk: never more than the line's concurrency, and the line was used to its full width.
    expect(observer.maxConcurrent).toBe(2);
    expect(polledMax).toBeLessThanOrEqual(2);
    expect(polledMax).toBeGreaterThanOrEqual(1);
    // Each task's calls went out with its own caller numbers (which one depends on when a slot came free: all of
    // them share the one line; the rotation itself is asserted in the test above).
    for (const task of tasks) {
      expect(grantedWith[task.taskId]).toHaveLength(3);
      for (const n of grantedWith[task.taskId]!) expect(task.callerNumbers).toContain(n);
    }
    expect((await allocator.inUse([lineId])).get(lineId)).toBe(0);
    await until(async () => (await ariGet(`/endpoints/PJSIP/${lineId}`)) && observer.active === 0, 'line idle', 10_000);
    logger.info({ elapsedMs, polledMax, eventMax: observer.maxConcurrent }, 'line concurrency run');
    // Three rounds of two calls (ring 1 s + 1.5 s held each): well under sequential time for six.
    expect(elapsedMs).toBeLessThan(6 * 2_500);
  });
});
