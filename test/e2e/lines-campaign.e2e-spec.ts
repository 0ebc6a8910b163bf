/**
 * Caller lines in real campaigns (issue #5): a line of concurrency 2 registered through the API (pushed to Asterisk
 * at run time), two caller numbers on it, two tasks each with its own number and 3 AI seats. Six calls want to run at
 * once; Asterisk's own count of the line's channels must never pass 2, and every call must complete.
 *
 * Real: API, Temporal dev server and workers, FerretDB, Asterisk 22 over ARI (the line is a PJSIP endpoint created
 * through ARI's dynamic configuration), sipp answering. Nothing is faked.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { zoneWhereOpenNow } from '../support/calendar';
import { TrunkObserver } from '../support/asterisk';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

const MANAGER = 'lines-e2e-manager-key-012345';
const TENANT = uniqueName('tenant');
const SIP_PORT = 5231;
const NUMBERS = ['+8657100000001', '+8657100000002'];

let stack: Stack;
let app: INestApplication;
let callee: SippCallee;
let observer: TrunkObserver | undefined;

beforeAll(async () => {
  callee = await startCallee('answer', SIP_PORT);
  stack = await startStack('linecampaign', {
    API_KEYS: `${MANAGER}:${TENANT}:manager|supervisor`,
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  observer?.close();
  await stack?.close();
  stopCallees(callee ? [callee] : []);
});

const as = { Authorization: `Bearer ${MANAGER}` };
const http = () => request(app.getHttpServer());

async function createTask(name: string, phones: string[], callerNumbers: string[]): Promise<string> {
  const res = await http()
    .post('/tasks')
    .set(as)
    .field(
      'definition',
      JSON.stringify({
        name,
        workingDays: [1, 2, 3, 4, 5, 6, 7],
        workingWindows: [{ start: '00:00', end: '23:59' }],
        timezone: zoneWhereOpenNow(),
        aiSeats: 3,
        callerNumbers,
      }),
    )
    .attach('file', Buffer.from(['用户号码', ...phones].join('\n'), 'utf8'), 'list.csv');
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('caller lines in campaigns', () => {
  it('two tasks sharing one line of concurrency 2 never have more than 2 calls on it', async () => {
    const line = await http()
      .post('/lines')
      .set(as)
      .send({ name: '共享线路', address: `127.0.0.1:${SIP_PORT}`, concurrency: 2 });
    expect(line.status).toBe(201);
    const lineId = line.body.id as string;
    const numbers = await http().post('/caller-numbers').set(as).send({ lineId, numbers: NUMBERS });
    expect(numbers.status).toBe(201);
    observer = await TrunkObserver.start(stack.config.ari, uniqueName('lineobs'), `PJSIP/${lineId}`);

    const a = await createTask('共享线路_A', ['+8613700000001', '+8613700000002', '+8613700000003'], [NUMBERS[0]!]);
    const b = await createTask('共享线路_B', ['+8613700000004', '+8613700000005', '+8613700000006'], [NUMBERS[1]!]);
    for (const taskId of [a, b]) {
      await until(
        async () => (await http().get(`/tasks/${taskId}`).set(as)).body.status === 'COMPLETED',
        `task ${taskId} to complete`,
        150_000,
        1000,
      );
    }
    for (const taskId of [a, b]) {
      const details = await http().get(`/tasks/${taskId}/details`).set(as);
      expect(details.body.items.map((r: { resultLabel: string }) => r.resultLabel)).toEqual([
        '呼叫成功',
        '呼叫成功',
        '呼叫成功',
      ]);
    }
    // Six calls wanted to run at once (3 seats per task); the line allowed two, and both tasks used it.
    expect(observer.maxConcurrent).toBe(2);
    expect(observer.total).toBe(6);
  }, 200_000);

  it('refuses a task whose caller number is not registered, naming the field', async () => {
    const res = await http()
      .post('/tasks')
      .set(as)
      .field(
        'definition',
        JSON.stringify({
          name: '未注册号码',
          workingDays: [1],
          workingWindows: [{ start: '09:00', end: '12:00' }],
          callerNumbers: ['+8657199999999'],
        }),
      )
      .attach('file', Buffer.from('用户号码\n+8613700000009\n', 'utf8'), 'list.csv');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'callerNumbers.0', value: '+8657199999999' })]);
  });
});
