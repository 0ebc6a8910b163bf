/**
 * Campaign benchmark (issue #4): one task's campaign of N contacts with S AI seats, run by the real campaignWorkflow
 * and contactCallWorkflow on real SDK workers against the Temporal dev server, with **benchmark doubles** for every
 * activity (named `bench…`, typed by the real factories so they cannot drift): an instant-answer telephony double
 * (every call 呼叫成功, answered and ended after `holdMs`, default 0), in-memory contact pages and no-op recording.
 * In the same run, against the same server, a **baseline**: the server's bare workflow-start throughput — B trivial
 * workflows (one workflow task each) started by the client with at most S in flight, on the same worker setup.
 * Each phase runs its workers in a child process of its own, so each peak RSS (getrusage maxrss) is that phase's
 * worker alone; the client (starts, progress sampling) stays in this process.
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/bench/campaign.js [contacts=10000] [seats=200] [baseline=contacts] [holdMs=0]
 *
 * TEMPORAL_BENCH_ADDRESS (default 127.0.0.1:7233) — the dev server of `bash scripts/temporal.sh start`. A full run
 * (10,000 contacts and 10,000 bare workflows: ~30,000 workflows kept in the dev server's memory) is better pointed at
 * a private instance of the same server, e.g. `temporal server start-dev --ip 127.0.0.1 --port 7236 --headless`, when
 * others share the default one (BENCHMARKS.md: that is how the 10,000-contact row was measured).
 * Not part of the test suite.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { createCampaignActivities } from '../activities/campaign-activities';
import type { createMediaActivities } from '../activities/media-activities';
import { PAGE_SIZE } from '../api/lists/list-import.service';
import { CALL_RESULT_LABELS } from '../src/call-result';
import type { CampaignProgress, CampaignTask, ContactRef } from '../workflows/definitions';

// eslint-disable-next-line no-restricted-syntax -- a stand-alone tool outside the service, not its configuration
const ADDRESS = process.env.TEMPORAL_BENCH_ADDRESS ?? '127.0.0.1:7233';
const SAMPLE_MS = 150;

interface WorkerStats {
  maxRssMb: number;
  /** Calls placed on the telephony double. */
  calls: number;
  /** Time integral of calls in progress on the double (call-ms), for its own time-averaged concurrency. */
  callMs: number;
  peakCalls: number;
}

/** Benchmark doubles over a generated in-memory list: the contact at index i is +8613900000000 + i. */
function benchActivities(total: number, holdMs: number, stats: WorkerStats) {
  let inCall = 0;
  let lastChange = performance.now();
  const account = (delta: number) => {
    const now = performance.now();
    stats.callMs += inCall * (now - lastChange);
    lastChange = now;
    inCall += delta;
    stats.peakCalls = Math.max(stats.peakCalls, inCall);
  };
  const benchCampaignActivities: ReturnType<typeof createCampaignActivities> = {
    loadContactPage: (_tenant, _task, page) => {
      const contacts: ContactRef[] = [];
      for (let i = page * PAGE_SIZE; i < Math.min(total, (page + 1) * PAGE_SIZE); i++) {
        contacts.push({ index: i, phone: `+86${13900000000 + i}`, variables: {} });
      }
      return Promise.resolve(contacts);
    },
    setTaskStatus: () => Promise.resolve(),
    finishTask: () => Promise.resolve(),
    recordAttempt: () => Promise.resolve(),
    recordSkipped: () => Promise.resolve(),
  };
  const benchInstantAnswerPlaceCall: ReturnType<typeof createMediaActivities>['placeCall'] = async (input) => {
    stats.calls++;
    account(+1);
    const startedAt = new Date().toISOString();
    if (holdMs > 0) await new Promise((r) => setTimeout(r, holdMs));
    account(-1);
    const endedAt = new Date().toISOString();
    return {
      kind: 'completed',
      outcome: {
        attemptId: input.attemptId,
        attempt: input.attempt,
        code: 'SUCCESS',
        label: CALL_RESULT_LABELS.SUCCESS,
        hangupBy: 'ROBOT',
        startedAt,
        answeredAt: startedAt,
        endedAt,
        ringSeconds: 0,
        talkSeconds: holdMs / 1000,
        dtmf: [],
      },
    };
  };
  const benchMediaActivities: Pick<ReturnType<typeof createMediaActivities>, 'placeCall'> = {
    placeCall: benchInstantAnswerPlaceCall,
  };
  return { benchCampaignActivities, benchMediaActivities };
}

/** Child process: the workers (same layout as activities/worker-setup.ts: a campaign queue and a media queue). */
async function runWorkers(taskQueue: string, total: number, holdMs: number): Promise<void> {
  Runtime.install({ logger: new (await import('@temporalio/worker')).DefaultLogger('WARN') });
  const stats: WorkerStats = { maxRssMb: 0, calls: 0, callMs: 0, peakCalls: 0 };
  const { benchCampaignActivities, benchMediaActivities } = benchActivities(total, holdMs, stats);
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./bench-workflows'),
    logger: new (await import('@temporalio/worker')).DefaultLogger('WARN'),
  });
  const connection = await NativeConnection.connect({ address: ADDRESS });
  const campaign = await Worker.create({
    connection,
    taskQueue,
    workflowBundle,
    activities: benchCampaignActivities,
  });
  const media = await Worker.create({ connection, taskQueue: `${taskQueue}-media`, activities: benchMediaActivities });
  process.on('disconnect', () => process.exit(1)); // the benchmark's client process died: leave nothing behind
  process.on('message', (m) => {
    if (m === 'stop') {
      campaign.shutdown();
      media.shutdown();
    }
  });
  const running = Promise.all([campaign.run(), media.run()]);
  while (campaign.getState() !== 'RUNNING' || media.getState() !== 'RUNNING') await sleep(20);
  process.send!('ready');
  await running;
  await connection.close();
  stats.maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  // The IPC channel would keep this process alive: leave once the parent has the stats.
  process.send!(stats, () => process.exit(0));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a worker child; resolves once its workers poll. `stop()` shuts it down and returns its stats. */
async function startWorkerChild(taskQueue: string, total: number, holdMs: number) {
  const child = fork(__filename, ['--worker', taskQueue, String(total), String(holdMs)]);
  let onStats!: (s: WorkerStats) => void;
  const statsP = new Promise<WorkerStats>((resolve) => (onStats = resolve));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => (m === 'ready' ? resolve() : onStats(m as WorkerStats)));
    child.on('exit', (code) => (code ? reject(new Error(`worker exited ${code}`)) : undefined));
  });
  return {
    stop: async () => {
      child.send('stop');
      return await statsP;
    },
  };
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, limit) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const runId = randomBytes(4).toString('hex');

async function baseline(client: Client, n: number, inFlight: number) {
  const taskQueue = `bench-bare-${runId}`;
  const w = await startWorkerChild(taskQueue, 0, 0);
  const t0 = performance.now();
  await pool(n, inFlight, (i) =>
    client.workflow.execute('benchBareWorkflow', { taskQueue, workflowId: `bench/${runId}/bare/${i}` }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const stats = await w.stop();
  return { seconds, perSecond: n / seconds, stats };
}

async function campaign(client: Client, contacts: number, seats: number, holdMs: number) {
  const taskQueue = `bench-campaign-${runId}`;
  const w = await startWorkerChild(taskQueue, contacts, holdMs);
  const task: CampaignTask = {
    tenantId: 'bench',
    taskId: `bench-${runId}`,
    // Open all day (windows may not wrap midnight: 23:59–24:00 UTC is closed; the runs avoid it).
    calendar: {
      timezone: 'UTC',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      windows: [{ start: '00:00', end: '23:59' }],
      blocked: [],
    },
    retry: { reasons: [], maxRetries: 0, intervalMinutes: 1 },
    aiSeats: seats,
    totalContacts: contacts,
    pageSize: PAGE_SIZE,
    prompt: '您好',
    mediaTaskQueue: `${taskQueue}-media`,
  };
  const t0 = performance.now();
  const handle = await client.workflow.start('campaignWorkflow', {
    taskQueue,
    workflowId: `task/${task.taskId}`,
    args: [{ task }],
  });
  let done = false;
  const result = handle.result().finally(() => (done = true)) as Promise<CampaignProgress>;
  // Time-averaged seats held (the campaign's own `dialling`), sampled from the progress query.
  let area = 0;
  let samples = 0;
  let last: { t: number; dialling: number } | undefined;
  let queryMs = 0;
  while (!done) {
    const q0 = performance.now();
    const p = await handle.query<CampaignProgress>('progress').catch(() => undefined);
    const t = performance.now();
    if (p) {
      queryMs += t - q0;
      samples++;
      if (last) area += last.dialling * (t - last.t);
      last = { t, dialling: p.dialling };
    }
    await sleep(Math.max(0, SAMPLE_MS - (performance.now() - t)));
  }
  const progress = await result;
  const end = performance.now();
  if (last) area += last.dialling * (end - last.t);
  const seconds = (end - t0) / 1000;
  const stats = await w.stop();
  const attempts = Object.values(progress.byResult).reduce((a, b) => a + (b ?? 0), 0);
  return {
    seconds,
    attempts,
    perSecond: attempts / seconds,
    seatsHeldAvg: area / (end - t0),
    progress,
    samples,
    queryMsAvg: queryMs / Math.max(1, samples),
    stats,
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--worker') {
    const [taskQueue, total, holdMs] = process.argv.slice(3) as [string, string, string];
    await runWorkers(taskQueue, Number(total), Number(holdMs));
    return;
  }
  const contacts = Number(process.argv[2] ?? 10_000);
  const seats = Number(process.argv[3] ?? 200);
  const bare = Number(process.argv[4] ?? contacts);
  const holdMs = Number(process.argv[5] ?? 0);
  const client = new Client({ connection: await Connection.connect({ address: ADDRESS }) });

  const b = await baseline(client, bare, seats);
  console.log(
    `baseline  ${bare} bare workflows, ≤${seats} in flight: ${b.seconds.toFixed(1)} s, ` +
      `${b.perSecond.toFixed(1)} workflows/s; worker peak RSS ${b.stats.maxRssMb} MB`,
  );
  const c = await campaign(client, contacts, seats, holdMs);
  const p = c.progress;
  console.log(
    `campaign  ${contacts} contacts, ${seats} seats, hold ${holdMs} ms: ${c.seconds.toFixed(1)} s, ` +
      `${c.attempts} attempts (${c.stats.calls} calls on the double), ${c.perSecond.toFixed(1)} attempts/s; ` +
      `status ${p.status}, finished ${p.finished}, generations ${p.generation}; worker peak RSS ${c.stats.maxRssMb} MB`,
  );
  console.log(
    `seats     held on average ${c.seatsHeldAvg.toFixed(1)} of ${seats} = ${((100 * c.seatsHeldAvg) / seats).toFixed(1)} % ` +
      `utilisation (${c.samples} progress samples, ${c.queryMsAvg.toFixed(0)} ms per query); peakDialling ${p.peakDialling}; ` +
      `calls in progress on the double: average ${(c.stats.callMs / (c.seconds * 1000)).toFixed(2)}, peak ${c.stats.peakCalls}`,
  );
  console.log(`ratio     attempts/s ÷ baseline workflows/s = ${(c.perSecond / b.perSecond).toFixed(3)}`);
  await client.connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
