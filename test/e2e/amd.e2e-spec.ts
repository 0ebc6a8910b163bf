/**
 * Answering-machine detection (issue #5): a task with the option on calls a person, who says a short word and waits,
 * and a machine, whose greeting talks on for seconds. Asterisk's AMD (a detour through the dialplan and back into the
 * ARI application) tells them apart: the person hears the robot; the machine is hung up on without a word, and each
 * call records the verdict.
 *
 * Real: API, Temporal dev server and workers, FerretDB, Asterisk 22 with app_amd, sipp callees playing real speech.
 */
import type { INestApplication } from '@nestjs/common';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { zoneWhereOpenNow } from '../support/calendar';
import { writeGreeting } from '../support/rtp-pcap';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

const KEY = 'amd-manager-key-0123456789ab';
const TENANT = uniqueName('tenant');
const HUMAN = { phone: '+8613400000001', port: 5271 };
const MACHINE = { phone: '+8613400000002', port: 5272 };

let stack: Stack;
let app: INestApplication;
const callees: SippCallee[] = [];

beforeAll(async () => {
  const dir = join(tmpdir(), uniqueName('waihu-greeting-'));
  // A second of silence, a 0.45 s "喂", then silence: a person waiting for the caller to speak.
  writeGreeting(dir, 'greeting.pcap', { leadMs: 1200, speechMs: 450, silenceMs: 9000 });
  callees.push(await startCallee('greeting', HUMAN.port, [], { cwd: dir }));
  // 1 s of silence, then 6.5 s of talking: an answering machine's greeting.
  callees.push(await startCallee('speak', MACHINE.port));
  stack = await startStack('amd', {
    API_KEYS: `${KEY}:${TENANT}:manager|supervisor`,
    SIP_ROUTES: [HUMAN, MACHINE].map((c) => `${c.phone}=127.0.0.1:${c.port}`).join(','),
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  stopCallees(callees);
});

const as = { Authorization: `Bearer ${KEY}` };
const http = () => request(app.getHttpServer());

describe('answering-machine detection', () => {
  it('lets the robot talk to a person and hangs up on a machine, recording the verdict on each call', async () => {
    const created = await http()
      .post('/tasks')
      .set(as)
      .field(
        'definition',
        JSON.stringify({
          name: '答录机检测',
          workingDays: [1, 2, 3, 4, 5, 6, 7],
          workingWindows: [{ start: '00:00', end: '23:59' }],
          timezone: zoneWhereOpenNow(),
          aiSeats: 2,
          answeringMachineDetection: true,
        }),
      )
      .attach('file', Buffer.from(['用户号码', HUMAN.phone, MACHINE.phone].join('\n'), 'utf8'), 'list.csv');
    expect(created.status).toBe(201);
    const taskId = created.body.id as string;
    await until(
      async () => (await http().get(`/tasks/${taskId}`).set(as)).body.status === 'COMPLETED',
      'the AMD task to complete',
      90_000,
      1000,
    );
    const rows = new Map(
      ((await http().get(`/tasks/${taskId}/details`).set(as)).body.items as Record<string, unknown>[]).map((r) => [
        r.phone,
        r,
      ]),
    );
    expect(rows.get(HUMAN.phone)).toMatchObject({
      resultLabel: '呼叫成功',
      answeringMachine: 'HUMAN',
      resultDetail: '用户听完语音',
      hangupBy: 'ROBOT',
    });
    expect(rows.get(MACHINE.phone)).toMatchObject({
      resultLabel: '呼叫成功',
      answeringMachine: 'MACHINE',
      resultDetail: '答录机',
      hangupBy: 'ROBOT',
    });
    // The machine was dropped as soon as its greeting ran long; the person listened to the whole prompt.
    expect(rows.get(MACHINE.phone)!.talkSeconds as number).toBeLessThan(rows.get(HUMAN.phone)!.talkSeconds as number);
  }, 150_000);
});
