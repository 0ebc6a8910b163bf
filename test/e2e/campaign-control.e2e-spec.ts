/**
 * Supervising live campaigns, end to end on real servers, judged from Asterisk's side.
 * Real: the API (in process, HTTP via supertest), Temporal dev server and SDK workers, FerretDB, Asterisk over ARI,
 * espeak-ng, and a sipp callee that answers every call. A separate ARI application of the test's own subscribes to
 * the trunk endpoint and counts the channels Asterisk creates and destroys, so the limits are checked against
 * what really reached the phone network, not against our own bookkeeping.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { TrunkObserver } from '../support/asterisk';
import { zoneWhereOpenNow } from '../support/calendar';
import { uniqueName } from '../support/servers';
import { startStack, type Stack } from '../support/stack';
import { sleep, until } from '../support/wait';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';

const KEY = 'control-manager-key-0123456789';
const CALLEE_PORT = 5201;
const POOL = 6;

let callee: SippCallee;
let trunk: TrunkObserver;
let stack: Stack;
let app: INestApplication;

beforeAll(async () => {
  callee = await startCallee('answer', CALLEE_PORT);
  stack = await startStack('control', {
    API_KEYS: `${KEY}:${uniqueName('tenant')}:manager|supervisor`,
    SIP_DEFAULT_TARGET: `127.0.0.1:${CALLEE_PORT}`,
    TENANT_AI_SEATS: String(POOL),
  });
  app = stack.app;
  trunk = await TrunkObserver.start(stack.config.ari, uniqueName('observer'));
}, 180_000);

afterAll(async () => {
  await stack?.close();
  trunk?.close();
  stopCallees(callee ? [callee] : []);
});

const auth = { Authorization: `Bearer ${KEY}` };
const api = () => request(app.getHttpServer());

let block = 0;

async function createTask(name: string, contacts: number, aiSeats: number): Promise<string> {
  // Numbers of their own per task: the tenant's frequency cap counts calls to a number across tasks.
  const base = ++block * 100;
  const phones = Array.from({ length: contacts }, (_, i) => `+86139${String(base + i).padStart(8, '0')}`);
  const csv = ['phone', ...phones].join('\n');
  const res = await api()
    .post('/tasks')
    .set(auth)
    .field(
      'definition',
      JSON.stringify({
        name,
        workingDays: [1, 2, 3, 4, 5, 6, 7],
        workingWindows: [{ start: '00:00', end: '23:59' }],
        timezone: zoneWhereOpenNow(),
        aiSeats,
        prompt: '您好，再见。',
      }),
    )
    .attach('file', Buffer.from(csv, 'utf8'), 'list.csv');
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const task = async (id: string) => (await api().get(`/tasks/${id}`).set(auth)).body;

describe('supervising a live campaign (Asterisk counts the calls)', () => {
  it('never has more calls up than the AI seats, and a raise takes effect mid-run', async () => {
    const id = await createTask('seats_raise', 10, 2);
    const calls = () => trunk.scope(`${id}-`);
    await until(() => calls().total >= 3, 'three calls');
    expect(calls().maxConcurrent).toBeLessThanOrEqual(2);

    const raised = await api().put(`/tasks/${id}/seats`).set(auth).send({ aiSeats: 4 });
    expect(raised.status).toBe(200);
    expect(raised.body.aiSeats).toBe(4);
    await until(async () => (await task(id)).status === 'COMPLETED', 'completion', 120_000);
    expect(calls().total).toBe(10);
    expect(calls().maxConcurrent).toBeLessThanOrEqual(4);
    expect(calls().maxConcurrent).toBeGreaterThan(2);
    // The seats went back to the tenant's pool when the campaign completed.
    expect((await api().get('/tasks/seats/available').set(auth)).body).toEqual({ available: POOL });
  }, 180_000);

  it('refuses seats beyond the tenant pool, naming the field', async () => {
    const id = await createTask('seats_pool', 3, 1);
    const res = await api()
      .put(`/tasks/${id}/seats`)
      .set(auth)
      .send({ aiSeats: POOL + 1 });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ field: 'aiSeats' });
    const running = await api().get(`/tasks/${id}/forecast?answerRate=0.5&talkSeconds=2`).set(auth);
    expect(running.status).toBe(200);
    expect(running.body.profile).toMatchObject({ answerRate: 0.5, talkSeconds: 2 });
    expect(running.body.remainingContacts).toBeLessThanOrEqual(3);
    expect(Date.parse(running.body.finishesAt)).toBeGreaterThanOrEqual(Date.now() - 1000);
    await until(async () => (await task(id)).status === 'COMPLETED', 'completion', 120_000);
    const done = await api().get(`/tasks/${id}/forecast`).set(auth);
    expect(done.body).toMatchObject({ remainingContacts: 0, expectedAttempts: 0 });
  }, 180_000);

  it('pauses (no new call reaches the trunk), then resumes where it left off', async () => {
    const id = await createTask('pause_resume', 8, 2);
    const calls = () => trunk.scope(`${id}-`);
    await until(() => calls().total >= 2, 'two calls');
    const paused = await api().post(`/tasks/${id}/stop`).set(auth);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('PAUSED');
    // Calls in progress finish; after that nothing new is dialled while paused.
    await until(() => calls().active === 0, 'calls in progress to end');
    const dialledWhenPaused = calls().total;
    await sleep(4000);
    expect(calls().total).toBe(dialledWhenPaused);
    expect(dialledWhenPaused).toBeLessThan(8);

    expect((await api().post(`/tasks/${id}/start`).set(auth)).body.status).toBe('RUNNING');
    await until(async () => (await task(id)).status === 'COMPLETED', 'completion', 120_000);
    // Every contact was dialled exactly once.
    expect(calls().total).toBe(8);
    const details = await api().get(`/tasks/${id}/details`).set(auth);
    expect(details.body.items.map((r: { attempts: number }) => r.attempts)).toEqual(Array(8).fill(1));
  }, 180_000);

  it('cancels: the call in progress finishes, the rest are never dialled and shown as cancelled', async () => {
    const id = await createTask('cancel_run', 10, 1);
    const calls = () => trunk.scope(`${id}-`);
    await until(() => calls().total >= 1, 'the first call');
    const cancelled = await api().post(`/tasks/${id}/cancel`).set(auth);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    await until(() => calls().active === 0, 'the call in progress to end');
    await sleep(3000);
    const dialled = calls().total;
    expect(dialled).toBeLessThanOrEqual(2);
    await until(async () => (await task(id)).cancelledFrom !== undefined, 'the campaign to record where it stopped');
    const details = await api().get(`/tasks/${id}/details`).set(auth);
    const skipped = details.body.items.filter((r: { skipped?: string }) => r.skipped === 'CANCELLED');
    expect(skipped.length).toBe(10 - dialled);
    await until(
      async () => (await api().get('/tasks/seats/available').set(auth)).body.available === POOL,
      'the seats to return to the pool',
    );
  }, 180_000);
});
