/**
 * Dial benchmark (issue #5): the overhead of placing a call through Asterisk — from the originate request to the
 * answered channel entering our Stasis application (StasisStart), minus the callee's own answer delay — with 1, 10
 * and 100 calls placed at the same moment, in one run, side by side.
 *
 * Real: Asterisk over ARI with the product's AriAdapter (caller-chosen channel id, session registered before the
 * originate) and the product's dial string (media-activities dialEndpoint: PJSIP/<trunk>/sip:<number>@<target>),
 * and one sipp UAS (test/sipp/answer-delayed.xml) that rings and answers after exactly `answerDelayMs` (its `-d`).
 * No Temporal, no MongoDB: only the telephony path is measured.
 *
 * Each level runs waves of C simultaneous originates until `calls` calls are done; every call of a wave is held up
 * until the whole wave is answered (so C calls are up at once, counted), then all are hung up and the next wave
 * waits for every channel to be destroyed. Per call:
 *   overhead = (local receipt of StasisStart) − (just before the originate request) − answerDelayMs
 *   in Asterisk = (StasisStart's own timestamp) − (same start) − answerDelayMs   (same host, same clock)
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/bench/dial.js [levels=1,10,100] [calls=100] [answerDelayMs=200]
 *
 * ARI_URL / ARI_USERNAME / ARI_PASSWORD as for the service (defaults: the embedded Asterisk of scripts/asterisk.sh);
 * BENCH_SIP_PORT (default 5610); BENCH_HTTP_SOCKETS (default 50): the most HTTP connections to ARI at once.
 * Not part of the test suite.
 *
 * **Why the socket cap**: Asterisk's HTTP server accepts at most `sessionlimit` connections (default 100, http.conf),
 * websockets included, and ari-client's requests beyond it never settle (measured: 150 parallel GET /asterisk/info
 * → 100 answered, 50 pending forever; Asterisk logs "HTTP session count exceeded 100 sessions"). ari-client uses
 * Node's global HTTP agent, so capping its sockets queues the excess requests in Node instead.
 */
import { execFile } from 'node:child_process';
import { globalAgent } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AriAdapter, type ChannelSession } from '../activities/ari/ari-adapter';
import { createLogger } from '../activities/logger';
import { dialEndpoint } from '../activities/media-activities';
import { loadConfig } from '../config/config';

// eslint-disable-next-line no-restricted-syntax -- a stand-alone tool outside the service, not its configuration
const env = process.env;
const SIP_PORT = Number(env.BENCH_SIP_PORT ?? 5610);
const HTTP_SOCKETS = Number(env.BENCH_HTTP_SOCKETS ?? 50);
/** A wave that has not settled after this long is a failure to report, not a hang. */
const WAVE_TIMEOUT_MS = 60_000;

interface CallSample {
  overheadMs: number;
  inAsteriskMs: number;
  /** Originate HTTP request → its 200 answer. */
  requestMs: number;
}

interface LevelResult {
  concurrency: number;
  samples: CallSample[];
  failed: number;
  /** Most calls up at the same time, as our Stasis app saw them. */
  maxUp: number;
  wallMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function startSipp(answerDelayMs: number, maxCalls: number): Promise<number> {
  const scenario = join(__dirname, '..', '..', '..', 'test', 'sipp', 'answer-delayed.xml');
  const args = [
    '-sf',
    scenario,
    '-i',
    '127.0.0.1',
    '-p',
    String(SIP_PORT),
    '-mp',
    String(20000 + (SIP_PORT % 1000) * 10),
    '-cp',
    String(30000 + (SIP_PORT % 1000)),
    '-d',
    String(answerDelayMs),
    '-l',
    String(maxCalls * 4),
    '-bg',
    '-nostdin',
  ];
  const out = await promisify(execFile)('sipp', args).then(
    (r) => r.stdout,
    (err: { stdout?: string; code?: number }) => {
      if (err.code === 99 && err.stdout) return err.stdout; // -bg: the parent exits 99 after printing the PID
      throw err as Error;
    },
  );
  const pid = Number(/PID=\[(\d+)\]/.exec(out)?.[1]);
  if (!pid) throw new Error(`sipp did not report a PID: ${out}`);
  return pid;
}

async function runLevel(
  ari: AriAdapter,
  endpointOf: (i: number) => string,
  concurrency: number,
  calls: number,
  answerDelayMs: number,
  runId: string,
): Promise<LevelResult> {
  const samples: CallSample[] = [];
  let failed = 0;
  let up = 0;
  let maxUp = 0;
  const t0 = Date.now();
  for (let done = 0; done < calls; done += concurrency) {
    const wave = Math.min(concurrency, calls - done);
    const sessions: ChannelSession[] = [];
    const waveDone = Promise.all(
      Array.from({ length: wave }, async (_, k) => {
        const i = done + k;
        const channelId = `${runId}-c${concurrency}-${i}`;
        const start = Date.now();
        let session: ChannelSession;
        try {
          session = await ari.originate({ channelId, endpoint: endpointOf(i), timeoutSeconds: 30 });
        } catch (err) {
          failed++;
          console.error(`originate ${channelId} failed: ${(err as Error).message}`);
          return;
        }
        const requestMs = Date.now() - start;
        sessions.push(session);
        const first = await Promise.race([
          session.answered.then((at) => ({ at, local: Date.now() })),
          session.destroyed.then(() => undefined),
        ]);
        if (!first) {
          failed++;
          return;
        }
        up++;
        maxUp = Math.max(maxUp, up);
        samples.push({
          overheadMs: first.local - start - answerDelayMs,
          inAsteriskMs: first.at - start - answerDelayMs,
          requestMs,
        });
        void session.destroyed.then(() => up--);
      }),
    );
    await Promise.race([
      waveDone,
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`a wave of ${wave} calls did not settle in ${WAVE_TIMEOUT_MS} ms`)),
          WAVE_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
    // The whole wave is up (or failed): hang every call up and wait until Asterisk has destroyed them all.
    await Promise.all(sessions.map((s) => ari.hangup(s)));
    await Promise.all(sessions.map((s) => s.destroyed));
  }
  return { concurrency, samples, failed, maxUp, wallMs: Date.now() - t0 };
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? NaN };
}

async function main(): Promise<void> {
  const levels = (process.argv[2] ?? '1,10,100').split(',').map(Number);
  const calls = Number(process.argv[3] ?? 100);
  const answerDelayMs = Number(process.argv[4] ?? 200);
  const config = loadConfig({
    ARI_URL: env.ARI_URL,
    ARI_USERNAME: env.ARI_USERNAME,
    ARI_PASSWORD: env.ARI_PASSWORD,
    SIP_DEFAULT_TARGET: `127.0.0.1:${SIP_PORT}`,
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger('warn', 'bench-dial');
  globalAgent.maxSockets = HTTP_SOCKETS;
  const runId = `bench${Date.now().toString(36)}`;
  const sipp = await startSipp(answerDelayMs, Math.max(...levels));
  const ari = await AriAdapter.connect({ ...config.ari, app: `bench-dial-${runId}` }, logger);
  const results: LevelResult[] = [];
  try {
    // One warm-up call: the first originate pays for PJSIP's and the HTTP connection's set-up.
    await runLevel(ari, () => dialEndpoint('+8613900000000', config), 1, 1, answerDelayMs, `${runId}w`);
    for (const c of levels) {
      const r = await runLevel(
        ari,
        (i) => dialEndpoint(`+86139${String(i).padStart(8, '0')}`, config),
        c,
        Math.max(calls, c),
        answerDelayMs,
        runId,
      );
      results.push(r);
      await sleep(1_500); // sipp's 1 s timewait of the last wave
    }
  } finally {
    await ari.close();
    process.kill(sipp, 'SIGKILL');
  }

  const base = summary(results[0]!.samples.map((s) => s.overheadMs));
  console.log(
    `\nDial overhead: originate request → StasisStart (answered), minus the callee's ${answerDelayMs} ms answer delay` +
      ` (at most ${HTTP_SOCKETS} HTTP connections to ARI)`,
  );
  console.log(
    '| calls at once | calls | failed | most up at once | overhead p50 | p95 | max | in Asterisk p50 | p95 | originate request p50 | p95 | p50 ÷ 1 call | p95 ÷ 1 call |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const o = summary(r.samples.map((s) => s.overheadMs));
    const a = summary(r.samples.map((s) => s.inAsteriskMs));
    const q = summary(r.samples.map((s) => s.requestMs));
    console.log(
      `| ${r.concurrency} | ${r.samples.length} | ${r.failed} | ${r.maxUp} | ${o.p50} ms | ${o.p95} ms | ${o.max} ms | ` +
        `${a.p50} ms | ${a.p95} ms | ${q.p50} ms | ${q.p95} ms | ${(o.p50 / base.p50).toFixed(2)}× | ` +
        `${(o.p95 / base.p95).toFixed(2)}× |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
