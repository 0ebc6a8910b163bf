/**
 * The crash drill of issue #4: `kill -9` the worker mid-campaign, start a new one, and the campaign still completes
 * with every contact dialled exactly as often as its retry policy allows, and no attempt reaching the phone network
 * twice.
 *
 * Real: the shipped worker entry as a separate OS process (`node dist/activities/worker.js`, built by
 * `npm run build`), killed with SIGKILL while calls are up; the API in process (HTTP via supertest); Temporal dev
 * server; FerretDB; Asterisk over ARI; espeak-ng; two sipp callees (one answers, one is busy) that log every SIP
 * message they receive. Nothing is faked.
 *
 * Judged from three sides that do not trust each other: the API (status, ListTaskDetail), Asterisk (a TrunkObserver
 * of the test's own counts the channels created under each attempt id, which is also the channel id) and sipp
 * (INVITE dialogs, i.e. distinct Call-IDs, per dialled number). The call records in MongoDB say how the in-flight
 * attempts were recovered.
 *
 * What the crash leaves behind, and how the new worker recovers it (the dial activity's heartbeat timeout is 20 s,
 * so about 20 s after the kill): an answered call stays up in Asterisk (its Stasis app has no websocket) and the new
 * worker adopts the channel and hangs up (呼叫成功, note "taken over from a lost execution"); a call still ringing is
 * gone by the time the new worker looks (the callee answered into a Stasis app with no websocket), so it finds the
 * claim without a channel (呼损, note "claimed by a lost execution"), which this task's policy redials under a new
 * attempt id. Neither is ever dialled again under its own id.
 *
 * Timing: a call is about 1 s of ringing plus a ~6 s prompt; the redials (busy contacts, lost attempts) wait the
 * minimum interval of 1 minute. The drill takes about 95 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import mongoose from 'mongoose';
import request from 'supertest';
import { createLogger } from '../../activities/logger';
import { closePorts, createApp, openPorts, type AppPorts } from '../../api/app.module';
import type { Config } from '../../config/config';
import { attemptId } from '../../src/ids';
import { TrunkObserver } from '../support/asterisk';
import { zoneWhereOpenNow } from '../support/calendar';
import { servers, testConfig, uniqueName } from '../support/servers';
import { sleep, until } from '../support/wait';
import { stopCallees } from '../support/sipp';
import { dialogsByNumber, receivedInvites, startTracedCallee, type TracedCallee } from '../support/sipp-trace';
import { assertWorkerBuilt, WorkerProcess } from '../support/worker-process';

const KEY = 'crash-drill-manager-key-0123456789';
// SIP ports of this file: 5400-5499.
const ANSWER_PORT = 5411;
const BUSY_PORT = 5412;
const ANSWER_PREFIX = '+86139';
const BUSY_PREFIX = '+86137';
const RETRY = { reasons: ['BUSY', 'CALL_LOSS'], maxRetries: 1, intervalMinutes: 1 };
/** Contacts 0 and 2 (early, so their redial is not the last thing to wait for) reach the busy callee; the other ten answer. */
const BUSY_INDEXES = new Set([0, 2]);
const CONTACTS = Array.from({ length: 12 }, (_, i) =>
  BUSY_INDEXES.has(i)
    ? `${BUSY_PREFIX}0000${String(i).padStart(4, '0')}`
    : `${ANSWER_PREFIX}0000${String(i).padStart(4, '0')}`,
);
// Long enough (about 6 s of espeak-ng, at 0.26 s a character) that the kill finds answered calls with the robot
// still talking.
const PROMPT = '您好，这里是外呼系统的故障演练，请听完，再见。';

const dir = mkdtempSync(join(tmpdir(), 'waihu-crash-'));
const callees: TracedCallee[] = [];
const workers: WorkerProcess[] = [];
let config: Config;
let workerEnv: Record<string, string>;
let trunk: TrunkObserver;
let ports: AppPorts;
let app: INestApplication;
let taskId: string | undefined;

beforeAll(async () => {
  assertWorkerBuilt();
  callees.push(await startTracedCallee('answer', ANSWER_PORT, dir));
  callees.push(await startTracedCallee('busy', BUSY_PORT, dir));
  const taskQueue = uniqueName('crash-');
  workerEnv = {
    MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName('waihu_crash_')}`,
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_MEDIA_TASK_QUEUE: `${taskQueue}-media`,
    ARI_URL: servers.ariUrl,
    ARI_APP: uniqueName('crash'),
    TTS_CHROOT: servers.asteriskRoot,
    SIP_DEFAULT_TARGET: `127.0.0.1:${ANSWER_PORT}`,
    SIP_ROUTES: `${BUSY_PREFIX}=127.0.0.1:${BUSY_PORT}`,
    RING_TIMEOUT_SECONDS: '8',
    LOG_LEVEL: 'info',
  };
  config = testConfig({ ...workerEnv, API_KEYS: `${KEY}:${uniqueName('tenant')}:manager|supervisor` });
  trunk = await TrunkObserver.start(config.ari, uniqueName('crash-observer'));
  ports = await openPorts(config, createLogger('warn', 'crash-api'));
  app = await createApp(ports);
  await app.init();
}, 120_000);

afterAll(async () => {
  // Every process this file started goes, whatever happened; then no call of ours is left up in Asterisk.
  await Promise.all(workers.map((w) => w.kill9()));
  if (taskId) for (const ch of await ourChannels(taskId).catch(() => [])) await hangupChannel(ch.id);
  stopCallees(callees);
  trunk?.close();
  await app?.close();
  if (ports) await closePorts(ports);
  if (ports) {
    const db = await mongoose.createConnection(config.mongodbUri).asPromise();
    await db.dropDatabase();
    await db.close();
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const auth = { Authorization: `Bearer ${KEY}` };
const api = () => request(app.getHttpServer());

/** Asterisk's channels of this task right now (attempt ids start with the task id), read over ARI's REST API. */
async function ourChannels(id: string): Promise<{ id: string; state: string }[]> {
  const res = await fetch(`${config.ari.url}/ari/channels`, { headers: ariAuth() });
  if (!res.ok) throw new Error(`GET /ari/channels: ${res.status}`);
  const channels = (await res.json()) as { id: string; state: string }[];
  return channels.filter((c) => c.id.startsWith(`${id}-`)).map(({ id: cid, state }) => ({ id: cid, state }));
}

async function hangupChannel(channelId: string): Promise<void> {
  await fetch(`${config.ari.url}/ari/channels/${channelId}`, { method: 'DELETE', headers: ariAuth() });
}

function ariAuth() {
  return { Authorization: `Basic ${Buffer.from(`${config.ari.username}:${config.ari.password}`).toString('base64')}` };
}

function startWorker(name: string): WorkerProcess {
  const w = WorkerProcess.start(name, workerEnv);
  workers.push(w);
  return w;
}

interface CallDoc {
  _id: string;
  contactIndex: number;
  attempt: number;
  state: string;
  code?: string;
  note?: string;
  hangupBy?: string;
}

interface DetailRow {
  index: number;
  phone: string;
  attempts: number;
  result?: string;
  skipped?: string;
}

const count = (w: WorkerProcess, re: RegExp) =>
  w
    .output()
    .split('\n')
    .filter((l) => re.test(l)).length;

/** On failure, what the workers said is the first thing to read. */
async function withWorkerLogs(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    for (const w of workers)
      console.error(`--- ${w.name} worker (last 60 lines) ---\n${w.output().split('\n').slice(-60).join('\n')}`);
    throw err;
  }
}

describe('crash drill: kill -9 the worker mid-campaign', () => {
  it(
    'completes after a restart, with exactly the attempts the policy allows and no attempt reaching sipp twice',
    () =>
      withWorkerLogs(async () => {
        const t0 = Date.now();
        const first = startWorker('first');
        await first.ready();

        const csv = ['phone', ...CONTACTS].join('\n');
        const created = await api()
          .post('/tasks')
          .set(auth)
          .field(
            'definition',
            JSON.stringify({
              name: 'crash_drill',
              workingDays: [1, 2, 3, 4, 5, 6, 7],
              workingWindows: [{ start: '00:00', end: '23:59' }],
              timezone: zoneWhereOpenNow(10),
              aiSeats: 3,
              retry: RETRY,
              prompt: PROMPT,
            }),
          )
          .attach('file', Buffer.from(csv, 'utf8'), 'list.csv');
        expect(created.status).toBe(201);
        const id = created.body.id as string;
        taskId = id;
        const everyAttemptId = CONTACTS.flatMap((_, i) =>
          Array.from({ length: RETRY.maxRetries + 1 }, (__, n) => attemptId(id, i, n + 1)),
        );
        // Every channel of this task on the trunk, whatever its attempt number (Asterisk is shared with other tests).
        const channelsOfTask = () => trunk.scope(`${id}-`).total;

        // Crash when the campaign is in its stride (some calls finished) with an answered call up, and preferably a
        // second one still ringing: the two recoveries differ (see the file's header). After 20 s any call up will do.
        const strideAt = await until(() => (channelsOfTask() >= 4 ? Date.now() : undefined), 'the first calls', 90_000);
        const inFlight = await until(
          async () => {
            // The calls themselves (`<taskId>-<contact>-<attempt>`), not their recordings' snoop channels.
            const chans = (await ourChannels(id)).filter((c) => /^\d+-\d+$/.test(c.id.slice(id.length + 1)));
            if (!chans.some((c) => c.state === 'Up')) return undefined;
            return chans.some((c) => c.state !== 'Up') || Date.now() - strideAt > 20_000 ? chans : undefined;
          },
          'an answered call to be up',
          60_000,
        );
        await first.kill9();
        const killedAt = Date.now();
        const dialledBeforeKill = channelsOfTask();

        // Dead worker: nothing can dial. Then a new process with the same configuration takes over.
        await sleep(3_000);
        const second = startWorker('second');
        await second.ready();
        const restartedAt = Date.now();

        const final = await until(
          async () => {
            const task = (await api().get(`/tasks/${id}`).set(auth)).body as { status: string };
            return task.status === 'COMPLETED' ? task : undefined;
          },
          'the task to complete',
          150_000,
        );
        const completedAt = Date.now();
        expect(final.status).toBe('COMPLETED');

        // --- the API: every contact final, with the attempts its policy allows ---
        const details = (await api().get(`/tasks/${id}/details?pageSize=50`).set(auth)).body as { items: DetailRow[] };
        expect(details.items).toHaveLength(CONTACTS.length);
        const conn = await mongoose.createConnection(config.mongodbUri).asPromise();
        const calls = (await conn
          .collection('calls')
          .find({ taskId: id })
          .sort({ contactIndex: 1, attempt: 1 })
          .toArray()) as unknown as CallDoc[];
        await conn.close();
        for (const row of details.items) {
          const mine = calls.filter((c) => c.contactIndex === row.index);
          expect({
            index: row.index,
            skipped: row.skipped,
            everyCallFinal: mine.every((c) => c.state === 'final'),
          }).toEqual({
            index: row.index,
            skipped: undefined,
            everyCallFinal: true,
          });
          expect(row.result).toBeDefined();
          // The policy, attempt by attempt: redialled only after a selected failure, at most maxRetries times.
          expect(mine.map((c) => c.attempt)).toEqual(Array.from({ length: mine.length }, (_, n) => n + 1));
          expect(row.attempts).toBe(mine.length);
          mine.slice(0, -1).forEach((c) => expect(RETRY.reasons).toContain(c.code));
          const last = mine[mine.length - 1]!;
          if (last.attempt <= RETRY.maxRetries) expect(RETRY.reasons).not.toContain(last.code);
          expect(row.result).toBe(last.code);
          if (BUSY_INDEXES.has(row.index)) {
            // Busy every time: dialled once and redialled once.
            expect({ index: row.index, attempts: row.attempts, result: row.result }).toEqual({
              index: row.index,
              attempts: 2,
              result: 'BUSY',
            });
          } else {
            // Answered, possibly after one redial of an attempt the crash lost before the callee answered.
            expect({ index: row.index, result: row.result }).toEqual({ index: row.index, result: 'SUCCESS' });
            expect(row.attempts).toBe(1 + mine.filter((c) => c.code === 'CALL_LOSS').length);
          }
        }

        // --- Asterisk and sipp, side by side: one channel and one INVITE dialog per attempt, nothing left up ---
        // Asterisk counts channels per attempt id (the channel id); sipp counts INVITE dialogs (distinct Call-IDs)
        // per dialled number, which must equal that contact's attempts. A re-originated attempt shows on both.
        const invites = callees.flatMap((c) => receivedInvites(c.messageFile));
        const dialogs = dialogsByNumber(invites);
        const distinctCallIds = new Set(invites.map((i) => i.callId)).size;
        const attemptsOf = (i: number) => details.items.find((r) => r.index === i)?.attempts;
        expect({
          asteriskChannelsPerAttempt: Object.fromEntries(
            everyAttemptId.map((a) => [a, trunk.channelsCreated(a)]).filter(([, n]) => n !== 0),
          ),
          asteriskChannelsOfTask: channelsOfTask(),
          sippDialogsPerNumber: Object.fromEntries(CONTACTS.map((p) => [p, dialogs.get(p.slice(1))?.size ?? 0])),
          sippDialogs: distinctCallIds,
          sippNumbersDialled: dialogs.size,
        }).toEqual({
          asteriskChannelsPerAttempt: Object.fromEntries(calls.map((c) => [c._id, 1])),
          asteriskChannelsOfTask: calls.length,
          sippDialogsPerNumber: Object.fromEntries(CONTACTS.map((p, i) => [p, attemptsOf(i)])),
          sippDialogs: calls.length,
          sippNumbersDialled: CONTACTS.length,
        });
        expect(trunk.scope(`${id}-`).active).toBe(0);
        expect(await ourChannels(id)).toEqual([]);

        // --- the crash itself: the calls in flight were recovered by the new worker, never redialled ---
        const recovered = inFlight.map((ch) => calls.find((c) => c._id === ch.id));
        expect(recovered.every((c) => c?.state === 'final')).toBe(true);
        expect(recovered.some((c) => /lost execution/.test(c?.note ?? ''))).toBe(true);

        const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        console.log(
          [
            `crash drill: ${CONTACTS.length} contacts, ${calls.length} attempts, ${invites.length} INVITE messages in ${distinctCallIds} dialogs at sipp`,
            `killed at ${s(killedAt - t0)} with ${dialledBeforeKill} attempts dialled; in flight: ${inFlight.map((c) => `${c.id} (${c.state})`).join(', ')}`,
            `restarted at ${s(restartedAt - t0)}, completed at ${s(completedAt - t0)}`,
            ...calls
              .filter((c) => c.note || inFlight.some((ch) => ch.id === c._id))
              .map((c) => `  ${c._id}: ${c.code} by ${c.hangupBy}${c.note ? ` — ${c.note}` : ''}`),
            ...workers.map(
              (w) =>
                `${w.name} worker: ${count(w, /taking over the live channel/)} live channels taken over, ` +
                `${count(w, /its channel is gone/)} claimed attempts found without a channel`,
            ),
          ].join('\n'),
        );
      }),
    240_000,
  );
});
