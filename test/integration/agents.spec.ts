/**
 * Skill groups, departments, agents, agent states and hotline settings: the HTTP API, the agents' phones in Asterisk
 * and the agent directory the transfer queue uses. Real: the NestJS app (in process, over HTTP via supertest),
 * FerretDB, Asterisk (ARI dynamic configuration; a real originate to an agent's endpoint) and a sipp UAS playing the
 * agent's phone on loopback (port 5750). Temporal is not contacted. No fakes.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import * as XLSX from 'xlsx';
import { createAgentDirectory, type AgentDirectory } from '../../activities/agents/agent-directory';
import { agentEndpoint, removeAgentPhone, syncAgentPhonesToAsterisk } from '../../activities/agents/agent-phones';
import { AriAdapter } from '../../activities/ari/ari-adapter';
import { createLogger } from '../../activities/logger';
import { apiTestApp, apiTestAppWithKeys, apiTestConfig, type ApiTestApp } from '../support/api-app';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { sleep } from '../support/wait';
import { problemFields as fields } from '../support/problems';

const PHONE_PORT = 5750;
const ADMIN = 'agents-admin-key-0123456789';
const MANAGER = 'agents-manager-key-0123456789';
const SUPERVISOR = 'agents-supervisor-key-012345';
const AUDITOR = 'agents-auditor-key-0123456789';
const OTHER = 'agents-other-tenant-key-0123';
const TENANT = uniqueName('agents');
const OTHER_TENANT = uniqueName('agents-other');

const config = apiTestConfig('agents', {
  API_KEYS: [
    `${ADMIN}:${TENANT}:admin`,
    `${MANAGER}:${TENANT}:manager`,
    `${SUPERVISOR}:${TENANT}:supervisor`,
    `${AUDITOR}:${TENANT}:auditor`,
    `${OTHER}:${OTHER_TENANT}:manager|supervisor`,
  ].join(','),
});
const logger = createLogger(config.logLevel, 'agents-test');
const ariAuth = {
  authorization: `Basic ${Buffer.from(`${config.ari.username}:${config.ari.password}`).toString('base64')}`,
};

let api: ApiTestApp;
let directory: AgentDirectory;
let phone: SippCallee | undefined;
const createdAgents = new Set<string>();
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  api = await apiTestApp('agents', { config, logger });
  directory = createAgentDirectory({ agents: api.ports.repos.agents });
  phone = await startCallee('answer', PHONE_PORT);
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close();
  // Endpoints live in Asterisk's memory until it restarts: leave none of ours behind.
  const ari = await AriAdapter.connect({ ...config.ari, app: uniqueName('agents-cleanup-') }, logger);
  for (const id of createdAgents) await removeAgentPhone(ari.ari, id);
  await ari.close();
  stopCallees(phone ? [phone] : []);
  await api?.close();
});

const auth = (key = MANAGER) => ({ Authorization: `Bearer ${key}` });
const http = () => api.http();
const problems = (res: request.Response) =>
  (res.body as { errors?: { field: string; row?: number; value?: string; reason: string }[] }).errors ?? [];

async function ariGet(path: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${config.ari.url}/ari${path}`, { headers: ariAuth });
  return { status: r.status, body: r.ok ? await r.json() : await r.text() };
}

async function aorContacts(id: string): Promise<string[] | undefined> {
  const r = await ariGet(`/asterisk/config/dynamic/res_pjsip/aor/${id}`);
  if (r.status !== 200) return undefined;
  return (r.body as { attribute: string; value: string }[])
    .filter((t) => t.attribute === 'contact')
    .flatMap((t) => t.value.split(','))
    .filter(Boolean);
}

interface AgentBody {
  id: string;
  endpoint: string;
  skillGroupIds: string[];
  state: { state: string; reason: string | null; reservation: unknown };
  freeze: { reason: string; until: string | null; permanent: boolean } | null;
}

async function group(name = uniqueName('sg_'), key = MANAGER): Promise<string> {
  const res = await http()
    .post('/skill-groups')
    .set(auth(key))
    .send({ name, displayName: `${name} 展示`, channel: 'HOTLINE', transferVisible: true });
  expect(res.status).toBe(201);
  return (res.body as { id: string }).id;
}

async function createAgent(body: Record<string, unknown>, key = MANAGER) {
  const res = await http().post('/agents').set(auth(key)).send(body);
  if (res.status === 201) createdAgents.add((res.body as AgentBody).id);
  return res;
}

async function agent(skillGroupIds: string[], extra: Record<string, unknown> = {}): Promise<AgentBody> {
  const res = await createAgent({
    loginName: `${uniqueName('a')}@example.com`,
    realName: '张三',
    displayName: '小张',
    skillGroupIds,
    phoneAddress: `127.0.0.1:${PHONE_PORT}`,
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body as AgentBody;
}

const changeState = (id: string, body: Record<string, unknown>, key = SUPERVISOR) =>
  http().put(`/agents/${id}/state`).set(auth(key)).send(body);

function xlsx(rows: unknown[][]): Buffer {
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(rows), '坐席');
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx' }) as Buffer;
}

describe('skill groups and departments', () => {
  it('validates naming every bad field, keeps names unique per tenant, and lets only managers write', async () => {
    const bad = await http()
      .post('/skill-groups')
      .set(auth())
      .send({ name: ' ', displayName: '', channel: 'FAX', transferVisible: 'yes', description: 'x'.repeat(201) });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(fields(bad)).toEqual(
      expect.arrayContaining(['name', 'displayName', 'channel', 'transferVisible', 'description']),
    );
    const noDept = await http()
      .post('/skill-groups')
      .set(auth())
      .send({ name: 'x', displayName: 'x', channel: 'HOTLINE', transferVisible: true, departmentId: 'dept-nope' });
    expect(noDept.status).toBe(422);
    expect(fields(noDept)).toEqual(['departmentId']);

    const name = uniqueName('销售组');
    const id = await group(name);
    const dup = await http()
      .post('/skill-groups')
      .set(auth())
      .send({ name, displayName: 'd', channel: 'ONLINE', transferVisible: false });
    expect(dup.status).toBe(409);
    expect(fields(dup)).toEqual(['name']);
    // Another tenant may use the name, and neither sees nor changes ours.
    await group(name, OTHER);
    expect((await http().get(`/skill-groups/${id}`).set(auth(OTHER))).status).toBe(404);
    expect((await http().delete(`/skill-groups/${id}`).set(auth(OTHER))).status).toBe(404);

    expect((await http().get(`/skill-groups/${id}`).set(auth(AUDITOR))).body).toMatchObject({
      id,
      name,
      channel: 'HOTLINE',
      transferVisible: true,
    });
    expect(
      (
        await http()
          .post('/skill-groups')
          .set(auth(SUPERVISOR))
          .send({ name: 'y', displayName: 'y', channel: 'HOTLINE', transferVisible: true })
      ).status,
    ).toBe(403);
    expect((await http().patch(`/skill-groups/${id}`).set(auth()).send({})).status).toBe(422);
    const patched = await http()
      .patch(`/skill-groups/${id}`)
      .set(auth())
      .send({ displayName: '华东销售', transferVisible: false, description: '热线' });
    expect(patched.body).toMatchObject({ displayName: '华东销售', transferVisible: false, description: '热线' });
    const cleared = await http().patch(`/skill-groups/${id}`).set(auth()).send({ description: null });
    expect(cleared.body).not.toHaveProperty('description');
  });

  it('refuses to delete a department with skill groups or a skill group with agents, naming them', async () => {
    const dept = await http()
      .post('/departments')
      .set(auth())
      .send({ name: uniqueName('华东部'), description: '部门' });
    expect(dept.status).toBe(201);
    const deptId = (dept.body as { id: string }).id;
    expect((await http().post('/departments').set(auth()).send({ name: '' })).status).toBe(400);
    expect(
      fields(
        await http()
          .post('/departments')
          .set(auth())
          .send({ name: (dept.body as { name: string }).name }),
      ),
    ).toEqual(['name']);

    const groupName = uniqueName('组');
    const g = await http()
      .post('/skill-groups')
      .set(auth())
      .send({ name: groupName, displayName: '组', channel: 'HOTLINE', transferVisible: true, departmentId: deptId });
    expect(g.status).toBe(201);
    const groupId = (g.body as { id: string }).id;
    expect((await http().get(`/skill-groups?departmentId=${deptId}`).set(auth())).body).toMatchObject({
      total: 1,
      items: [{ id: groupId, departmentId: deptId }],
    });

    const refusedDept = await http().delete(`/departments/${deptId}`).set(auth());
    expect(refusedDept.status).toBe(409);
    expect(problems(refusedDept)).toEqual([
      expect.objectContaining({ field: 'id', value: expect.stringContaining(groupName) }),
    ]);

    const a = await agent([groupId], { displayName: '王五', loginName: 'wang.wu@example.com' });
    const refusedGroup = await http().delete(`/skill-groups/${groupId}`).set(auth());
    expect(refusedGroup.status).toBe(409);
    expect(problems(refusedGroup)).toEqual([
      expect.objectContaining({ field: 'id', value: '王五 (wang.wu@example.com)' }),
    ]);

    // Members removed: both deletions go through.
    await http().patch(`/agents/${a.id}`).set(auth()).send({ skillGroupIds: [] }).expect(200);
    await http().delete(`/skill-groups/${groupId}`).set(auth()).expect(204);
    await http().delete(`/departments/${deptId}`).set(auth()).expect(204);
    expect((await http().get(`/departments/${deptId}`).set(auth())).status).toBe(404);
  });
});

describe('agents', () => {
  it('validates an agent naming every bad field, normalises login names and phone addresses, within the tenant', async () => {
    const bad = await createAgent({ loginName: '', realName: '', phoneAddress: 'not an address', role: 'BOSS' });
    expect(bad.status).toBe(400);
    expect(fields(bad)).toEqual(
      expect.arrayContaining(['loginName', 'realName', 'displayName', 'phoneAddress', 'role']),
    );
    const badLogin = await createAgent({
      loginName: 'nobody',
      realName: '张三',
      displayName: '小张',
      phoneAddress: '127.0.0.1',
    });
    expect(badLogin.status).toBe(422);
    expect(fields(badLogin)).toEqual(['loginName']);
    const badGroups = await createAgent({
      loginName: 'x@example.com',
      realName: '张三',
      displayName: '小张',
      phoneAddress: '127.0.0.1',
      skillGroupIds: ['sg-nope'],
    });
    expect(fields(badGroups)).toEqual(['skillGroupIds.0']);
    expect(
      (
        await createAgent(
          { loginName: 'y@example.com', realName: 'a', displayName: 'b', phoneAddress: '127.0.0.1' },
          AUDITOR,
        )
      ).status,
    ).toBe(403);

    const g = await group();
    const created = await createAgent(
      {
        loginName: '138 0013 8000',
        realName: '李四',
        displayName: '小李',
        skillGroupIds: [g],
        role: 'ENTERPRISE_ADMIN',
        phoneAddress: 'LOCALHOST',
      },
      ADMIN,
    );
    expect(created.status).toBe(201);
    const a = created.body as AgentBody;
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{12}$/),
      endpoint: `agent-${a.id}`,
      loginName: '+8613800138000',
      skillGroupIds: [g],
      role: 'ENTERPRISE_ADMIN',
      phoneAddress: 'localhost:5060',
      freeze: null,
      state: { state: 'NOT_STARTED', label: '未上班', reservation: null },
    });
    const dup = await createAgent({
      loginName: '+86 13800138000',
      realName: 'x',
      displayName: 'x',
      phoneAddress: '127.0.0.1',
    });
    expect(dup.status).toBe(409);
    expect(fields(dup)).toEqual(['loginName']);

    expect((await http().get(`/agents?skillGroupId=${g}`).set(auth(SUPERVISOR))).body).toMatchObject({
      total: 1,
      items: [{ id: a.id }],
    });
    expect((await http().get(`/agents/${a.id}`).set(auth(OTHER))).status).toBe(404);
    expect((await http().patch(`/agents/${a.id}`).set(auth(OTHER)).send({ realName: 'x' })).status).toBe(404);
    expect((await changeState(a.id, { state: 'ONLINE' }, OTHER)).status).toBe(404);
    expect((await http().patch(`/agents/${a.id}`).set(auth()).send({})).status).toBe(422);
    const patched = await http().patch(`/agents/${a.id}`).set(auth()).send({ displayName: '李经理', role: 'AGENT' });
    expect(patched.body).toMatchObject({ displayName: '李经理', role: 'AGENT' });

    await http().delete(`/agents/${a.id}`).set(auth()).expect(204);
    expect((await http().get(`/agents/${a.id}`).set(auth())).status).toBe(404);
  });

  it('creates the agent’s PJSIP endpoint in Asterisk without a restart, dials the phone through it, and removes it on delete', async () => {
    const a = await agent([await group()]);
    const id = agentEndpoint(a.id);
    expect(await ariGet(`/endpoints/PJSIP/${id}`)).toMatchObject({
      status: 200,
      body: { technology: 'PJSIP', resource: id },
    });
    expect(await aorContacts(id)).toEqual([`sip:127.0.0.1:${PHONE_PORT}`]);

    // The endpoint reaches the phone: an originate to PJSIP/agent-<id> is answered by the sipp UAS.
    const ari = await AriAdapter.connect({ ...config.ari, app: uniqueName('agents-dial-') }, logger);
    closers.push(() => ari.close());
    const session = await ari.originate({
      channelId: uniqueName('agents-call-'),
      endpoint: `PJSIP/${id}`,
      timeoutSeconds: 10,
    });
    const answeredAt = await Promise.race([
      session.answered,
      session.destroyed.then((d) => Promise.reject(new Error(`not answered: cause ${d.cause}`))),
    ]);
    expect(answeredAt).toBeGreaterThan(0);
    await ari.hangup(session);
    await session.destroyed;

    // A changed address replaces the contact.
    await http().patch(`/agents/${a.id}`).set(auth()).send({ phoneAddress: '127.0.0.1:5751' }).expect(200);
    expect(await aorContacts(id)).toEqual(['sip:127.0.0.1:5751']);

    // Asterisk restarted (its memory wizard forgot the phone): the start-up sync puts it back, idempotently.
    await removeAgentPhone(ari.ari, a.id);
    expect((await ariGet(`/endpoints/PJSIP/${id}`)).status).toBe(404);
    const synced = await syncAgentPhonesToAsterisk(ari.ari, await api.ports.repos.agents.allAgentPhones());
    expect(synced.failed).toEqual([]);
    expect((await ariGet(`/endpoints/PJSIP/${id}`)).status).toBe(200);
    await syncAgentPhonesToAsterisk(ari.ari, await api.ports.repos.agents.allAgentPhones());
    expect(await aorContacts(id)).toEqual(['sip:127.0.0.1:5751']);

    await http().delete(`/agents/${a.id}`).set(auth()).expect(204);
    expect((await ariGet(`/endpoints/PJSIP/${id}`)).status).toBe(404);
    expect(await aorContacts(id)).toBeUndefined();
  });

  it('imports agents from xlsx all or nothing, naming the row and column of every problem', async () => {
    const groupName = uniqueName('导入组');
    const g = await group(groupName);
    await agent([], { loginName: 'taken@example.com' });
    const header = ['登录名', '真实姓名', '对外展示名', '技能组', '角色', '话机地址'];
    const badFile = xlsx([
      header,
      ['zhao@example.com', '赵一', '小赵', groupName, '普通坐席', `127.0.0.1:${PHONE_PORT}`],
      ['qian@example', '钱二', '小钱', '', '', '127.0.0.1'],
      ['ZHAO@example.com', '孙三', '', 'no-such-group', '老板', '127.0.0.1:99999'],
      ['taken@example.com', '李四', '小李', '', '', '127.0.0.1'],
    ]);
    const before = (await http().get('/agents').set(auth()).expect(200)).body as { total: number };
    const refused = await http().post('/agents/import').set(auth()).attach('file', badFile, 'agents.xlsx');
    expect(refused.status).toBe(422);
    expect(problems(refused).map((p) => [p.row, p.field])).toEqual([
      [3, '登录名'],
      [4, '角色'],
      [4, '对外展示名'],
      [5, '登录名'],
    ]);
    // Nothing was written: no agent, and no endpoint for the good first row.
    expect(((await http().get('/agents').set(auth())).body as { total: number }).total).toBe(before.total);
    expect((await api.ports.repos.agents.agentsByLoginName(TENANT, ['zhao@example.com'])).length).toBe(0);

    const secondPass = await http()
      .post('/agents/import')
      .set(auth())
      .attach(
        'file',
        xlsx([
          header,
          ['zhao@example.com', '赵一', '小赵', groupName, '普通坐席', `127.0.0.1:${PHONE_PORT}`],
          ['ZHAO@example.com', '孙三', '小孙', 'no-such-group', '', '127.0.0.1:99999'],
        ]),
        'agents.xlsx',
      );
    expect(problems(secondPass).map((p) => [p.row, p.field])).toEqual([
      [3, '登录名'],
      [3, '话机地址'],
      [3, '技能组'],
    ]);

    const ok = await http()
      .post('/agents/import')
      .set(auth())
      .attach(
        'file',
        xlsx([
          ['loginName', 'realName', 'displayName', 'phoneAddress', 'skillGroups'],
          ['zhao@example.com', '赵一', '小赵', `127.0.0.1:${PHONE_PORT}`, `${groupName}，${g}`],
          ['13900139000', '钱二', '小钱', '127.0.0.1:5752', ''],
        ]),
        'agents.xlsx',
      );
    expect(ok.status).toBe(201);
    const imported = ok.body as { imported: number; items: AgentBody[] };
    for (const a of imported.items) createdAgents.add(a.id);
    expect(ok.body).toMatchObject({
      imported: 2,
      items: [
        { loginName: 'zhao@example.com', skillGroupIds: [g], role: 'AGENT' },
        { loginName: '+8613900139000', skillGroupIds: [], phoneAddress: '127.0.0.1:5752' },
      ],
    });
    for (const a of imported.items) expect((await ariGet(`/endpoints/PJSIP/${a.endpoint}`)).status).toBe(200);

    const badHeader = await http()
      .post('/agents/import')
      .set(auth())
      .attach(
        'file',
        xlsx([
          ['登录名', '工号'],
          ['a@example.com', '1'],
        ]),
        'agents.xlsx',
      );
    expect(problems(badHeader).map((p) => [p.row, p.field])).toEqual(
      expect.arrayContaining([
        [1, '工号'],
        [1, '真实姓名'],
        [1, '话机地址'],
      ]),
    );
    expect((await http().post('/agents/import').set(auth(SUPERVISOR)).attach('file', badFile, 'a.xlsx')).status).toBe(
      403,
    );
  });
});

describe('agent states', () => {
  it('moves through the seed’s states, validates transitions, and keeps a queryable history', async () => {
    const g = await group();
    const a = await agent([g]);
    const start = new Date();

    expect((await changeState(a.id, { state: 'AFTER_CALL_WORK' })).status).toBe(400);
    expect((await changeState(a.id, { state: 'ONLINE' }, MANAGER)).status).toBe(403);
    const online = await changeState(a.id, { state: 'ONLINE' });
    expect(online.status).toBe(200);
    expect(online.body).toMatchObject({ state: 'ONLINE', label: '在线', reason: null, reservation: null });
    // The same state again is a no-op (no history entry).
    expect((await changeState(a.id, { state: 'ONLINE' })).status).toBe(200);
    const reasonless = await changeState(a.id, { state: 'ONLINE', reason: 'meal' });
    expect(reasonless.status).toBe(409);
    expect(fields(reasonless)).toEqual(['reason']);
    expect((await changeState(a.id, { state: 'SHORT_BREAK', reason: 'nap' })).status).toBe(400);
    expect((await changeState(a.id, { state: 'SHORT_BREAK', reason: 'meal' })).body).toMatchObject({
      state: 'SHORT_BREAK',
      label: '小休',
      reason: 'meal',
    });
    expect((await changeState(a.id, { state: 'SHORT_BREAK', reason: 'meeting' })).body).toMatchObject({
      reason: 'meeting',
    });
    await changeState(a.id, { state: 'ONLINE' }).expect(200);
    await changeState(a.id, { state: 'SIGNED_OUT' }).expect(200);
    const signedOutToBreak = await changeState(a.id, { state: 'SHORT_BREAK', reason: 'rest' });
    expect(signedOutToBreak.status).toBe(409);
    expect(problems(signedOutToBreak)).toEqual([expect.objectContaining({ field: 'state', value: 'badTransition' })]);

    // After-call work is the queue's: entered when a call ends, left by 继续工作 (ONLINE).
    await changeState(a.id, { state: 'ONLINE' }).expect(200);
    expect(await directory.reserve(TENANT, a.id, 'call-1')).toMatchObject({ ok: true });
    expect(await directory.setState(TENANT, a.id, 'AFTER_CALL_WORK', { by: 'queue', callId: 'call-1' })).toMatchObject({
      ok: true,
      changed: true,
      state: { state: 'AFTER_CALL_WORK', label: '话后处理', reservation: null },
    });
    await changeState(a.id, { state: 'ONLINE' }).expect(200);

    expect((await http().get(`/agents/${a.id}/state`).set(auth(AUDITOR))).body).toMatchObject({ state: 'ONLINE' });
    const history = await http().get(`/agents/${a.id}/state-history?from=${start.toISOString()}`).set(auth(AUDITOR));
    expect(history.status).toBe(200);
    expect((history.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ from: 'NOT_STARTED', to: 'ONLINE', by: 'supervisor' }),
      expect.objectContaining({ from: 'ONLINE', to: 'SHORT_BREAK', reason: 'meal' }),
      expect.objectContaining({ from: 'SHORT_BREAK', to: 'SHORT_BREAK', reason: 'meeting' }),
      expect.objectContaining({ from: 'SHORT_BREAK', to: 'ONLINE' }),
      expect.objectContaining({ from: 'ONLINE', to: 'SIGNED_OUT' }),
      expect.objectContaining({ from: 'SIGNED_OUT', to: 'ONLINE' }),
      expect.objectContaining({ from: 'ONLINE', to: 'AFTER_CALL_WORK', by: 'queue', callId: 'call-1' }),
      expect.objectContaining({ from: 'AFTER_CALL_WORK', to: 'ONLINE' }),
    ]);
    const tooLong = await http()
      .get(`/agents/${a.id}/state-history?from=2020-01-01T00:00:00Z&to=2020-03-01T00:00:00Z`)
      .set(auth());
    expect(tooLong.status).toBe(422);
    expect(fields(tooLong)).toEqual(['from']);
  });

  it('keeps an agent with no skill group, or a frozen one, from going online', async () => {
    const g = await group();
    const lonely = await agent([]);
    const noGroup = await changeState(lonely.id, { state: 'ONLINE' });
    expect(noGroup.status).toBe(409);
    expect(problems(noGroup)).toEqual([expect.objectContaining({ field: 'state', value: 'noSkillGroup' })]);
    expect((await changeState(lonely.id, { state: 'SHORT_BREAK', reason: 'training' })).status).toBe(200);

    // An online agent keeps at least one skill group.
    const a = await agent([g]);
    await changeState(a.id, { state: 'ONLINE' }).expect(200);
    const emptied = await http().patch(`/agents/${a.id}`).set(auth()).send({ skillGroupIds: [] });
    expect(emptied.status).toBe(409);
    expect(fields(emptied)).toEqual(['skillGroupIds']);

    // Freezing signs the agent out; it cannot go online until unfrozen.
    expect(fields(await http().post(`/agents/${a.id}/freeze`).set(auth()).send({}))).toEqual(['reason']);
    const past = await http()
      .post(`/agents/${a.id}/freeze`)
      .set(auth())
      .send({ reason: '违规', until: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe(422);
    expect(fields(past)).toEqual(['until']);
    const frozen = await http().post(`/agents/${a.id}/freeze`).set(auth()).send({ reason: '违规操作' });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({
      freeze: { reason: '违规操作', until: null, permanent: true },
      state: { state: 'SIGNED_OUT' },
    });
    const refused = await changeState(a.id, { state: 'ONLINE' });
    expect(refused.status).toBe(409);
    expect(problems(refused)).toEqual([expect.objectContaining({ field: 'state', value: 'frozen' })]);
    expect(await directory.reserve(TENANT, a.id, 'call-x')).toEqual({ ok: false, code: 'notOnline' });
    await http().post(`/agents/${a.id}/unfreeze`).set(auth()).send({ reason: '申诉通过' }).expect(200);
    expect((await http().post(`/agents/${a.id}/unfreeze`).set(auth()).send({})).status).toBe(409);
    await changeState(a.id, { state: 'ONLINE' }).expect(200);

    // A temporary freeze ends by itself.
    const until = new Date(Date.now() + 1500).toISOString();
    const temp = await http().post(`/agents/${a.id}/freeze`).set(auth()).send({ reason: '临时', until });
    expect(temp.body).toMatchObject({ freeze: { permanent: false, until }, state: { state: 'SIGNED_OUT' } });
    expect((await changeState(a.id, { state: 'ONLINE' })).status).toBe(409);
    await sleep(1600);
    await changeState(a.id, { state: 'ONLINE' }).expect(200);
    expect((await http().get(`/agents/${a.id}`).set(auth())).body).toMatchObject({ freeze: null });
  });
});

describe('an agent changing its own state through ChangeAgentState', () => {
  /** A second app on the same database whose keys are bound to agents created above (ids are known only now). */
  async function agentApp(keys: string[]): Promise<INestApplication> {
    const a = await apiTestAppWithKeys(config, keys, logger);
    closers.push(() => a.close());
    return a.app;
  }

  it('lets an agent key change its own agent’s state, 403 for any other agent, 404 across tenants', async () => {
    const g = await group();
    const own = await agent([g]);
    const other = await agent([g]);
    const AGENT = 'agents-own-agent-key-0123456789';
    // Another tenant's agent key bound to the same id: the id is not enough to reach this tenant's agent.
    const FOREIGN = 'agents-foreign-agent-key-01234';
    const agentApi = await agentApp([
      `${AGENT}:${TENANT}:agent@${own.id}`,
      `${FOREIGN}:${OTHER_TENANT}:agent@${own.id}`,
    ]);
    const agentHttp = () => request(agentApi.getHttpServer());
    const put = (id: string, body: Record<string, unknown>, key = AGENT) =>
      agentHttp().put(`/agents/${id}/state`).set(auth(key)).send(body);
    const stateOf = async (id: string) =>
      ((await http().get(`/agents/${id}/state`).set(auth(AUDITOR)).expect(200)).body as { state: string }).state;
    const start = new Date();

    // Its own id: the same rules as a supervisor's change (and as PUT /agents/me/state).
    const online = await put(own.id, { state: 'ONLINE' });
    expect({ status: online.status, body: online.body as unknown }).toMatchObject({
      status: 200,
      body: { agentId: own.id, state: 'ONLINE', label: '在线', reservation: null },
    });
    expect((await put(own.id, { state: 'AFTER_CALL_WORK' })).status).toBe(400);
    const reasonless = await put(own.id, { state: 'ONLINE', reason: 'meal' });
    expect(reasonless.status).toBe(409);
    expect(fields(reasonless)).toEqual(['reason']);
    expect((await put(own.id, { state: 'SHORT_BREAK', reason: 'meal' })).body).toMatchObject({
      state: 'SHORT_BREAK',
      reason: 'meal',
    });
    const viaMe = await agentHttp().put('/agents/me/state').set(auth(AGENT)).send({ state: 'ONLINE' });
    expect(viaMe.body).toMatchObject({ agentId: own.id, state: 'ONLINE', afterCallWork: null });
    expect(await stateOf(own.id)).toBe('ONLINE');

    // Another agent's id — existing or not — is 403 naming the id, and nothing changes.
    for (const id of [other.id, 'ffffffffffff']) {
      const refused = await put(id, { state: 'ONLINE' });
      expect(refused.status).toBe(403);
      expect(problems(refused)).toEqual([expect.objectContaining({ field: 'id', value: id })]);
    }
    expect(await stateOf(other.id)).toBe('NOT_STARTED');
    // The supervisors' other routes stay closed to the agent, its own id included.
    expect((await agentHttp().get(`/agents/${own.id}/state`).set(auth(AGENT))).status).toBe(403);
    expect((await agentHttp().post(`/agents/${own.id}/freeze`).set(auth(AGENT)).send({ reason: 'x' })).status).toBe(
      403,
    );

    // Across tenants: another tenant's agent key with this id, and another tenant's supervisor, get 404.
    expect((await put(own.id, { state: 'SIGNED_OUT' }, FOREIGN)).status).toBe(404);
    expect((await put(own.id, { state: 'SIGNED_OUT' }, OTHER)).status).toBe(404);
    expect(await stateOf(own.id)).toBe('ONLINE');

    // A supervisor still changes any agent; the history says who changed what.
    await changeState(other.id, { state: 'ONLINE' }).expect(200);
    await put(own.id, { state: 'SIGNED_OUT' }).expect(200);
    const history = await http().get(`/agents/${own.id}/state-history?from=${start.toISOString()}`).set(auth(AUDITOR));
    expect((history.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ from: 'NOT_STARTED', to: 'ONLINE', by: 'agent' }),
      expect.objectContaining({ from: 'ONLINE', to: 'SHORT_BREAK', reason: 'meal', by: 'agent' }),
      expect.objectContaining({ from: 'SHORT_BREAK', to: 'ONLINE', by: 'agent' }),
      expect.objectContaining({ from: 'ONLINE', to: 'SIGNED_OUT', by: 'agent' }),
    ]);
  });
});

describe('hotline settings', () => {
  it('applies the tenant’s settings, and an agent’s own only while the tenant allows them', async () => {
    const a = await agent([await group()]);
    expect((await http().get('/agent-settings').set(auth(AUDITOR))).body).toEqual({
      autoAnswer: { enabled: true, seconds: 1 },
      autoEndAfterCallWork: { enabled: true, seconds: 30 },
      allowAgentOverride: false,
    });
    expect((await http().get(`/agents/${a.id}/settings`).set(auth())).body).toEqual({
      autoAnswerSeconds: 1,
      afterCallWorkSeconds: 30,
      source: 'tenant',
    });
    const own = { autoAnswer: { enabled: true, seconds: 3 }, autoEndAfterCallWork: { enabled: false, seconds: 0 } };
    const notAllowed = await http().patch(`/agents/${a.id}`).set(auth()).send({ hotlineSettings: own });
    expect(notAllowed.status).toBe(409);
    expect(fields(notAllowed)).toEqual(['hotlineSettings']);

    const badSettings = await http()
      .patch('/agent-settings')
      .set(auth())
      .send({ autoAnswer: { enabled: true, seconds: 61 }, autoEndAfterCallWork: { enabled: 'no', seconds: 30 } });
    expect(badSettings.status).toBe(400);
    expect(fields(badSettings)).toEqual(expect.arrayContaining(['autoAnswer.seconds', 'autoEndAfterCallWork.enabled']));
    expect(
      (await http().patch('/agent-settings').set(auth(SUPERVISOR)).send({ allowAgentOverride: true })).status,
    ).toBe(403);
    expect(
      (
        await http()
          .patch('/agent-settings')
          .set(auth())
          .send({ allowAgentOverride: true, autoEndAfterCallWork: { enabled: true, seconds: 45 } })
      ).body,
    ).toEqual({
      autoAnswer: { enabled: true, seconds: 1 },
      autoEndAfterCallWork: { enabled: true, seconds: 45 },
      allowAgentOverride: true,
    });
    expect(await directory.settingsOf(TENANT, a.id)).toEqual({
      autoAnswerSeconds: 1,
      afterCallWorkSeconds: 45,
      source: 'tenant',
    });

    await http().patch(`/agents/${a.id}`).set(auth()).send({ hotlineSettings: own }).expect(200);
    // Auto-end off: after-call work lasts until the agent resumes.
    expect(await directory.settingsOf(TENANT, a.id)).toEqual({
      autoAnswerSeconds: 3,
      afterCallWorkSeconds: null,
      source: 'agent',
    });
    // The tenant stops allowing them: the agent's own are kept but no longer apply.
    await http().patch('/agent-settings').set(auth()).send({ allowAgentOverride: false }).expect(200);
    expect((await http().get(`/agents/${a.id}/settings`).set(auth())).body).toEqual({
      autoAnswerSeconds: 1,
      afterCallWorkSeconds: 45,
      source: 'tenant',
    });
    expect((await http().get(`/agents/${a.id}`).set(auth())).body).toMatchObject({ hotlineSettings: own });
    // Other tenants keep the defaults.
    expect((await http().get('/agent-settings').set(auth(OTHER))).body).toMatchObject({ allowAgentOverride: false });
  });
});

describe('agent directory (for the transfer queue)', () => {
  it('lists online idle agents longest-idle first, and reserves an agent for exactly one of two concurrent calls', async () => {
    const g = await group();
    const first = await agent([g]);
    const second = await agent([g]);
    const onBreak = await agent([g]);
    await changeState(first.id, { state: 'ONLINE' }).expect(200);
    await sleep(20);
    await changeState(second.id, { state: 'ONLINE' }).expect(200);
    await changeState(onBreak.id, { state: 'SHORT_BREAK', reason: 'rest' }).expect(200);

    const online = await directory.onlineAgents(TENANT, g);
    expect(online.map((o) => o.agentId)).toEqual([first.id, second.id]);
    expect(online[0]).toMatchObject({
      endpoint: agentEndpoint(first.id),
      address: `127.0.0.1:${PHONE_PORT}`,
      idleSince: expect.any(Date),
    });
    expect(await directory.onlineAgents(OTHER_TENANT, g)).toEqual([]);
    expect(await directory.phoneOf(TENANT, first.id)).toEqual({
      endpoint: agentEndpoint(first.id),
      address: `127.0.0.1:${PHONE_PORT}`,
    });
    expect(await directory.phoneOf(OTHER_TENANT, first.id)).toBeNull();

    // Two simultaneous transfers reach for the same agent: exactly one gets it.
    const results = await Promise.all([
      directory.reserve(TENANT, first.id, 'call-a'),
      directory.reserve(TENANT, first.id, 'call-b'),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const loser = results.find((r) => !r.ok);
    expect(loser).toMatchObject({ ok: false, code: 'reserved' });
    const winner = results[0]?.ok ? 'call-a' : 'call-b';
    // Idempotent for the same call; the reserved agent is no longer idle; others cannot change its state.
    expect(await directory.reserve(TENANT, first.id, winner)).toMatchObject({ ok: true });
    expect((await directory.onlineAgents(TENANT, g)).map((o) => o.agentId)).toEqual([second.id]);
    const onCall = await changeState(first.id, { state: 'SHORT_BREAK', reason: 'rest' });
    expect(onCall.status).toBe(409);
    expect(problems(onCall)).toEqual([expect.objectContaining({ value: 'onCall' })]);
    expect((await http().delete(`/agents/${first.id}`).set(auth())).status).toBe(409);
    expect(await directory.reserve(TENANT, onBreak.id, 'call-c')).toEqual({ ok: false, code: 'notOnline' });

    // The offer rang unanswered: short break (missedCall), released in the same write.
    expect(
      await directory.setState(TENANT, first.id, 'SHORT_BREAK', { reason: 'missedCall', by: 'queue', callId: winner }),
    ).toMatchObject({ ok: true, state: { state: 'SHORT_BREAK', reason: 'missedCall', reservation: null } });
    expect(await directory.unreserve(TENANT, first.id, winner)).toBe(false);

    // A withdrawn offer keeps the agent's idle time.
    const idle = (await directory.onlineAgents(TENANT, g))[0]?.idleSince;
    expect(await directory.reserve(TENANT, second.id, 'call-d')).toMatchObject({ ok: true });
    expect(await directory.unreserve(TENANT, second.id, 'call-other')).toBe(false);
    expect(await directory.unreserve(TENANT, second.id, 'call-d')).toBe(true);
    expect((await directory.onlineAgents(TENANT, g))[0]).toMatchObject({ agentId: second.id, idleSince: idle });

    // Ten concurrent reserves of ten calls on one agent: one winner.
    const many = await Promise.all(
      Array.from({ length: 10 }, (_, i) => directory.reserve(TENANT, second.id, `call-m${i}`)),
    );
    expect(many.filter((r) => r.ok)).toHaveLength(1);
    expect(await directory.setState(TENANT, second.id, 'NOT_STARTED', { by: 'queue' })).toMatchObject({
      ok: false,
      code: 'onCall',
    });
  });
});

describe('OpenAPI', () => {
  it('describes every agent route', async () => {
    const doc = (await http().get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(ids).toEqual(
      expect.arrayContaining([
        'CreateSkillGroup',
        'ListSkillGroups',
        'GetSkillGroup',
        'UpdateSkillGroup',
        'DeleteSkillGroup',
        'CreateDepartment',
        'ListDepartments',
        'GetDepartment',
        'UpdateDepartment',
        'DeleteDepartment',
        'CreateAgent',
        'ImportAgents',
        'ListAgents',
        'GetAgent',
        'UpdateAgent',
        'DeleteAgent',
        'FreezeAgent',
        'UnfreezeAgent',
        'GetAgentState',
        'ChangeAgentState',
        'ListAgentStateHistory',
        'GetAgentEffectiveSettings',
        'GetAgentSettings',
        'UpdateAgentSettings',
      ]),
    );
  });
});
