/**
 * The robot hears speech on a real call (issue #6): the callee answers and, a second later, talks over the robot's
 * greeting (sipp plays recorded speech). The audio leaves Asterisk through the worker's tap (snoop + externalMedia),
 * reaches the recogniser over the Vosk websocket protocol, and the words stop the greeting (barge-in) and answer it:
 * the matcher classifies them as 肯定 and the dialog moves on.
 *
 * The recogniser is the one fake here, named as such: test/support/fake-vosk-server.ts speaks Vosk's protocol and
 * "recognises" a scripted phrase when it hears voice followed by silence in the real audio it is sent (no speech
 * model can be downloaded on these machines). Everything else is real: API, Temporal, FerretDB, Asterisk, sipp.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { demoScript } from '../../src/script/demo';
import type { DialogTurn } from '../../src/script/engine';
import { zoneWhereOpenNow } from '../support/calendar';
import { FakeVoskServer } from '../support/fake-vosk-server';
import { approvedScript } from '../support/scripts';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

const MANAGER = 'speech-manager-key-0123456789';
const SUPERVISOR = 'speech-supervisor-key-012345';
const TENANT = uniqueName('tenant');
const SIP_PORT = 5281;
const PHONE = '+8613300000001';

let stack: Stack;
let app: INestApplication;
let callee: SippCallee;
let vosk: FakeVoskServer;

beforeAll(async () => {
  vosk = await FakeVoskServer.start({ phrases: ['是的 我 是 本人'] });
  callee = await startCallee('speak', SIP_PORT);
  stack = await startStack('speech', {
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor`,
    SIP_ROUTES: `${PHONE}=127.0.0.1:${SIP_PORT}`,
    ASR_URL: vosk.url,
    MEDIA_RTP_PORTS: '40800-40849',
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  await vosk?.close();
  stopCallees(callee ? [callee] : []);
});

const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => request(app.getHttpServer());

describe('speech in a real call', () => {
  it('words over the greeting stop it and answer it: 肯定, on to the survey', async () => {
    const script = await approvedScript(app, { manager: MANAGER, supervisor: SUPERVISOR }, demoScript());
    const task = await http()
      .post('/tasks')
      .set(as(MANAGER))
      .field(
        'definition',
        JSON.stringify({
          name: '语音识别',
          workingDays: [1, 2, 3, 4, 5, 6, 7],
          workingWindows: [{ start: '00:00', end: '23:59' }],
          timezone: zoneWhereOpenNow(),
          scriptId: script.id,
        }),
      )
      .attach('file', Buffer.from(`用户号码,custName,shopName\n${PHONE},李四,小店\n`, 'utf8'), 'list.csv');
    expect(task.status).toBe(201);
    const taskId = task.body.id as string;
    await until(
      async () => (await http().get(`/tasks/${taskId}`).set(as(MANAGER))).body.status === 'COMPLETED',
      'the speech task to complete',
      90_000,
      1000,
    );
    const row = (await http().get(`/tasks/${taskId}/details`).set(as(MANAGER))).body.items[0];
    expect(row).toMatchObject({ resultLabel: '呼叫成功', hangupBy: 'USER', tags: ['本人'] });
    const dialog = await http().get(`/tasks/${taskId}/calls/${row.attemptId}/dialog`).set(as(MANAGER));
    const turns = dialog.body.turns as DialogTurn[];
    const spoken = turns.find((t) => t.calleeText !== undefined)!;
    // Recognised text arrives with Chinese word spacing removed, classified at the greeting node.
    expect(spoken).toMatchObject({
      input: 'bargeIn',
      calleeText: '是的我是本人',
      node: { nodeId: 'greet' },
      branchType: 'AFFIRM',
      next: { nodeId: 'rate' },
    });
    expect(['keyword', 'similarity']).toContain(spoken.via);
    expect(dialog.body.end).toEqual({ kind: 'calleeHangup' });
    // One recogniser session per listen, each closed properly.
    expect(vosk.sessions.length).toBeGreaterThanOrEqual(1);
    expect(vosk.sessions.every((s) => s.closed)).toBe(true);
  }, 150_000);
});
