/**
 * The voice robot on a real call (issue #6): a script written, dubbed, submitted and approved through the API; a
 * task that pins it; Asterisk dials a sipp callee that answers and presses keys (RFC 2833) to walk the demo script
 * through two main flows, a knowledge-base answer and a knowledge-base flow to a tagged hang-up. The dialog record
 * (ListDialog) and the call's workflow history must agree turn by turn.
 *
 * Real: the API in process over HTTP, the Temporal dev server and workers, FerretDB, Asterisk 22 over ARI, espeak-ng,
 * sipp. Nothing is faked.
 */
import type { INestApplication } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { readWavInfo } from '../../activities/telephony/wav';
import { TEMPORAL } from '../../api/common/tokens';
import { demoScript } from '../../src/script/demo';
import type { DialogTurn } from '../../src/script/engine';
import { contactWorkflowId } from '../../src/ids';
import { zoneWhereOpenNow } from '../support/calendar';
import { approvedScript, createScriptBody } from '../support/scripts';
import { writeKeySequence } from '../support/dtmf-pcap';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

const MANAGER = 'dialog-manager-key-0123456789';
const SUPERVISOR = 'dialog-supervisor-key-012345';
const AUDITOR = 'dialog-auditor-key-0123456789';
const TENANT = uniqueName('tenant');
const SIP_PORT = 5221;
const PHONE = '+8613900000001';

let stack: Stack;
let app: INestApplication;
let callee: SippCallee;

beforeAll(async () => {
  // The callee's key presses, in the order of test/sipp/dialog-keys.xml, written where sipp runs.
  const keysDir = join(tmpdir(), uniqueName('waihu-keys-'));
  writeKeySequence(keysDir, ['1', '8', '9', '2', '1']);
  callee = await startCallee('dialog-keys', SIP_PORT, [], { cwd: keysDir });
  stack = await startStack('dialog', {
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor,${AUDITOR}:${TENANT}:auditor`,
    SIP_ROUTES: `${PHONE}=127.0.0.1:${SIP_PORT}`,
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  stopCallees(callee ? [callee] : []);
});

const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => request(app.getHttpServer());

/** The turn records the workflow sent to its turn activities, in order (what the history shows). */
async function turnsInHistory(temporal: Client, workflowId: string): Promise<DialogTurn[]> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const turns: DialogTurn[] = [];
  const { defaultPayloadConverter } = await import('@temporalio/common');
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a?.activityType?.name || !['speak', 'listen', 'endCall'].includes(a.activityType.name)) continue;
    const [input] = (a.input?.payloads ?? []).map((p) =>
      defaultPayloadConverter.fromPayload<{ turns: DialogTurn[] }>(p),
    );
    // speak and listen carry the turns since the previous activity; endCall carries them all.
    if (a.activityType.name === 'endCall') return input?.turns ?? [];
    turns.push(...(input?.turns ?? []));
  }
  return turns;
}

describe('the robot walks a script on a real call', () => {
  it('keys walk two flows, a KB answer and a KB flow to a tagged hang-up; record and history agree', async () => {
    const script = await approvedScript(app, { manager: MANAGER, supervisor: SUPERVISOR }, demoScript());
    const csv = ['用户号码,用户名称,custName,shopName', `${PHONE},张三,张三,小王的店`].join('\n');
    const definition = {
      name: '机器人_按键回访',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      workingWindows: [{ start: '00:00', end: '23:59' }],
      timezone: zoneWhereOpenNow(),
      aiSeats: 1,
      scriptId: script.id,
    };
    const created = await http()
      .post('/tasks')
      .set(as(MANAGER))
      .field('definition', JSON.stringify(definition))
      .attach('file', Buffer.from(csv, 'utf8'), 'list.csv');
    expect(created.status).toBe(201);
    const taskId = created.body.id as string;

    await until(
      async () => (await http().get(`/tasks/${taskId}`).set(as(MANAGER))).body.status === 'COMPLETED',
      'the dialog task to complete',
      120_000,
      1000,
    );

    const details = await http().get(`/tasks/${taskId}/details`).set(as(MANAGER));
    const row = details.body.items[0];
    expect(row).toMatchObject({ resultLabel: '呼叫成功', hangupBy: 'ROBOT', tags: ['本人', '满意'] });

    const dialog = await http().get(`/tasks/${taskId}/calls/${row.attemptId}/dialog`).set(as(AUDITOR));
    expect(dialog.status).toBe(200);
    expect(dialog.body).toMatchObject({
      script: { scriptId: script.id, version: script.version },
      tags: ['本人', '满意'],
      end: { kind: 'hangup', reason: 'jumpNode' },
    });
    const turns = dialog.body.turns as (DialogTurn & { at: string })[];
    // The walk, as the callee pressed it: who heard what, where it went.
    const keyed = turns.filter((t) => t.calleeKey !== undefined && !t.bargeInIgnored);
    expect(keyed.map((t) => [t.calleeKey, t.node.nodeId, t.branchId ?? t.kbEntryId, t.next?.nodeId ?? null])).toEqual([
      ['1', 'greet', 'yes', 'rate'],
      ['8', 'rate', 'demo.kb.return', 'rate'],
      ['9', 'rate', 'demo.kb.logistics', 'k.ask'],
      ['2', 'k.ask', 'no', 'rate'],
      ['1', 'rate', 'sat', null],
    ]);
    expect(turns.some((t) => t.bargeInIgnored)).toBe(false);
    // Two main flows and a knowledge-base flow were visited.
    expect(new Set(turns.map((t) => `${t.node.scope}:${t.node.flowId}`))).toEqual(
      new Set(['main:f.open', 'main:f.survey', 'kb:kbf.logistics']),
    );
    // The greeting was said with the contact's variables filled in.
    expect(turns[0]!.robot[0]!.text).toContain('张三');
    expect(turns[0]!.robot[0]!.text).toContain('小王的店');
    expect(turns.at(-1)!.end).toEqual({ kind: 'hangup', reason: 'jumpNode' });

    // The call was recorded, both directions, for as long as it talked (下载录音). This sipp callee sends no audio,
    // only key presses: an Asterisk that does not transmit silence skips the stretches where neither side spoke.
    const audio = await http()
      .get(`/calls/${row.attemptId}/recording`)
      .set(as(AUDITOR))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(audio.status).toBe(200);
    expect(audio.headers['content-type']).toMatch(/audio\/(x-)?wav/);
    const wav = readWavInfo(audio.body as Buffer);
    expect(wav.durationSeconds).toBeLessThanOrEqual((row.talkSeconds as number) + 0.5);
    expect(wav.durationSeconds).toBeGreaterThan((row.talkSeconds as number) - 3);

    // The workflow history carries the same turns, in the same order.
    const temporal = app.get<Client>(TEMPORAL);
    const fromHistory = await turnsInHistory(temporal, contactWorkflowId(taskId, 0));
    expect(fromHistory.map(({ atMs, ...t }) => ({ at: new Date(atMs).toISOString(), ...t }))).toEqual(turns);
  }, 200_000);

  it('refuses a task that pins a script version that is not approved, naming the field', async () => {
    const body = createScriptBody(demoScript());
    const created = await http()
      .post('/scripts')
      .set(as(MANAGER))
      .send({ ...body, name: `${body.name as string}_草稿` });
    expect(created.status).toBe(201);
    const res = await http()
      .post('/tasks')
      .set(as(MANAGER))
      .field(
        'definition',
        JSON.stringify({
          name: '未审核话术',
          workingDays: [1],
          workingWindows: [{ start: '09:00', end: '12:00' }],
          scriptId: created.body.id,
          scriptVersion: 1,
        }),
      )
      .attach('file', Buffer.from(`phone,custName,shopName\n${PHONE},a,b\n`, 'utf8'), 'list.csv');
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ field: 'scriptVersion', reason: expect.stringMatching(/draft/) }),
    ]);
  });

  it('keeps dialog records to the tenant: another tenant or a missing call gets 404', async () => {
    const res = await http().get(`/tasks/nope/calls/nope-0-1/dialog`).set(as(AUDITOR));
    expect(res.status).toBe(404);
  });
});
