/**
 * The transfer crash drill of issue #8: `kill -9` the worker process holding three transferred calls — two callees
 * waiting in the skill group's queue (its only online agent is taken), the third being offered to that agent, whose
 * phone is ringing. One waiting callee hangs up while no worker holds its call. A new worker process starts, with an
 * ARI application of its own as any other media worker would have, and adopts the channels (adoptCall): the waiting
 * callee stays queued; the ringing one is rung to the same agent again from the new worker; the one who hung up is
 * found gone and ends as abandoned. The agent answers that second ring, a second agent goes online for the waiting
 * callee, and both end connected with their agents — bridged in Asterisk, the call records say connected with the
 * agent; none is 呼损.
 * A second drill kills the worker holding a call connected with its agent (two workers, the one whose ARI application
 * holds the callee's channel is killed): the other adopts the callee's channel and the agent's leg (patch
 * `connected-adoption`), the two stay bridged (the lost host's bridge, kept by Asterisk), and the in-call controls go
 * on from the adopter — hold, resume, hang-up — to a connected call record with the adopted recording.
 * A third kills the host while a supervisor's directed transfer rings an agent whose phone never answers (patch
 * `command-adoption`): the other worker adopts the callee (on hold, the ringing leg hung up), the call goes back to
 * the skill group's queue and an agent of the group takes it there; the hand-overs say so (`failed`, then the
 * system's re-queue `connected`), and the target's reservation is withdrawn.
 *
 * Real: the shipped worker entry as separate OS processes (`node dist/activities/worker.js`, built by
 * `npm run build`; the first one killed with SIGKILL), the API in process (HTTP via supertest), Temporal dev server,
 * FerretDB, Asterisk 22 over ARI, espeak-ng, a sipp callee that walks the demo script to its transfer
 * (transfer-keys) and sipp agent phones behind PJSIP endpoints created at run time (agent-late-answer: rings 12 s;
 * agent-talk-8s, answer, no-answer). Nothing is faked.
 *
 * Judged from Asterisk (the callees' channels outlive the killed worker; the bridges of callee and agent leg; the
 * agent phones' channels), the queue workflow (the waiting call is still waiting after the kill and after the
 * adoption), the contact workflows' histories (the patch marker, adoptCall, the rings and their task queues), the API
 * (the calls' detail rows) and the call records in MongoDB (the adopted recordings, the notes).
 *
 * What the kill leaves, measured here: the callees' channels stay up in the dead worker's Stasis application, their
 * recordings still being written; the ringing agent leg answers into that application and Asterisk hangs it up. The
 * lost host is noticed by the heartbeat timeout (20 s) of its activity on each call — the watch of the waiting callee,
 * the ring of the other.
 *
 * Timing: the callees reach the transfer ~17 s after answering; adoption ~20 s after the kill; the second ring 12 s;
 * the agents talk 6 and 8 s. The drill takes about 75 s (67 s measured, 73 s with set-up); the connected drill
 * about 55 s (adopted 20 s after the kill: the heartbeat timeout of the wait for the call legs). sipp ports: 5950-5999.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import mongoose from 'mongoose';
import request from 'supertest';
import { createLogger } from '../../activities/logger';
import { readWavInfo } from '../../activities/telephony/wav';
import { closePorts, createApp, openPorts, type AppPorts } from '../../api/app.module';
import type { Config } from '../../config/config';
import { contactWorkflowId, queueWorkflowId } from '../../src/ids';
import { queueProgressQuery, type QueueProgress } from '../../workflows/definitions';
import { writeKeySequence } from '../support/dtmf-pcap';
import { servers, testConfig, uniqueName } from '../support/servers';
import { startCallee, stopCallees, type SippCallee } from '../support/sipp';
import { transferKit } from '../support/transfer-kit';
import { sleep, until } from '../support/wait';
import { assertWorkerBuilt, WorkerProcess } from '../support/worker-process';

const MANAGER = 'xfer-crash-manager-key-0123456';
const SUPERVISOR = 'xfer-crash-supervisor-key-0123';
const TENANT = uniqueName('tenant');
// SIP ports of this file: 5950-5999.
const CALLEE_PORT = 5950;
const TALKER_PORT = 5951;
const RINGER_PORT = 5952;
/** An agent phone that answers after 1 s and talks until hung up (the connected-phase drill). */
const STEADY_PORT = 5953;
const CONNECTED_CALLEE = '+8613600000953';
/** An agent phone that rings and never answers (the directed-ring drill). */
const DEAF_PORT = 5954;
const RINGING_CALLEE = '+8613600000954';
const CALLEES = ['+8613600000950', '+8613600000951', '+8613600000952'];

const dir = mkdtempSync(join(tmpdir(), 'waihu-xfer-crash-'));
const sipps: SippCallee[] = [];
const workers: WorkerProcess[] = [];
const kit = transferKit({
  app: () => app,
  config: () => config,
  tenant: TENANT,
  manager: MANAGER,
  supervisor: SUPERVISOR,
});
let config: Config;
let workerEnv: Record<string, string>;
let ports: AppPorts;
let app: INestApplication;
let temporal: { connection: Connection; client: Client } | undefined;
let callPrefix: string | undefined;

beforeAll(async () => {
  assertWorkerBuilt();
  writeKeySequence(dir, ['1', '9', '1']);
  sipps.push(await startCallee('transfer-keys', CALLEE_PORT, [], { cwd: dir }));
  sipps.push(await startCallee('agent-talk-8s', TALKER_PORT));
  sipps.push(await startCallee('agent-late-answer', RINGER_PORT));
  sipps.push(await startCallee('answer', STEADY_PORT));
  sipps.push(await startCallee('no-answer', DEAF_PORT));
  const taskQueue = uniqueName('xfercrash-');
  workerEnv = {
    MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName('waihu_xfercrash_')}`,
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_MEDIA_TASK_QUEUE: `${taskQueue}-media`,
    ARI_URL: servers.ariUrl,
    ARI_APP: uniqueName('xfercrashA'),
    TTS_CHROOT: servers.asteriskRoot,
    SIP_DEFAULT_TARGET: `127.0.0.1:${CALLEE_PORT}`,
    RING_TIMEOUT_SECONDS: '10',
    // The waiting callee must still be waiting when the second agent comes, a minute or so later.
    TRANSFER_QUEUE_TIMEOUT_SECONDS: '300',
    // Longer than the ringer's 12 s before it answers.
    AGENT_RING_SECONDS: '20',
    LOG_LEVEL: 'info',
  };
  config = testConfig({
    ...workerEnv,
    API_KEYS: `${MANAGER}:${TENANT}:manager,${SUPERVISOR}:${TENANT}:supervisor`,
  });
  ports = await openPorts(config, createLogger('warn', 'xfer-crash-api'));
  app = await createApp(ports);
  await app.init();
  const connection = await Connection.connect({ address: servers.temporalAddress });
  temporal = { connection, client: new Client({ connection, namespace: config.temporal.namespace }) };
}, 120_000);

afterAll(async () => {
  // Every process this file started goes, whatever happened; then no call of ours is left up in Asterisk.
  await Promise.all(workers.map((w) => w.kill9()));
  if (callPrefix) {
    for (const id of await channelIds().catch(() => [])) if (id.startsWith(callPrefix)) await hangupChannel(id);
  }
  stopCallees(sipps);
  await kit.close();
  await temporal?.connection.close();
  await app?.close();
  if (ports) {
    const db = await mongoose.createConnection(config.mongodbUri).asPromise();
    await db.dropDatabase();
    await db.close();
    await closePorts(ports);
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const http = () => request(app.getHttpServer());
type Row = Record<string, unknown>;

function ariAuth() {
  return { Authorization: `Basic ${Buffer.from(`${config.ari.username}:${config.ari.password}`).toString('base64')}` };
}

async function ari<T = Row>(path: string): Promise<T | undefined> {
  const res = await fetch(`${config.ari.url}/ari${path}`, { headers: ariAuth() });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /ari${path}: ${res.status}`);
  return (await res.json()) as T;
}

async function channelIds(): Promise<string[]> {
  return ((await ari<{ id: string }[]>('/channels')) ?? []).map((c) => c.id);
}

async function hangupChannel(channelId: string): Promise<void> {
  await fetch(`${config.ari.url}/ari/channels/${channelId}`, { method: 'DELETE', headers: ariAuth() });
}

function startWorker(name: string, env: Record<string, string> = {}): WorkerProcess {
  const w = WorkerProcess.start(name, { ...workerEnv, ...env });
  workers.push(w);
  return w;
}

/** On failure, what the workers said is the first thing to read. */
async function withWorkerLogs(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    for (const w of workers)
      console.error(
        `--- ${w.name} worker (its own log lines, without the SDK's) ---\n${w
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .slice(-60)
          .join('\n')}`,
      );
    throw err;
  }
}

/**
 * A contact workflow's history as the drills read it: the activities it scheduled (by name: task queue, input) and
 * the patches it recorded. With `fixture` and WAIHU_RECORD_HISTORIES=1 it is kept as a replay fixture of that name
 * (in WAIHU_HISTORIES_DIR, default test/fixtures/histories).
 */
async function contactHistory(taskId: string, index: number, fixture?: string) {
  const history = await temporal!.client.workflow.getHandle(contactWorkflowId(taskId, index)).fetchHistory();
  if (fixture && process.env.WAIHU_RECORD_HISTORIES === '1') {
    const fixtures = process.env.WAIHU_HISTORIES_DIR ?? join(__dirname, '..', 'fixtures', 'histories');
    writeFileSync(join(fixtures, fixture), historyToJSON(history));
  }
  const events = history.events ?? [];
  const scheduled = (name: string) =>
    events
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === name)
      .map((a) => ({
        queue: a!.taskQueue!.name!,
        input: JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString()) as Record<string, unknown>,
      }));
  const patches = events
    .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
    .map((p) => (JSON.parse(Buffer.from(p.data ?? []).toString()) as { id: string }).id);
  return { scheduled, patches };
}

/** The host queue of a worker process (the media task queue, then the process's own suffix with its pid). */
const hostOf = (w: WorkerProcess) => new RegExp(`^${workerEnv.TEMPORAL_MEDIA_TASK_QUEUE!}@.*-${w.pid}-`);

/**
 * Two fresh workers (earlier ones killed), each with an ARI application of its own, so that the callee's channel
 * says which one holds a call: `hostAndSurvivor` gives the holder and the other.
 */
async function workerPair(label: string) {
  for (const w of workers) if (w.running) await w.kill9();
  const apps = [uniqueName(`xfercrash${label}A`), uniqueName(`xfercrash${label}B`)];
  const pair = apps.map((app, i) => startWorker(`${label}-${i}`, { ARI_APP: app }));
  await Promise.all(pair.map((w) => w.ready()));
  return {
    async hostAndSurvivor(attemptId: string): Promise<[WorkerProcess, WorkerProcess]> {
      const channel = await ari<{ dialplan: { app_data: string } }>(`/channels/${attemptId}`);
      const hostIndex = apps.indexOf(channel!.dialplan.app_data);
      expect(hostIndex).toBeGreaterThanOrEqual(0);
      return [pair[hostIndex]!, pair[1 - hostIndex]!];
    },
  };
}

/** kill -9 the host, then wait for the survivor to say it adopted the call; seconds from the kill. */
async function killAndAwaitAdoption(host: WorkerProcess, survivor: WorkerProcess, said: RegExp): Promise<number> {
  await host.kill9();
  const killedAt = Date.now();
  await until(() => said.test(survivor.output()), `the other worker to say ${String(said)}`, 60_000, 250);
  return (Date.now() - killedAt) / 1000;
}

/** The supervisor hangs the call up; once the task has completed, its first detail row. */
async function hangUpAndDetail(attemptId: string, taskId: string): Promise<Row> {
  const hung = await http().post(`/calls/${attemptId}/hangup`).set(as(SUPERVISOR));
  expect(hung.status).toBe(200);
  await until(
    async () => (await http().get(`/tasks/${taskId}`).set(as(MANAGER))).body.status === 'COMPLETED',
    'the task to complete',
    30_000,
    500,
  );
  return ((await http().get(`/tasks/${taskId}/details`).set(as(MANAGER))).body.items as Row[])[0]!;
}

async function queueOf(group: string): Promise<QueueProgress> {
  return temporal!.client.workflow.getHandle(queueWorkflowId(TENANT, group)).query(queueProgressQuery);
}

describe('transfer crash drill: kill -9 the worker holding a queued callee and a ringing offer', () => {
  it(
    'a new worker adopts the calls: queued stays queued, ringing is rung again (both end connected), gone is abandoned',
    () =>
      withWorkerLogs(async () => {
        const t0 = Date.now();
        const first = startWorker('first');
        await first.ready();

        const group = await kit.skillGroup('crash');
        // The first agent (online from the start) has a phone that rings 12 s before it answers; the second comes
        // online only after the crash.
        const ringer = await kit.agent('ringer', group, RINGER_PORT);
        const talker = await kit.agent('talker', group, TALKER_PORT);
        await kit.online(ringer.id);
        const taskId = await kit.startTask('转人工_宕机演练', group, CALLEES);
        callPrefix = `${taskId}-`;

        // --- both callees transferred: one offered to the ringer (its phone ringing), the other waiting ---
        const queued = await until(
          async () => {
            const q = await queueOf(group).catch(() => undefined);
            const offered = q?.waiting.find((w) => w.offeredTo === ringer.id);
            const [waiting, leaving] = q?.waiting.filter((w) => !w.offeredTo) ?? [];
            return offered && waiting && leaving && ringer.phone.active > 0
              ? { ringing: offered.callId, waiting: waiting.callId, leaving: leaving.callId }
              : undefined;
          },
          'one callee offered to the ringing agent and the two others waiting',
          60_000,
          250,
        );
        const { ringing, waiting, leaving } = queued;
        for (const id of [ringing, waiting, leaving])
          expect(await ari(`/channels/${id}`)).toMatchObject({
            state: 'Up',
            dialplan: { app_data: workerEnv.ARI_APP },
          });

        await first.kill9();
        const killedAt = Date.now();

        // Asterisk keeps the callees' channels (their Stasis application has no websocket now). One callee hangs up
        // while no worker holds its call (a DELETE from ARI here: Asterisk hangs the channel up).
        await sleep(1_000);
        for (const id of [ringing, waiting, leaving])
          expect(await ari(`/channels/${id}`)).toMatchObject({ state: 'Up' });
        await hangupChannel(leaving);

        // --- a new worker process, with an ARI application of its own, adopts both calls ---
        const second = startWorker('second', { ARI_APP: uniqueName('xfercrashB') });
        await second.ready();
        const restartedAt = Date.now();
        // The queue (its workflow now on the new worker) still has both calls, the one offered to the ringer included.
        const after = await until(() => queueOf(group).catch(() => undefined), 'the queue', 30_000);
        expect(after.waiting.map((w) => w.callId).sort()).toEqual([ringing, waiting, leaving].sort());
        await until(
          () =>
            second.output().match(/adopted the transferred call of a lost host/g)?.length === 2 &&
            /the transferred call of a lost host is gone/.test(second.output()),
          'the new worker to adopt two calls and find the third gone',
          60_000,
          250,
        );
        const adoptedAt = Date.now();
        // The one that hung up has left the queue (abandoned), before the second agent comes.
        await until(
          async () => !(await queueOf(group)).waiting.some((w) => w.callId === leaving),
          'the gone callee to leave the queue',
          10_000,
          100,
        );
        expect((await queueOf(group)).waiting.map((w) => w.callId)).toContain(waiting);

        // --- the second agent comes online for the waiting callee; the ringer answers its second ring ---
        expect(
          (await http().put(`/agents/${talker.id}/state`).set(as(SUPERVISOR)).send({ state: 'ONLINE' })).status,
        ).toBe(200);
        const onlineAt = Date.now();
        const bridged = async (callId: string, legs: RegExp) => {
          const b = await until(
            async () => {
              // Whatever the bridge is called: the one that holds the callee's channel and one other.
              const all = (await ari<{ id: string; channels: string[] }[]>('/bridges')) ?? [];
              return all.find((br) => br.channels.includes(callId) && br.channels.length === 2);
            },
            `${callId} to be bridged with its agent`,
            45_000,
            250,
          );
          expect(b.channels).toContain(callId);
          expect(b.channels.find((c) => c !== callId)).toMatch(legs);
          return Date.now();
        };
        const [waitingBridgedAt, ringingBridgedAt] = await Promise.all([
          bridged(waiting, new RegExp(`^${waiting}-agent\\d+$`)),
          // The lost host rang leg 1; the adopter rings leg 2.
          bridged(ringing, new RegExp(`^${ringing}-agent2$`)),
        ]);

        await until(
          async () => (await http().get(`/tasks/${taskId}`).set(as(MANAGER))).body.status === 'COMPLETED',
          'the task to complete',
          60_000,
          1_000,
        );
        const completedAt = Date.now();

        // --- the call records: connected with the agents, not 呼损 ---
        const rows = (await http().get(`/tasks/${taskId}/details`).set(as(MANAGER))).body.items as Row[];
        const rowOf = (id: string) => rows.find((r) => r.attemptId === id);
        expect(rowOf(waiting)).toMatchObject({
          resultLabel: '呼叫成功',
          transfer: 'connected',
          agentId: talker.id,
          hangupBy: 'AGENT',
        });
        expect(rowOf(ringing)).toMatchObject({
          resultLabel: '呼叫成功',
          transfer: 'connected',
          agentId: ringer.id,
          hangupBy: 'AGENT',
        });
        // The callee who hung up while nobody held the call: abandoned in the queue, ended by the callee — not 呼损.
        expect(rowOf(leaving)).toMatchObject({ resultLabel: '呼叫成功', transfer: 'abandoned', hangupBy: 'USER' });
        expect(rowOf(leaving)!.agentId).toBeUndefined();
        const conn = await mongoose.createConnection(config.mongodbUri).asPromise();
        const records = (await conn
          .collection('calls')
          .find({ _id: { $in: [waiting, ringing, leaving] as never[] } })
          .toArray()) as unknown as Row[];
        await conn.close();
        expect(records).toHaveLength(3);
        expect(records.find((r) => r._id === leaving)).toMatchObject({ state: 'final', code: 'SUCCESS' });
        expect(records.find((r) => r._id === leaving)?.note).toMatch(/gone when a worker came to adopt it/);
        for (const r of records.filter((x) => x._id !== leaving)) {
          expect(r).toMatchObject({ state: 'final', code: 'SUCCESS', recording: { name: r._id } });
          expect(r.note).toMatch(/taken over from a lost host/);
        }
        // The ringer's phone rang twice (the lost host's ring, answered into a dead application, and the adopter's);
        // the talker's once. The ringer answered: after-call work, not a missed call's short break.
        expect({ ringer: ringer.phone.total, talker: talker.phone.total }).toEqual({ ringer: 2, talker: 1 });
        expect((await http().get(`/agents/${ringer.id}/state`).set(as(SUPERVISOR))).body).toMatchObject({
          state: 'AFTER_CALL_WORK',
        });
        expect((await channelIds()).filter((id) => id.startsWith(callPrefix!))).toEqual([]);

        // The recordings Asterisk kept writing through the crash were stored by the new worker.
        const seconds: Record<string, number> = {};
        for (const id of [waiting, ringing]) {
          const rec = await http()
            .get(`/calls/${id}/recording`)
            .set(as(MANAGER))
            .buffer(true)
            .parse((res, done) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => done(null, Buffer.concat(chunks)));
            });
          expect(rec.status).toBe(200);
          seconds[id] = readWavInfo(rec.body as Buffer).durationSeconds;
          expect(seconds[id]).toBeGreaterThan(5);
        }

        // --- every decision in the calls' histories: the patch, the adoption and its answer, the rings ---
        const historyOf = async (id: string) => {
          const h = await contactHistory(taskId, Number(id.slice(callPrefix!.length).split('-')[0]));
          return { adoptions: h.scheduled('adoptCall'), rings: h.scheduled('ringAgent'), patches: h.patches };
        };
        const media = workerEnv.TEMPORAL_MEDIA_TASK_QUEUE!;
        const w = await historyOf(waiting);
        expect(w.patches).toContain('transfer-adoption');
        expect(w.adoptions.map((a) => [a.queue, a.input.hangUp])).toEqual([[media, []]]);
        expect(w.rings.map((r) => r.queue)).toEqual([expect.stringMatching(hostOf(second))]);
        const r = await historyOf(ringing);
        expect(r.patches).toContain('transfer-adoption');
        expect(r.adoptions.map((a) => [a.queue, a.input.hangUp])).toEqual([[media, [`${ringing}-agent1`]]]);
        expect(r.rings.map((x) => [x.queue, x.input.n])).toEqual([
          [expect.stringMatching(hostOf(first)), 1],
          [expect.stringMatching(hostOf(second)), 2],
        ]);

        const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        console.log(
          [
            `transfer crash drill: waiting ${waiting}, ringing ${ringing}, hung up while no worker held it ${leaving}`,
            `killed at ${s(killedAt - t0)}; second worker ready ${s(restartedAt - killedAt)} after the kill`,
            `adopted ${s(adoptedAt - killedAt)} after the kill; talker online then, bridged ${s(waitingBridgedAt - onlineAt)} later;`,
            `  the ringer's second ring bridged ${s(ringingBridgedAt - adoptedAt)} after the adoptions`,
            `completed at ${s(completedAt - t0)}; recordings ${Object.values(seconds)
              .map((x) => x.toFixed(1))
              .join(' s, ')} s`,
          ].join('\n'),
        );
      }),
    180_000,
  );
  it(
    'connected: a new worker adopts the callee and the agent’s leg, bridges them again, and the controls go on',
    () =>
      withWorkerLogs(async () => {
        // Two workers from the start (the drill's are done with): whichever holds the call is killed, the other
        // adopts it.
        const pair = await workerPair('connected');
        const group = await kit.skillGroup('crash_connected');
        const steady = await kit.agent('steady', group, STEADY_PORT);
        await kit.online(steady.id);
        const taskId = await kit.startTask('转人工_通话中宕机', group, [CONNECTED_CALLEE]);
        callPrefix = `${taskId}-`;
        const attemptId = `${taskId}-0-1`;
        const leg = `${attemptId}-agent1`;
        const control = async () => (await http().get(`/calls/${attemptId}/control`).set(as(SUPERVISOR))).body as Row;
        /** The bridge holding the callee's channel, with its channels. */
        const bridgeOfCallee = async () =>
          ((await ari<{ id: string; channels: string[] }[]>('/bridges')) ?? []).find((b) =>
            b.channels.includes(attemptId),
          );

        // --- connected with the agent: bridged, talking ---
        await until(async () => (await control()).phase === 'talking', 'the call to be connected', 60_000, 250);
        const before = await until(bridgeOfCallee, 'the callee bridged with the agent', 10_000, 100);
        expect(before.channels.sort()).toEqual([attemptId, leg].sort());
        const [host, survivor] = await pair.hostAndSurvivor(attemptId);

        const adoptedAfter = await killAndAwaitAdoption(host, survivor, /adopted the connected call of a lost host/);
        // Both legs are up and bridged together again (the lost host's bridge, or a new one).
        const after = await until(
          async () => {
            const b = await bridgeOfCallee();
            return b && b.channels.length === 2 ? b : undefined;
          },
          'the callee and the agent bridged after the adoption',
          10_000,
          100,
        );
        expect(after.channels.sort()).toEqual([attemptId, leg].sort());
        for (const id of [attemptId, leg]) expect(await ari(`/channels/${id}`)).toMatchObject({ state: 'Up' });
        expect(await control()).toMatchObject({ phase: 'talking', agentId: steady.id });

        // The loop goes on on the adopter: hold (the callee leaves the bridge), resume, then hang up.
        const held = await http().post(`/calls/${attemptId}/hold`).set(as(SUPERVISOR));
        expect(held.status).toBe(200);
        expect(held.body).toMatchObject({ phase: 'held' });
        expect((await bridgeOfCallee())?.channels ?? []).toEqual([]);
        const resumed = await http().post(`/calls/${attemptId}/resume`).set(as(SUPERVISOR));
        expect(resumed.status).toBe(200);
        expect((await bridgeOfCallee())?.channels.sort()).toEqual([attemptId, leg].sort());
        expect(await hangUpAndDetail(attemptId, taskId)).toMatchObject({
          attemptId,
          resultLabel: '呼叫成功',
          transfer: 'connected',
          agentId: steady.id,
          hangupBy: 'AGENT',
        });
        const conn = await mongoose.createConnection(config.mongodbUri).asPromise();
        const record = (await conn.collection('calls').findOne({ _id: attemptId as never })) as Row | null;
        await conn.close();
        expect(record).toMatchObject({ state: 'final', code: 'SUCCESS', recording: { name: attemptId } });
        expect(record?.note).toMatch(/taken over from a lost host while connected/);
        expect(steady.phone.total).toBe(1);
        expect((await channelIds()).filter((id) => id.startsWith(callPrefix!))).toEqual([]);
        // The adopter took the kept bridge down at the end: none of the call's is left.
        const bridges = (await ari<{ id: string }[]>('/bridges')) ?? [];
        expect(bridges.filter((b) => b.id.startsWith(attemptId))).toEqual([]);
        expect((await http().get(`/agents/${steady.id}/state`).set(as(SUPERVISOR))).body).toMatchObject({
          state: 'AFTER_CALL_WORK',
        });

        // The history: the patch, the adoption with the agent's leg, the controls on the survivor's host queue.
        const { scheduled, patches } = await contactHistory(taskId, 0);
        expect(patches).toEqual(expect.arrayContaining(['transfer-adoption', 'call-controls', 'connected-adoption']));
        expect(scheduled('adoptCall').map((a) => a.input.party)).toEqual([
          { channelId: leg, agentId: steady.id, mode: 'talk' },
        ]);
        expect(scheduled('hangUpCall').map((a) => a.queue)).toEqual([expect.stringMatching(hostOf(survivor))]);
        console.log(
          `connected crash drill: ${attemptId} adopted ${adoptedAfter.toFixed(1)} s after the kill ` +
            `(bridge ${after.id === before.id ? 'kept' : 'new'}: ${after.id})`,
        );
      }),
    180_000,
  );
  it(
    'a directed transfer ringing when the host dies: the callee is adopted and goes back to the skill group’s queue',
    () =>
      withWorkerLogs(async () => {
        const pair = await workerPair('ring');
        const group = await kit.skillGroup('crash_ring');
        const first = await kit.agent('ring_first', group, STEADY_PORT);
        // The target of the directed transfer: another group, so the queue never offers it the call afterwards.
        const deaf = await kit.agent('ring_deaf', await kit.skillGroup('crash_ring_deaf'), DEAF_PORT);
        await kit.online(first.id);
        const taskId = await kit.startTask('转人工_转接振铃中宕机', group, [RINGING_CALLEE]);
        callPrefix = `${taskId}-`;
        const attemptId = `${taskId}-0-1`;
        const control = async () => (await http().get(`/calls/${attemptId}/control`).set(as(SUPERVISOR))).body as Row;
        await until(async () => (await control()).phase === 'talking', 'the call to be connected', 60_000, 250);
        // Only now the queue's next agent and the transfer's target are online (the first transfer went to `first`).
        const third = await kit.agent('ring_third', group, STEADY_PORT);
        await kit.online(third.id);
        await kit.online(deaf.id);
        const [host, survivor] = await pair.hostAndSurvivor(attemptId);

        // The supervisor transfers to the deaf agent; while its phone rings, the host is killed.
        const moved = await http().post(`/calls/${attemptId}/transfer`).set(as(SUPERVISOR)).send({ agentId: deaf.id });
        expect(moved.status).toBe(200);
        const ringing = `${attemptId}-agent2`;
        await until(async () => (await ari(`/channels/${ringing}`)) !== undefined, 'the deaf agent’s phone to ring');
        const adoptedAfter = await killAndAwaitAdoption(host, survivor, /adopted the transferred call of a lost host/);
        // Back in the group's queue: an agent of the group answers on the survivor and has the call.
        const talking = await until(
          async () => {
            const c = await control();
            return c.phase === 'talking' ? c : undefined;
          },
          'an agent of the group to take the call after the adoption',
          60_000,
          250,
        );
        expect([first.id, third.id]).toContain(talking.agentId);
        expect(await ari(`/channels/${ringing}`)).toBeUndefined();
        expect(deaf.phone.total).toBe(1);
        expect(await hangUpAndDetail(attemptId, taskId)).toMatchObject({
          attemptId,
          resultLabel: '呼叫成功',
          transfer: 'connected',
          agentId: talking.agentId,
          hangupBy: 'AGENT',
          handovers: [
            { fromAgentId: first.id, to: 'agent', agentId: deaf.id, by: 'supervisor', result: 'failed' },
            { to: 'skillGroup', skillGroupId: group, agentId: talking.agentId, by: 'system', result: 'connected' },
          ],
        });
        // The deaf agent's reservation was withdrawn: it is idle again, not on a break for a missed call.
        expect(await kit.stateOf(deaf.id)).toMatchObject({ state: 'ONLINE', reservation: null });
        expect((await channelIds()).filter((id) => id.startsWith(callPrefix!))).toEqual([]);

        // The history: the patch, the adoption that hung up the ringing leg, the next ring on the survivor's queue.
        // Kept as a replay fixture with WAIHU_RECORD_HISTORIES=1.
        const { scheduled, patches } = await contactHistory(taskId, 0, 'transfer-crash-directed-ring-contact-0.json');
        expect(patches).toEqual(expect.arrayContaining(['call-controls', 'command-adoption']));
        expect(scheduled('adoptCall').map((a) => a.input.hangUp)).toEqual([[ringing]]);
        expect(scheduled('ringAgent').map((a) => a.queue)).toEqual([
          expect.stringMatching(hostOf(host)),
          expect.stringMatching(hostOf(host)),
          expect.stringMatching(hostOf(survivor)),
        ]);
        console.log(
          `directed-ring crash drill: ${attemptId} adopted ${adoptedAfter.toFixed(1)} s after the ` +
            `kill, then taken by ${String(talking.agentId)}`,
        );
      }),
    180_000,
  );
});
