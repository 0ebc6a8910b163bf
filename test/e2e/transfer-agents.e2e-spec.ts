/**
 * 转人工 with agent phones (issue #8): sipp agent phones behind PJSIP endpoints created at run time, callees that walk
 * the demo script to its transfer (transfer-keys / transfer-talk), and the agent's own view through agent-role keys.
 * - an agent answers and is bridged: the call's recording holds the agent's voice (a 1 kHz tone its phone sends) and
 *   the callee's (a 1.8 kHz tone sent while bridged); the agent sees the offer, the robot's dialog so far and the
 *   contact's row, live over server-sent events, then lists its call, reads its dialog and writes a wrap-up note;
 * - an agent who lets it ring (AGENT_RING_SECONDS = 6 here) goes to 小休 (missedCall) and the next agent gets the call;
 * - an agent phone answering 486 is treated the same;
 * - no agent online: the queue times out, the callee hears the timeout prompt and is hung up (transfer `timeout`);
 * - two simultaneous transfers with two online agents reach two different agents.
 * An agent-role key sees only its own agent: 403 on the supervisors' agent routes and on other APIs, 404 on another
 * agent's calls.
 *
 * Real: API (two instances: the stack's, and one whose keys include the agents created here), Temporal dev server and
 * workers, FerretDB, Asterisk 22 over ARI, espeak-ng, sipp callees and agent phones. Nothing is faked.
 * sipp ports: 5850-5899.
 */
import type { INestApplication } from '@nestjs/common';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type request from 'supertest';
import { readWavInfo, type WavInfo } from '../../activities/telephony/wav';
import { demoScript } from '../../src/script/demo';
import type { MainFlow, Script } from '../../src/script/model';
import { writeKeySequence } from '../support/dtmf-pcap';
import { problemFields } from '../support/problems';
import { approvedScript } from '../support/scripts';
import { uniqueName } from '../support/servers';
import { startCallee, stopCallees, type Behaviour, type SippCallee } from '../support/sipp';
import { startStack, type Stack } from '../support/stack';
import { transferKit } from '../support/transfer-kit';
import { sleep, until } from '../support/wait';

const MANAGER = 'xfer-agents-manager-key-0123';
const SUPERVISOR = 'xfer-agents-supervisor-key-01';
const TENANT = uniqueName('tenant');
const TALK_CALLEE_PORT = 5850;
const KEYS_CALLEE_PORT = 5852;
/** The callee of test (a) talks (transfer-talk); every other number reaches the transfer-keys callee. */
const TALK_PHONE = '+8613700000001';
const KEYS_PREFIX = '+861370000001';
const AGENT_TONE_HZ = 1000;
const CALLEE_TONE_HZ = 1800;

let stack: Stack;
let app: INestApplication;
const sipps: SippCallee[] = [];
const kit = transferKit({
  app: () => app,
  config: () => stack.config,
  tenant: TENANT,
  manager: MANAGER,
  supervisor: SUPERVISOR,
});
const { as, http, skillGroup, online, agentApi, startTask, finished, stateOf } = kit;

// ---- RTP captures of tones: the voices the recording check recognises ----

/** ITU-T G.711 A-law of a 16-bit sample. */
function alaw(sample: number): number {
  const SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let pcm = sample >> 3;
  let mask: number;
  if (pcm >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  let seg = 0;
  while (seg < 8 && pcm > SEG_END[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | ((seg < 2 ? pcm >> 1 : pcm >> seg) & 0x0f);
  return aval ^ mask;
}

/**
 * sipp's g711a.pcap (7 s of PCMA RTP) with every payload replaced by a sine tone, and its own sequence numbers,
 * timestamps and SSRC (so that it follows a callee's key presses without looking like old packets).
 */
function writeTonePcap(path: string, hz: number, seqBase: number): void {
  const data = Buffer.from(readFileSync('/usr/share/sip-tester/g711a.pcap'));
  let off = 24;
  let k = 0;
  let n = 0;
  while (off + 16 <= data.length) {
    const length = data.readUInt32LE(off + 8);
    const rtp = off + 16 + 14 + 20 + 8;
    data.writeUInt16BE((seqBase + k) & 0xffff, rtp + 2);
    data.writeUInt32BE(1_000_000 + k * 160, rtp + 4);
    data.writeUInt32BE(0x5a5a0000 + hz, rtp + 8);
    for (let p = rtp + 12; p < off + 16 + length; p++, n++)
      data[p] = alaw(Math.round(12_000 * Math.sin((2 * Math.PI * hz * n) / 8000)));
    off += 16 + length;
    k++;
  }
  writeFileSync(path, data);
}

/**
 * Seconds of 0.25 s windows that hold a steady tone of `hz` alone (level and zero-crossing rate), counted over the
 * whole recording: where the two parties' tones overlap, neither counts, and how much they overlap depends on when
 * the agent answered, so the total (not the longest run) is what shows a party's voice is in the recording.
 */
function toneSeconds(buf: Buffer, info: WavInfo, hz: number): number {
  const win = Math.floor(info.sampleRate / 4);
  const samples = Math.floor(info.dataBytes / 2);
  let windows = 0;
  for (let s = 0; s + win <= samples; s += win) {
    let sum = 0;
    let crossings = 0;
    let prev = 0;
    for (let i = 0; i < win; i++) {
      const v = buf.readInt16LE(info.dataOffset + (s + i) * 2);
      sum += v * v;
      if (i > 0 && v < 0 !== prev < 0) crossings++;
      prev = v;
    }
    const rms = Math.sqrt(sum / win);
    const rate = (crossings * info.sampleRate) / win;
    const steady = rms > 2_000 && Math.abs(rate - 2 * hz) < 0.06 * 2 * hz;
    if (steady) windows++;
  }
  return windows / 4;
}

// ---- set-up ----

beforeAll(async () => {
  const talkDir = join(tmpdir(), uniqueName('waihu-xfer-talk-'));
  writeKeySequence(talkDir, ['1', '9', '1']);
  writeTonePcap(join(talkDir, 'callee-tone.pcap'), CALLEE_TONE_HZ, 20_000);
  sipps.push(await startCallee('transfer-talk', TALK_CALLEE_PORT, [], { cwd: talkDir }));
  const keysDir = join(tmpdir(), uniqueName('waihu-xfer-keys-'));
  writeKeySequence(keysDir, ['1', '9', '1']);
  sipps.push(await startCallee('transfer-keys', KEYS_CALLEE_PORT, [], { cwd: keysDir }));
  stack = await startStack('xferagents', {
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor`,
    SIP_ROUTES: `${TALK_PHONE}=127.0.0.1:${TALK_CALLEE_PORT},${KEYS_PREFIX}=127.0.0.1:${KEYS_CALLEE_PORT}`,
    AGENT_RING_SECONDS: '6',
    TRANSFER_QUEUE_TIMEOUT_SECONDS: '20',
  });
  app = stack.app;
}, 180_000);

afterAll(async () => {
  await kit.close();
  await stack?.close();
  stopCallees(sipps);
}, 60_000);

type Row = Record<string, unknown>;

/** An agent of the group whose phone is a sipp UAS (`behaviour`) on `port`; none = nothing answers there. */
async function agent(name: string, groupId: string, port: number, behaviour?: Behaviour, dir?: string) {
  if (behaviour) sipps.push(await startCallee(behaviour, port, [], dir ? { cwd: dir } : {}));
  return kit.agent(name, groupId, port);
}

/** Server-sent events of one stream, collected until `stop()`. */
async function collectEvents(a: INestApplication, key: string) {
  const server = a.getHttpServer() as Server;
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const abort = new AbortController();
  const events: { type: string; data: Row }[] = [];
  const res = await fetch(`http://127.0.0.1:${port}/agents/me/events`, { headers: as(key), signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data) events.push({ type, data: JSON.parse(data) as Row });
      }
    }
  })().catch(() => undefined);
  return {
    events,
    stop: async () => {
      abort.abort();
      await reading;
    },
  };
}

/** Supertest: keep a binary body as a Buffer. */
function binary(res: request.Response, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

describe('transfer to agents with real agent phones', () => {
  it('an agent answers: bridged and recorded with both voices; the agent sees the offer live and wraps up', async () => {
    const group = await skillGroup('recorded');
    const agentDir = join(tmpdir(), uniqueName('waihu-xfer-agent-'));
    mkdirSync(agentDir, { recursive: true });
    writeTonePcap(join(agentDir, 'agent-tone.pcap'), AGENT_TONE_HZ, 30_000);
    const talker = await agent('talker', group, 5851, 'agent-talk', agentDir);
    // Another agent of the tenant (its own group, never rung): the one whose key must not reach talker's call.
    const other = await agent('other', await skillGroup('others'), 5859);
    const TALKER_KEY = `agent-talker-key-${uniqueName('')}`;
    const OTHER_KEY = `agent-other-key-${uniqueName('')}`;
    const agents = await agentApi({ [TALKER_KEY]: talker.id, [OTHER_KEY]: other.id });

    // The agent goes online by itself.
    const on = await http(agents).put('/agents/me/state').set(as(TALKER_KEY)).send({ state: 'ONLINE' });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ agentId: talker.id, state: 'ONLINE', afterCallWork: null });
    const stream = await collectEvents(agents, TALKER_KEY);

    const taskId = await startTask('转人工_录音', group, [TALK_PHONE]);
    // While connected: the screen pop shows the caller, the contact's row and the robot's dialog so far.
    const offer = await until(
      async () => {
        const r = await http(agents).get('/agents/me/offer').set(as(TALKER_KEY));
        expect(r.status).toBe(200);
        const call = r.body.call as Row | null;
        return call?.phase === 'talking' ? call : undefined;
      },
      'the call to be connected with the agent',
      90_000,
      500,
    );
    expect(offer).toMatchObject({
      taskId,
      skillGroupId: group,
      phone: TALK_PHONE,
      contact: { index: 0, phone: TALK_PHONE, name: '客户1', variables: { custName: '客户1', shopName: '小王的店' } },
      dialog: { source: 'history' },
    });
    const liveTurns = (offer.dialog as { turns: Row[] }).turns;
    expect(liveTurns.length).toBeGreaterThanOrEqual(2);
    expect(liveTurns.filter((t) => t.calleeKey).map((t) => t.calleeKey)).toEqual(expect.arrayContaining(['1', '9']));
    const attemptId = offer.attemptId as string;
    // The other agent cannot see it.
    expect((await http(agents).get('/agents/me/offer').set(as(OTHER_KEY))).body.call).toBeNull();

    const rows = await finished(taskId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ attemptId, transfer: 'connected', agentId: talker.id, hangupBy: 'AGENT' });
    expect(talker.phone.total).toBe(1);
    // The task statistics count the transfer and its rate.
    const stats = await until(
      async () => {
        const res = await http().get(`/tasks/${taskId}/statistics`).set(as(MANAGER));
        return res.status === 200 && res.body.transferred === 1 ? (res.body as Row) : undefined;
      },
      'the transfer counted in the task statistics',
      30_000,
      500,
    );
    expect(stats).toMatchObject({
      answered: 1,
      transferred: 1,
      transferConnected: 1,
      transferRate: 1,
      transferConnectRate: 1,
    });

    // The recording holds the agent's voice (1 kHz) and the callee's (1.8 kHz), each for seconds (each phone sends 7 s
    // of its tone; a pure tone at exactly that pitch comes from nothing else on the call).
    const rec = await http()
      .get(`/calls/${attemptId}/recording`)
      .set(as(MANAGER))
      .buffer(true)
      .parse(binary)
      .expect(200);
    const wav = rec.body as Buffer;
    const info = readWavInfo(wav);
    const agentVoice = toneSeconds(wav, info, AGENT_TONE_HZ);
    const calleeVoice = toneSeconds(wav, info, CALLEE_TONE_HZ);
    process.stdout.write(
      `recording ${info.durationSeconds.toFixed(1)} s: agent tone ${agentVoice} s, callee tone ${calleeVoice} s\n`,
    );
    expect(agentVoice).toBeGreaterThanOrEqual(3);
    expect(calleeVoice).toBeGreaterThanOrEqual(3);

    // The stream told the agent about the offer and its state changes, with the after-call-work timer.
    await until(
      () => stream.events.some((e) => e.type === 'state' && e.data.state === 'AFTER_CALL_WORK'),
      'the after-call-work event',
      15_000,
    );
    await stream.stop();
    const types = stream.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['state', 'offer', 'queue']));
    expect(stream.events.some((e) => e.type === 'offer' && (e.data.call as Row | null)?.attemptId === attemptId)).toBe(
      true,
    );
    const acw = stream.events.find((e) => e.type === 'state' && e.data.state === 'AFTER_CALL_WORK')!.data;
    const timer = acw.afterCallWork as Row;
    expect(Date.parse(timer.endsAt as string) - Date.parse(timer.since as string)).toBe(30_000);
    expect(stream.events.filter((e) => e.type === 'problem')).toEqual([]);

    // Its own calls, dialog and wrap-up note.
    const calls = await http(agents).get('/agents/me/calls').set(as(TALKER_KEY)).expect(200);
    expect(calls.body.items).toEqual([
      expect.objectContaining({ attemptId, taskId, kind: 'handled', result: 'SUCCESS', wrapUp: null }),
    ]);
    expect(calls.body.items[0].phone).not.toBe(TALK_PHONE); // masked in the list
    const dialog = await http(agents).get(`/agents/me/calls/${attemptId}/dialog`).set(as(TALKER_KEY)).expect(200);
    expect(dialog.body).toMatchObject({ attemptId, source: 'record', end: { kind: 'transfer' } });
    expect(dialog.body.turns.length).toBeGreaterThanOrEqual(liveTurns.length);
    const note = await http(agents)
      .post(`/agents/me/calls/${attemptId}/wrap-up`)
      .set(as(TALKER_KEY))
      .send({ outcome: 'followUp', remark: '明天回电' })
      .expect(200);
    expect(note.body).toMatchObject({ attemptId, agentId: talker.id, outcome: 'followUp', remark: '明天回电' });
    const bad = await http(agents)
      .post(`/agents/me/calls/${attemptId}/wrap-up`)
      .set(as(TALKER_KEY))
      .send({ outcome: 'maybe' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('outcome');
    const listed = await http(agents).get('/agents/me/calls').set(as(TALKER_KEY)).expect(200);
    expect(listed.body.items[0].wrapUp).toMatchObject({ outcome: 'followUp', remark: '明天回电' });

    // The other agent's key: 404 on talker's call, 403 on the supervisors' agent routes and on other APIs.
    const theirs = http(agents);
    expect((await theirs.get(`/agents/me/calls/${attemptId}/dialog`).set(as(OTHER_KEY))).status).toBe(404);
    expect(
      (
        await http(agents)
          .post(`/agents/me/calls/${attemptId}/wrap-up`)
          .set(as(OTHER_KEY))
          .send({ outcome: 'resolved' })
      ).status,
    ).toBe(404);
    expect((await http(agents).get('/agents/me/calls').set(as(OTHER_KEY))).body.items).toEqual([]);
    expect((await http(agents).get(`/agents/${talker.id}/state`).set(as(OTHER_KEY))).status).toBe(403);
    expect(
      (await http(agents).put(`/agents/${talker.id}/state`).set(as(OTHER_KEY)).send({ state: 'SIGNED_OUT' })).status,
    ).toBe(403);
    expect((await http(agents).get(`/agents/${talker.id}/state-history`).set(as(OTHER_KEY))).status).toBe(403);
    expect((await http(agents).get(`/calls/${attemptId}/recording`).set(as(OTHER_KEY))).status).toBe(403);
    expect((await http(agents).get(`/tasks/${taskId}/details`).set(as(OTHER_KEY))).status).toBe(403);
    expect((await http(agents).get(`/tasks/${taskId}/calls/${attemptId}/dialog`).set(as(TALKER_KEY))).status).toBe(403);
    // Nor can a supervisor's key use the agent's own routes (it is bound to no agent).
    expect((await http(agents).get('/agents/me/offer').set(as(SUPERVISOR))).status).toBe(403);
    // 继续工作: the agent ends its own after-call work.
    const resume = await http(agents).put('/agents/me/state').set(as(TALKER_KEY)).send({ state: 'ONLINE' });
    expect(resume.status).toBe(200);
    expect(resume.body).toMatchObject({ state: 'ONLINE', reservation: null });
  }, 240_000);

  it('an agent who lets it ring goes to short break (missedCall) and the next agent gets the call', async () => {
    const group = await skillGroup('ring');
    const ringer = await agent('ringer', group, 5853, 'no-answer');
    const taker = await agent('taker', group, 5855, 'callee-hangup');
    await online(ringer.id);
    await sleep(50);
    await online(taker.id); // idle for less time: the ringer is offered first
    const started = Date.now();
    const taskId = await startTask('转人工_久振', group, [`${KEYS_PREFIX}1`]);
    const [row] = await finished(taskId);
    expect(row).toMatchObject({ transfer: 'connected', agentId: taker.id, hangupBy: 'AGENT' });
    expect(ringer.phone.total).toBe(1);
    expect(taker.phone.total).toBe(1);
    // The ringer's phone rang for AGENT_RING_SECONDS before the taker's was rung.
    const rang = taker.phone.createdAt[0]! - ringer.phone.createdAt[0]!;
    expect(rang).toBeGreaterThanOrEqual(5_500);
    expect(rang).toBeLessThan(12_000);
    expect(await stateOf(ringer.id)).toMatchObject({ state: 'SHORT_BREAK', reason: 'missedCall', reservation: null });
    expect(await stateOf(taker.id)).toMatchObject({ state: 'AFTER_CALL_WORK' });
    const history = (await http().get(`/agents/${ringer.id}/state-history`).set(as(SUPERVISOR))).body.items as Row[];
    expect(history).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ to: 'SHORT_BREAK', reason: 'missedCall', by: 'queue', callId: row!.attemptId }),
      ]),
    );
    process.stdout.write(`ring no answer: next agent rung ${rang} ms later; task ${Date.now() - started} ms\n`);
  }, 180_000);

  it('an agent phone answering 486 is treated as not answering: short break, the next agent gets the call', async () => {
    const group = await skillGroup('busy');
    const busy = await agent('busyphone', group, 5854, 'busy');
    const taker = await agent('taker2', group, 5856, 'callee-hangup');
    await online(busy.id);
    await sleep(50);
    await online(taker.id);
    const taskId = await startTask('转人工_占线', group, [`${KEYS_PREFIX}2`]);
    const [row] = await finished(taskId);
    expect(row).toMatchObject({ transfer: 'connected', agentId: taker.id });
    expect(busy.phone.total).toBe(1);
    expect(taker.phone.total).toBe(1);
    // Rejected at once, not after the ring time.
    expect(taker.phone.createdAt[0]! - busy.phone.createdAt[0]!).toBeLessThan(4_000);
    expect(await stateOf(busy.id)).toMatchObject({ state: 'SHORT_BREAK', reason: 'missedCall' });
  }, 180_000);

  it('no agent online: the queue times out, the callee hears the prompt and is hung up', async () => {
    const group = await skillGroup('nobody');
    // An agent of the group who has not started work: never rung, but it sees the queue (排队:1).
    const idle = await agent('notstarted', group, 5857);
    const KEY = `agent-notstarted-key-${uniqueName('')}`;
    const agents = await agentApi({ [KEY]: idle.id });
    const taskId = await startTask('转人工_无人', group, [`${KEYS_PREFIX}3`]);
    const waiting = await until(
      async () => {
        const q = await http(agents).get('/agents/me/queues').set(as(KEY)).expect(200);
        const item = (q.body.items as Row[]).find((i) => i.skillGroupId === group);
        return item && (item.waiting as number) > 0 ? item : undefined;
      },
      'the caller to wait in the queue',
      60_000,
      500,
    );
    expect(waiting).toMatchObject({ waiting: 1, name: 'nobody' });
    const [row] = await finished(taskId);
    expect(row).toMatchObject({ resultLabel: '呼叫成功', transfer: 'timeout', hangupBy: 'ROBOT' });
    expect(row!.agentId).toBeUndefined();
    expect(idle.phone.total).toBe(0);
    const after = await http(agents).get('/agents/me/queues').set(as(KEY)).expect(200);
    expect((after.body.items as Row[]).find((i) => i.skillGroupId === group)).toMatchObject({ waiting: 0 });
  }, 180_000);

  it('no agent online, the task falls back to the robot: its hand-back line, then the fallback flow runs', async () => {
    const group = await skillGroup('fallback');
    // A main flow the robot continues at: it promises a call-back (tagged) and hangs up.
    const callback: MainFlow = {
      id: 'f.callback',
      name: '回电',
      entryNodeId: 'cb',
      nodes: [
        {
          kind: 'jump',
          id: 'cb',
          name: '约回电',
          utterances: [{ id: 'cb.1', text: '我们稍后安排专人给您回电,再见。' }],
          tags: ['待回电'],
          action: { type: 'hangup' },
        },
      ],
      edges: [],
    };
    const addFlow = (s: Script) => s.flows.push(callback);
    // The fallback flow must be one of the pinned script's main flows: 422 naming the field, nothing written.
    const before = (await http().get('/tasks').set(as(MANAGER)).expect(200)).body.total as number;
    const bad = await http()
      .post('/tasks')
      .set(as(MANAGER))
      .field(
        'definition',
        JSON.stringify({
          name: '转人工_回退_错',
          workingDays: [1, 2, 3, 4, 5, 6, 7],
          workingWindows: [{ start: '00:00', end: '23:59' }],
          scriptId: (await approvedScript(app, { manager: MANAGER, supervisor: SUPERVISOR }, demoScript())).id,
          transfer: { onQueueTimeout: 'ROBOT', fallbackFlowId: 'f.nowhere' },
        }),
      )
      .attach('file', Buffer.from('用户号码,用户名称,custName,shopName\n+8613700000019,a,a,b', 'utf8'), 'list.csv');
    expect(bad.status).toBe(422);
    expect(problemFields(bad)).toContain('transfer.fallbackFlowId');
    expect((await http().get('/tasks').set(as(MANAGER)).expect(200)).body.total).toBe(before);

    const taskId = await startTask(
      '转人工_回退',
      group,
      [`${KEYS_PREFIX}6`],
      { transfer: { queueTimeoutSeconds: 5, onQueueTimeout: 'ROBOT', fallbackFlowId: 'f.callback' } },
      addFlow,
    );
    const [row] = await finished(taskId);
    expect(row).toMatchObject({ resultLabel: '呼叫成功', transfer: 'timeout', hangupBy: 'ROBOT' });
    expect(row!.tags).toEqual(expect.arrayContaining(['待回电']));
    const seconds = row!.transferSeconds as Row;
    // The wait ended at the queue timeout (5 s), not at the end of the call; the robot's time runs on after it.
    expect(seconds.queueWait as number).toBeGreaterThanOrEqual(4.5);
    expect(seconds.queueWait as number).toBeLessThan(15);
    expect(seconds.human).toBeUndefined();
    expect((seconds.robot as number) + (seconds.queueWait as number)).toBeCloseTo(row!.talkSeconds as number, 0);
    const dialog = await http()
      .get(`/tasks/${taskId}/calls/${row!.attemptId as string}/dialog`)
      .set(as(MANAGER))
      .expect(200);
    const turns = dialog.body.turns as Row[];
    const back = turns.findIndex((t) => t.input === 'transferFailed');
    expect(back).toBeGreaterThan(0);
    expect(turns[back - 1]!.end).toMatchObject({ kind: 'transfer', skillGroupId: group });
    expect(turns[back]).toMatchObject({ node: expect.objectContaining({ nodeId: 'k.transfer' }) });
    expect(turns[back]!.robot).toEqual([{ utteranceId: 'cb.1', text: '我们稍后安排专人给您回电,再见。' }]);
    expect(turns[back]!.end).toMatchObject({ kind: 'hangup' });
  }, 180_000);

  it('two simultaneous transfers with two online agents reach two different agents', async () => {
    const group = await skillGroup('pair');
    const a = await agent('pair_a', group, 5858, 'callee-hangup');
    const b = await agent('pair_b', group, 5860, 'callee-hangup');
    await online(a.id);
    await online(b.id);
    const taskId = await startTask('转人工_两路', group, [`${KEYS_PREFIX}4`, `${KEYS_PREFIX}5`]);
    const rows = await finished(taskId);
    expect(rows.map((r) => r.transfer)).toEqual(['connected', 'connected']);
    expect(rows.map((r) => r.agentId).sort()).toEqual([a.id, b.id].sort());
    expect(a.phone.total).toBe(1);
    expect(b.phone.total).toBe(1);
  }, 180_000);
});
