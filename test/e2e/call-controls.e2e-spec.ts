/**
 * In-call controls of a transferred call (seed §5.3, issue #8 item 4) through the API, on real components:
 * - an agent holds its call (Asterisk: the callee leaves the bridge and a playback — the hold music — runs on the
 *   callee's channel), resumes it (bridged again), transfers it to a second agent (that agent's phone rings and is
 *   bridged with the callee; the first agent is in after-call work), and the second agent hangs up through the API
 *   (the call record says hangupBy AGENT, agentId the second agent; the outcome lists the hand-over);
 * - a supervisor moves a call to another skill group's queue (its agent answers), then to an external number (a
 *   sipp phone on loopback, dialled through the trunk and bridged with the callee), then hangs up; with the 4xx of
 *   bad requests: no or two targets, a number not in E.164, an unknown agent or group, an agent who is not online,
 *   another tenant's call (404), another agent's key (409), an agent key on the supervisors' routes (403).
 *
 * Real: API (the stack's, and one whose keys include the agents created here), Temporal dev server and workers,
 * FerretDB, Asterisk 22 over ARI, espeak-ng, sipp callees, agent phones and the external phone. Nothing is faked.
 * sipp ports: 5900-5949.
 */
import type { INestApplication } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { connect, type Client as AriClient } from 'ari-client';
import { tmpdir } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { quietly } from '../../activities/ari/ari-adapter';
import { contactWorkflowId } from '../../src/ids';
import type { ContactCallResult } from '../../workflows/definitions';
import { TrunkObserver } from '../support/asterisk';
import { writeKeySequence } from '../support/dtmf-pcap';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { transferKit } from '../support/transfer-kit';
import { until } from '../support/wait';

const MANAGER = 'call-controls-manager-key-01';
const SUPERVISOR = 'call-controls-supervisor-key-1';
const STRANGER = 'call-controls-other-tenant-key';
const TENANT = uniqueName('tenant');
const CALLEE_PORT = 5900;
const EXTERNAL_PORT = 5902;
const AGENT_PHONES_PORT = 5904;
/** The phone of an agent who never answers (rings until the ring time passes). */
const DEAF_PHONE_PORT = 5906;
/** The phone of an agent who answers and hangs up by itself 1.5 s later. */
const BRIEF_PHONE_PORT = 5908;
const CALLEE_PREFIX = '+861370000009';
const EXTERNAL_NUMBER = '+8613900000077';

let stack: Stack;
let app: INestApplication;
let agents: INestApplication;
let ari: AriClient;
const sipps: SippCallee[] = [];
const observers: TrunkObserver[] = [];
const kit = transferKit({
  app: () => app,
  config: () => stack.config,
  tenant: TENANT,
  manager: MANAGER,
  supervisor: SUPERVISOR,
});
const { as, http, skillGroup, online, stateOf } = kit;
/** Playback events on the channels the test watches (its own ARI application subscribes to them). */
const playbacks: { channel: string; type: 'started' | 'finished'; id: string; media: string }[] = [];
/** Agent-role keys of the agents created so far (key → agent id). */
const keys: Record<string, string> = {};

type Row = Record<string, unknown>;

beforeAll(async () => {
  const dir = join(tmpdir(), uniqueName('waihu-controls-'));
  writeKeySequence(dir, ['1', '9', '1']);
  sipps.push(await startCallee('transfer-keys', CALLEE_PORT, [], { cwd: dir }));
  sipps.push(await startCallee('answer', EXTERNAL_PORT));
  // Every agent's phone: one sipp UAS that answers after 1 s and talks until hung up.
  sipps.push(await startCallee('answer', AGENT_PHONES_PORT));
  sipps.push(await startCallee('no-answer', DEAF_PHONE_PORT));
  sipps.push(await startCallee('callee-hangup', BRIEF_PHONE_PORT));
  stack = await startStack('callctl', {
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor,${STRANGER}:${uniqueName('t')}:supervisor`,
    SIP_ROUTES: `${CALLEE_PREFIX}=127.0.0.1:${CALLEE_PORT},${EXTERNAL_NUMBER}=127.0.0.1:${EXTERNAL_PORT}`,
    AGENT_RING_SECONDS: '6',
    TRANSFER_QUEUE_TIMEOUT_SECONDS: '30',
  });
  app = stack.app;
  const appName = uniqueName('callctl-watch');
  ari = await quietly(() => connect(stack.config.ari.url, stack.config.ari.username, stack.config.ari.password));
  ari.on('PlaybackStarted', (e) =>
    playbacks.push({ channel: e.playback.target_uri, type: 'started', id: e.playback.id, media: e.playback.media_uri }),
  );
  ari.on('PlaybackFinished', (e) =>
    playbacks.push({
      channel: e.playback.target_uri,
      type: 'finished',
      id: e.playback.id,
      media: e.playback.media_uri,
    }),
  );
  await ari.start(appName);
  (ari as unknown as { appName: string }).appName = appName;
}, 180_000);

afterAll(async () => {
  for (const o of observers) o.close();
  ari?.stop();
  await kit.close();
  await stack?.close();
  stopCallees(sipps);
}, 60_000);

/** An agent of the group with a phone (the shared sipp UAS), an agent-role key and an observer of its phone. */
async function agent(name: string, groupId: string, port = AGENT_PHONES_PORT) {
  const a = await kit.agent(name, groupId, port);
  const key = `agent-${name}-key-${uniqueName('')}`;
  keys[key] = a.id;
  return { ...a, key };
}

/** A second API on the same servers whose keys include `agent@<id>` keys of the agents created so far. */
const agentApi = () => kit.agentApi(keys);

const startTask = (name: string, groupId: string, phone: string) => kit.startTask(name, groupId, [phone]);

const finished = (taskId: string) => kit.finished(taskId, 60_000);

async function bridgesOf(attemptId: string): Promise<Map<string, string[]>> {
  const all = await ari.bridges.list();
  return new Map(
    all
      .filter((b) => b.id.startsWith(`${attemptId}-bridge`))
      .map((b) => [b.id, typeof b.channels === 'string' ? [b.channels] : b.channels]),
  );
}

/** The channels in the call's one bridge (and there is never more than one). */
async function bridged(attemptId: string): Promise<string[]> {
  const bridges = await bridgesOf(attemptId);
  expect(bridges.size).toBeLessThanOrEqual(1);
  return [...bridges.values()][0] ?? [];
}

/** Watch the playbacks of a channel from the test's own ARI application. */
async function watchPlaybacks(channelId: string): Promise<void> {
  const applicationName = (ari as unknown as { appName: string }).appName;
  await ari.applications.subscribe({ applicationName, eventSource: `channel:${channelId}` });
}

/** Playbacks started on the channel that have not finished. */
function playing(channelId: string): string[] {
  const mine = playbacks.filter((p) => p.channel === `channel:${channelId}`);
  const done = new Set(mine.filter((p) => p.type === 'finished').map((p) => p.id));
  return mine.filter((p) => p.type === 'started' && !done.has(p.id)).map((p) => p.media);
}

/**
 * The contact workflow's result: the call's outcome with its transfer (hand-overs included). With
 * WAIHU_RECORD_HISTORIES=1 its history is kept as a replay fixture `call-controls-<name>-contact-0.json` (in
 * WAIHU_HISTORIES_DIR, default test/fixtures/histories).
 */
async function contactResult(taskId: string, name: string): Promise<ContactCallResult> {
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  try {
    const client = new Client({ connection, namespace: stack.config.temporal.namespace });
    const handle = client.workflow.getHandle(contactWorkflowId(taskId, 0));
    const result = (await handle.result()) as ContactCallResult;
    if (process.env.WAIHU_RECORD_HISTORIES === '1') {
      const dir = process.env.WAIHU_HISTORIES_DIR ?? join(__dirname, '..', 'fixtures', 'histories');
      writeFileSync(join(dir, `call-controls-${name}-contact-0.json`), historyToJSON(await handle.fetchHistory()));
    }
    return result;
  } finally {
    await connection.close();
  }
}

describe('in-call controls on real agent phones', () => {
  let first: { id: string; phone: TrunkObserver; key: string };
  let second: { id: string; phone: TrunkObserver; key: string };
  let sup1: { id: string; phone: TrunkObserver; key: string };
  let sup2: { id: string; phone: TrunkObserver; key: string };
  let idle: { id: string; phone: TrunkObserver; key: string };
  let deaf: { id: string; phone: TrunkObserver; key: string };
  let sup3: { id: string; phone: TrunkObserver; key: string };
  let brief: { id: string; phone: TrunkObserver; key: string };
  let groupA: string;
  let groupC: string;
  let groupS: string;

  beforeAll(async () => {
    groupA = await skillGroup('ctl_first');
    const groupB = await skillGroup('ctl_second');
    first = await agent('ctl_first', groupA);
    second = await agent('ctl_second', groupB);
    groupS = await skillGroup('ctl_sup');
    groupC = await skillGroup('ctl_other');
    sup1 = await agent('ctl_sup1', groupS);
    sup2 = await agent('ctl_sup2', groupC);
    idle = await agent('ctl_idle', groupC); // never goes online
    deaf = await agent('ctl_deaf', await skillGroup('ctl_deaf'), DEAF_PHONE_PORT);
    sup3 = await agent('ctl_sup3', groupS);
    const groupP = await skillGroup('ctl_plain');
    brief = await agent('ctl_brief', groupP, BRIEF_PHONE_PORT);
    agents = await agentApi();
    await online(first.id);
    await online(second.id);
    await online(sup1.id);
    await online(sup2.id);
    await online(deaf.id);
    await online(brief.id);
    // Both calls run at once (the robot's part takes ~16 s each): the agent's test and the supervisor's.
    tasks.agent = await startTask('保持_转接_挂断', groupA, `${CALLEE_PREFIX}1`);
    tasks.supervisor = await startTask('转技能组_转外线', groupS, `${CALLEE_PREFIX}2`);
    tasks.plain = await startTask('无操作', groupP, `${CALLEE_PREFIX}3`);
  }, 60_000);
  const tasks: { agent?: string; supervisor?: string; plain?: string } = {};

  it('an agent holds, resumes, transfers to a second agent, who hangs up through the API', async () => {
    // Before an agent has it (the robot is talking), a call has nothing to control: 409, not an error.
    const connection = await Connection.connect({ address: stack.config.temporal.address });
    try {
      const client = new Client({ connection, namespace: stack.config.temporal.namespace });
      const plain = client.workflow.getHandle(contactWorkflowId(tasks.plain!, 0));
      await until(
        () =>
          plain.describe().then(
            () => true,
            () => false,
          ),
        'the plain call’s workflow',
        10_000,
        200,
      );
    } finally {
      await connection.close();
    }
    const early = await http().get(`/calls/${tasks.plain!}-0-1/control`).set(as(SUPERVISOR));
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain('not connected');

    const taskId = tasks.agent!;
    const attemptId = `${taskId}-0-1`;
    // Connected: the agent's own call, talking.
    const call = await until(
      async () => {
        const r = await http(agents).get('/agents/me/call').set(as(first.key));
        return r.status === 200 && r.body.phase === 'talking' ? (r.body as Row) : undefined;
      },
      'the call to be connected with the first agent',
      60_000,
      500,
    );
    expect(call).toMatchObject({ attemptId, agentId: first.id, skillGroupId: groupA, handovers: [] });
    // A person has the callee: the robot's AI seat is free again while the call goes on.
    const progress = await until(
      async () => {
        const t = await http().get(`/tasks/${taskId}`).set(as(MANAGER));
        const p = t.body.progress as Row | undefined;
        return p && p.dialling === 0 ? p : undefined;
      },
      'the AI seat to be freed at the hand-over',
      10_000,
      250,
    );
    expect(progress).toMatchObject({ live: 1, dialling: 0, finished: 0 });
    await watchPlaybacks(attemptId);
    expect(await bridged(attemptId)).toEqual(expect.arrayContaining([attemptId, `${attemptId}-agent1`]));
    // Another agent's key does not reach it.
    expect((await http(agents).post('/agents/me/call/hold').set(as(second.key))).status).toBe(409);
    expect((await http(agents).post(`/calls/${attemptId}/hold`).set(as(first.key))).status).toBe(403);

    // 保持: the callee leaves the bridge and hears music; the agent's leg stays up.
    const t0 = Date.now();
    const held = await http(agents).post('/agents/me/call/hold').set(as(first.key));
    process.stdout.write(`hold answered in ${Date.now() - t0} ms\n`);
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ attemptId, phase: 'held', agentId: first.id });
    expect(await bridged(attemptId)).toEqual([`${attemptId}-agent1`]);
    await until(() => playing(attemptId).length === 1, 'the hold music to play on the callee', 5_000, 100);
    const again = await http(agents).post('/agents/me/call/hold').set(as(first.key));
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('already on hold');

    // Back: bridged again, the music stops.
    const resumed = await http(agents).post('/agents/me/call/resume').set(as(first.key));
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ phase: 'talking', agentId: first.id });
    expect((await bridged(attemptId)).sort()).toEqual([attemptId, `${attemptId}-agent1`].sort());
    await until(() => playing(attemptId).length === 0, 'the hold music to stop', 5_000, 100);

    // 转接 to an agent who is not online: 409 naming why; to the second agent: its phone rings and is bridged.
    const notOnline = await http(agents).post('/agents/me/call/transfer').set(as(first.key)).send({ agentId: idle.id });
    expect(notOnline.status).toBe(409);
    expect(notOnline.body.detail).toContain('not online');
    const moved = await http(agents).post('/agents/me/call/transfer').set(as(first.key)).send({ agentId: second.id });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ phase: 'transferring', agentId: null });
    await until(
      async () => (await http(agents).get('/agents/me/call').set(as(second.key))).body.phase === 'talking',
      'the second agent to be connected',
      20_000,
      300,
    );
    expect(second.phone.total).toBe(1);
    expect(first.phone.total).toBe(1);
    expect((await bridged(attemptId)).sort()).toEqual([attemptId, `${attemptId}-agent2`].sort());
    expect(await stateOf(first.id)).toMatchObject({ state: 'AFTER_CALL_WORK', reservation: null });
    // The first agent no longer has a call to control.
    expect((await http(agents).post('/agents/me/call/hangup').set(as(first.key))).status).toBe(409);

    // 挂断 by the second agent: the system hangs the callee up; the record says the agent ended it.
    const hung = await http(agents).post('/agents/me/call/hangup').set(as(second.key));
    expect(hung.status).toBe(200);
    expect(hung.body).toMatchObject({ phase: 'ended' });
    const [row] = await finished(taskId);
    expect((await bridgesOf(`${taskId}-0-1`)).size).toBe(0); // no bridge left behind
    expect(row).toMatchObject({ attemptId, transfer: 'connected', agentId: second.id, hangupBy: 'AGENT' });
    // The detail row keeps the hand-over too (ListTaskDetail, from the stored result).
    expect(row!.handovers).toEqual([
      expect.objectContaining({ fromAgentId: first.id, to: 'agent', agentId: second.id, by: 'agent' }),
    ]);
    expect(await stateOf(second.id)).toMatchObject({ state: 'AFTER_CALL_WORK', reservation: null });
    const result = await contactResult(taskId, 'agent');
    expect(result.final?.transfer).toMatchObject({
      kind: 'connected',
      agentId: second.id,
      endedBy: 'AGENT',
      handovers: [{ fromAgentId: first.id, to: 'agent', agentId: second.id, by: 'agent', result: 'connected' }],
    });
    // Human time as a whole (both agents, the hold and the hand-over): robot + queue wait + human = the call.
    const t = result.final!.transfer!;
    expect(t.humanSeconds).toBeGreaterThanOrEqual(1);
    expect(Math.abs(t.robotSeconds! + t.queueWaitSeconds! + t.humanSeconds! - result.final!.talkSeconds)).toBeLessThan(
      0.5,
    );
  }, 120_000);

  it('a supervisor moves a call to another group, then to an external number, then hangs up', async () => {
    const taskId = tasks.supervisor!;
    const attemptId = `${taskId}-0-1`;
    await until(
      async () => (await http().get(`/calls/${attemptId}/control`).set(as(SUPERVISOR))).body.phase === 'talking',
      'the call to be connected with the first agent',
      60_000,
      500,
    );
    const transfer = (body: object, key = SUPERVISOR) =>
      http().post(`/calls/${attemptId}/transfer`).set(as(key)).send(body);
    // Bad requests, each naming its field.
    const none = await transfer({});
    expect(none.status).toBe(422);
    expect(JSON.stringify(none.body.errors)).toContain('agentId');
    expect((await transfer({ agentId: idle.id, number: EXTERNAL_NUMBER })).status).toBe(422);
    const badNumber = await transfer({ number: '12345' });
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.errors[0]).toMatchObject({ field: 'number' });
    const unknownAgent = await transfer({ agentId: 'nobody123' });
    expect(unknownAgent.status).toBe(404);
    expect(unknownAgent.body.errors[0]).toMatchObject({ field: 'agentId' });
    expect((await transfer({ skillGroupId: 'nogroup123' })).status).toBe(404);
    // Another tenant's supervisor: no such call.
    expect((await transfer({ skillGroupId: groupC }, STRANGER)).status).toBe(404);
    expect((await http().post(`/calls/${attemptId}/hangup`).set(as(STRANGER))).status).toBe(404);
    // A call that is not connected (a made-up attempt of the task).
    expect((await http().post(`/calls/${taskId}-0-9/hold`).set(as(SUPERVISOR))).status).toBe(409);

    /** The control state once a person has the call again. */
    const talking = (what: string) =>
      until(
        async () => {
          const r = await http().get(`/calls/${attemptId}/control`).set(as(SUPERVISOR));
          return r.body.phase === 'talking' ? (r.body as Row) : undefined;
        },
        what,
        20_000,
        300,
      );

    // To an agent whose phone rings out: that agent goes on short break (agents cannot refuse calls), and the
    // call goes back into the current group's queue, where another agent (online only now) takes it.
    await online(sup3.id);
    const toDeaf = await transfer({ agentId: deaf.id });
    expect(toDeaf.status).toBe(200);
    expect(toDeaf.body).toMatchObject({ phase: 'transferring' });
    expect(await talking('the call to come back through the queue')).toMatchObject({
      agentId: sup3.id,
      skillGroupId: groupS,
    });
    expect(deaf.phone.total).toBe(1);
    expect(await stateOf(deaf.id)).toMatchObject({ state: 'SHORT_BREAK', reason: 'missedCall', reservation: null });
    expect(await stateOf(sup1.id)).toMatchObject({ state: 'AFTER_CALL_WORK', reservation: null });

    // To the other skill group's queue: its agent is rung and bridged; the agent before goes to after-call work.
    const toGroup = await transfer({ skillGroupId: groupC });
    expect(toGroup.status).toBe(200);
    expect(toGroup.body).toMatchObject({ phase: 'transferring' });
    const withSecond = await talking('the other group’s agent to be connected');
    expect(withSecond).toMatchObject({ agentId: sup2.id, skillGroupId: groupC });
    expect(await stateOf(sup3.id)).toMatchObject({ state: 'AFTER_CALL_WORK' });

    // To an external number: dialled through the trunk, bridged with the callee.
    const external = await TrunkObserver.start(stack.config.ari, uniqueName('ctlext'));
    observers.push(external);
    const out = await transfer({ number: EXTERNAL_NUMBER });
    expect(out.status).toBe(200);
    const withExternal = await talking('the external number to be connected');
    expect(withExternal).toMatchObject({ agentId: null, number: EXTERNAL_NUMBER });
    // Legs so far: agent1 (first agent), agent2 (rang out), agent3 (from the queue), agent4 (the other group).
    expect(external.channelsCreated(`${attemptId}-ext5`)).toBe(1);
    expect((await bridged(attemptId)).sort()).toEqual([attemptId, `${attemptId}-ext5`].sort());
    await until(
      async () => (await stateOf(sup2.id)).state === 'AFTER_CALL_WORK',
      'the second agent in after-call work',
      5_000,
      200,
    );

    const hung = await http().post(`/calls/${attemptId}/hangup`).set(as(SUPERVISOR));
    expect(hung.status).toBe(200);
    const [row] = await finished(taskId);
    expect((await bridgesOf(`${taskId}-0-1`)).size).toBe(0); // no bridge left behind
    expect(row).toMatchObject({ attemptId, transfer: 'connected', agentId: sup2.id, hangupBy: 'AGENT' });
    // The detail row lists the four hand-overs; the external number is shown in full to a manager.
    expect((row!.handovers as Row[]).map((h) => [h.to, h.result])).toEqual([
      ['agent', 'noAnswer'],
      ['skillGroup', 'connected'],
      ['skillGroup', 'connected'],
      ['number', 'connected'],
    ]);
    expect((row!.handovers as Row[])[3]).toMatchObject({ number: EXTERNAL_NUMBER });
    const result = await contactResult(taskId, 'supervisor');
    expect(result.final?.transfer).toMatchObject({
      kind: 'connected',
      agentId: sup2.id,
      handovers: [
        { fromAgentId: sup1.id, to: 'agent', agentId: deaf.id, by: 'supervisor', result: 'noAnswer' },
        { to: 'skillGroup', skillGroupId: groupS, agentId: sup3.id, by: 'system', result: 'connected' },
        {
          fromAgentId: sup3.id,
          to: 'skillGroup',
          skillGroupId: groupC,
          agentId: sup2.id,
          by: 'supervisor',
          result: 'connected',
        },
        { fromAgentId: sup2.id, to: 'number', number: EXTERNAL_NUMBER, by: 'supervisor', result: 'connected' },
      ],
    });
    // After the end: nothing to control.
    expect((await http().post(`/calls/${attemptId}/hold`).set(as(SUPERVISOR))).status).toBe(409);
  }, 120_000);

  it('without commands the call ends as before: the agent’s phone hangs up, the agent goes to after-call work', async () => {
    const taskId = tasks.plain!;
    const [row] = await finished(taskId);
    expect((await bridgesOf(`${taskId}-0-1`)).size).toBe(0); // no bridge left behind
    expect(row).toMatchObject({
      attemptId: `${taskId}-0-1`,
      transfer: 'connected',
      agentId: brief.id,
      hangupBy: 'AGENT',
    });
    expect(brief.phone.total).toBe(1);
    expect(row).not.toHaveProperty('handovers');
    expect(await stateOf(brief.id)).toMatchObject({ state: 'AFTER_CALL_WORK', reservation: null });
    const result = await contactResult(taskId, 'plain');
    expect(result.final?.transfer).toMatchObject({ kind: 'connected', agentId: brief.id, endedBy: 'AGENT' });
    expect(result.final?.transfer).not.toHaveProperty('handovers');
    const control = await http().get(`/calls/${taskId}-0-1/control`).set(as(SUPERVISOR));
    expect(control.status).toBe(409);
    expect(control.body).toMatchObject({ status: 409, errors: [{ field: 'call' }] });
  }, 60_000);
});
