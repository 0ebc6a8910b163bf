/**
 * 转人工 on real calls (issue #8): two callees walk the demo script to its transfer at the same moment; the skill
 * group has one online agent, whose phone (a sipp UAS behind a PJSIP endpoint created at run time) answers and hangs
 * up after 1.5 s. The queue (an entity workflow) must offer the agent to exactly one of the two calls; the other
 * waits on hold and, with nobody free before the queue timeout, hears the timeout prompt and is hung up. The agent
 * ends in after-call work (话后处理).
 *
 * Real: API, Temporal dev server and workers, FerretDB, Asterisk 22 over ARI (bridge, music on hold, the agent leg),
 * espeak-ng, sipp callees and agent phone. Nothing is faked.
 */
import type { INestApplication } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TEMPORAL } from '../../api/common/tokens';
import { demoScript } from '../../src/script/demo';
import { queueWorkflowId } from '../../src/ids';
import { TrunkObserver } from '../support/asterisk';
import { zoneWhereOpenNow } from '../support/calendar';
import { approvedScript } from '../support/scripts';
import { writeKeySequence } from '../support/dtmf-pcap';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { until } from '../support/wait';

const MANAGER = 'transfer-manager-key-0123456';
const SUPERVISOR = 'transfer-supervisor-key-01234';
const TENANT = uniqueName('tenant');
const CALLEE_PORTS = [5251, 5252];
const AGENT_PORT = 5253;
const PHONES = ['+8613600000001', '+8613600000002'];

let stack: Stack;
let app: INestApplication;
const sipps: SippCallee[] = [];
let agentLeg: TrunkObserver | undefined;

beforeAll(async () => {
  for (const port of CALLEE_PORTS) {
    const dir = join(tmpdir(), uniqueName('waihu-transfer-keys-'));
    writeKeySequence(dir, ['1', '9', '1']);
    sipps.push(await startCallee('transfer-keys', port, [], { cwd: dir }));
  }
  sipps.push(await startCallee('callee-hangup', AGENT_PORT));
  stack = await startStack('transfer', {
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor`,
    SIP_ROUTES: PHONES.map((p, i) => `${p}=127.0.0.1:${CALLEE_PORTS[i]}`).join(','),
    TRANSFER_QUEUE_TIMEOUT_SECONDS: '12',
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  agentLeg?.close();
  await stack?.close();
  stopCallees(sipps);
});

const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => request(app.getHttpServer());

describe('transfer to human agents', () => {
  it('two simultaneous transfers, one agent: one call is bridged to the agent, the other times out', async () => {
    const group = await http()
      .post('/skill-groups')
      .set(as(MANAGER))
      .send({ name: 'after_sales', displayName: '售后客服', channel: 'HOTLINE', transferVisible: true });
    expect(group.body).toMatchObject({ id: expect.any(String) });
    const skillGroupId = group.body.id as string;
    const agent = await http()
      .post('/agents')
      .set(as(MANAGER))
      .send({
        loginName: 'wang.xm@example.com',
        realName: '王小明',
        displayName: '小王',
        skillGroupIds: [skillGroupId],
        phoneAddress: `127.0.0.1:${AGENT_PORT}`,
      });
    expect(agent.body).toMatchObject({ id: expect.any(String) });
    const agentId = agent.body.id as string;
    const online = await http().put(`/agents/${agentId}/state`).set(as(SUPERVISOR)).send({ state: 'ONLINE' });
    expect(online.status).toBe(200);
    agentLeg = await TrunkObserver.start(stack.config.ari, uniqueName('agentobs'), `PJSIP/agent-${agentId}`);

    // The demo script, its transfer pointed at this tenant's skill group.
    const script = demoScript();
    for (const node of script.kbFlows.flatMap((f) => f.nodes))
      if (node.kind === 'jump' && node.action.type === 'transfer') node.action.skillGroupId = skillGroupId;
    const { id: scriptId } = await approvedScript(app, { manager: MANAGER, supervisor: SUPERVISOR }, script);

    const csv = ['用户号码,custName,shopName', ...PHONES.map((p, i) => `${p},客户${i + 1},小王的店`)].join('\n');
    const task = await http()
      .post('/tasks')
      .set(as(MANAGER))
      .field(
        'definition',
        JSON.stringify({
          name: '转人工_并发',
          workingDays: [1, 2, 3, 4, 5, 6, 7],
          workingWindows: [{ start: '00:00', end: '23:59' }],
          timezone: zoneWhereOpenNow(),
          aiSeats: 2,
          scriptId,
        }),
      )
      .attach('file', Buffer.from(csv, 'utf8'), 'list.csv');
    expect(task.status).toBe(201);
    const taskId = task.body.id as string;
    await until(
      async () => (await http().get(`/tasks/${taskId}`).set(as(MANAGER))).body.status === 'COMPLETED',
      'the transfer task to complete',
      150_000,
      1000,
    );

    const rows = (await http().get(`/tasks/${taskId}/details`).set(as(MANAGER))).body.items as Record<
      string,
      unknown
    >[];
    expect(rows.map((r) => r.resultLabel)).toEqual(['呼叫成功', '呼叫成功']);
    const connected = rows.filter((r) => r.transfer === 'connected');
    const timedOut = rows.filter((r) => r.transfer === 'timeout');
    expect(connected).toHaveLength(1);
    expect(timedOut).toHaveLength(1);
    // The agent hung up the connected call; the robot ended the one nobody could take.
    expect(connected[0]).toMatchObject({ agentId, hangupBy: 'AGENT', tags: expect.arrayContaining(['转人工']) });
    expect(timedOut[0]).toMatchObject({ hangupBy: 'ROBOT' });
    // The connected call's talk time splits into the robot's part, the queue wait and the agent's part.
    const split = connected[0]!.transferSeconds as { robot: number; queueWait: number; human: number };
    expect(split.robot).toBeGreaterThan(5);
    expect(split.human).toBeGreaterThan(0.5);
    expect(Math.abs(split.robot + split.queueWait + split.human - (connected[0]!.talkSeconds as number))).toBeLessThan(
      1,
    );
    expect(timedOut[0]!.agentId).toBeUndefined();
    // Asterisk rang the agent's phone exactly once: the second transfer never reached the reserved agent.
    expect(agentLeg.total).toBe(1);

    // After the call the agent is in after-call work, and the history shows the queue's reservation of the call.
    const state = await http().get(`/agents/${agentId}/state`).set(as(SUPERVISOR));
    expect(state.body).toMatchObject({ state: 'AFTER_CALL_WORK', reservation: null });
    const history = await http().get(`/agents/${agentId}/state-history`).set(as(SUPERVISOR));
    expect(JSON.stringify(history.body)).toContain(connected[0]!.attemptId as string);

    // The queue's decisions are in its own workflow history.
    const temporal = app.get<Client>(TEMPORAL);
    const queueHistory = await temporal.workflow.getHandle(queueWorkflowId(TENANT, skillGroupId)).fetchHistory();
    const activities = (queueHistory.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(activities).toEqual(expect.arrayContaining(['reserveAgent', 'startAfterCallWork']));
  }, 220_000);
});
