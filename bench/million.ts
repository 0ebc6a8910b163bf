/**
 * A million contacts in one task (issue #10), on its own FerretDB. Imports a 1,000,000-row CSV into one task with
 * ListImportService (the code behind CreateTask), stores the first half of the campaign's call records and
 * frequency-cap counts (so the collections are as big as in the middle of a real run), then runs `attempts` attempts
 * from the middle of the list through the real repository path of an attempt — the dial activity's DNC check beside
 * its claim, frequency cap and finalisation, then the campaign's `recordAttempt` activity (result bucket, then task
 * counters beside the result index) and a page load every 500 contacts — with `benchInstantAnswerTelephony`, a
 * **benchmark-only instant-answer telephony double** in place of ARI (no Asterisk, no Temporal). A 10,000-contact
 * task runs the same attempts side by side (blocks of 1,000 alternate between the two tasks, so both see the same
 * machine load) for the ratio; then ListTaskDetail (first page, a middle page, filtered pages including the worst
 * case, a phone search) and GetTaskStatistics are timed through TasksService.
 *
 *   FERRETDB_PID=<pid> MILLION_BENCH_URI=mongodb://127.0.0.1:27027 \
 *     npx tsc -p bench/tsconfig.json && node dist/bench/bench/million.js [contacts=1000000] [attempts=10000] [small=10000]
 *
 * Use a FerretDB of its own (see BENCHMARKS.md), not the shared test server. Not part of the test suite.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createCampaignActivities } from '../activities/campaign-activities';
import { openRepositories, type Repositories } from '../activities/mongo/connection';
import { encodeResult, resultBucketId, resultIndexId, toLastAttempt } from '../activities/mongo/repositories';
import { RESULT_BUCKET, RESULT_INDEX_SPAN, type CallDoc } from '../activities/mongo/schemas';
import { ListImportService, PAGE_SIZE } from '../api/lists/list-import.service';
import { DEFAULT_LIST_LIMITS } from '../api/lists/list-limits';
import { readRows } from '../api/lists/list-reader';
import { TasksService } from '../api/tasks/tasks.service';
import type { FrequencyCap } from '../src/frequency-cap';
import { attemptId } from '../src/ids';
import type { AttemptOutcome, ContactRef } from '../workflows/definitions';
import { incrementBatcher } from '../activities/mongo/group-commit';

/* eslint-disable no-restricted-syntax -- a stand-alone tool outside the service, not its configuration */
const BASE = process.env.MILLION_BENCH_URI ?? 'mongodb://127.0.0.1:27027';
const FERRETDB_PID = process.env.FERRETDB_PID;
/** Attempts in flight per task (default 1: one at a time, the figure BENCHMARKS.md reports). */
const IN_FLIGHT = Number(process.env.MILLION_BENCH_IN_FLIGHT ?? 1);
/* eslint-enable no-restricted-syntax */
const TENANT = 'bench';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const CAP: FrequencyCap = { perDay: 3, perWeek: 10, timezone: 'Asia/Shanghai' };

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/** The big task's numbers are 139 0000 0000 on; the small task's start at 139 9000 0000, so they never meet. */
const SMALL_BASE = 90_000_000;
const phoneOf = (i: number) => `+86139${String(i).padStart(8, '0')}`;

function csvOf(rows: number, base: number): Buffer {
  const lines = ['用户号码,用户名称,amount'];
  for (let i = 0; i < rows; i++) lines.push(`139${String(base + i).padStart(8, '0')},客户${i},${i % 1000}`);
  return Buffer.from(lines.join('\n'), 'utf8');
}

/** Peak RSS (VmHWM) of another process, in MB. */
function peakRssMb(pid: string | undefined): number | undefined {
  if (!pid) return undefined;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}

async function importTask(
  repos: Repositories,
  rows: number,
  base: number,
): Promise<{ taskId: string; seconds: number }> {
  const file = csvOf(rows, base);
  const taskId = randomBytes(10).toString('hex');
  const t0 = process.hrtime.bigint();
  const report = await new ListImportService(repos, DEFAULT_LIST_LIMITS, silent as never).import(
    TENANT,
    {
      kind: 'create',
      taskId,
      requiredVariables: [],
      task: (t) => ({
        _id: taskId,
        tenantId: TENANT,
        name: 'bench',
        description: '',
        status: 'RUNNING',
        effectiveImmediately: false,
        calendar: {
          timezone: 'Asia/Shanghai',
          workingDays: [1],
          windows: [{ start: '09:00', end: '12:00' }],
          blocked: [],
        },
        retry: { reasons: [], maxRetries: 0, intervalMinutes: 1 },
        aiSeats: 1,
        prompt: 'bench',
        totalContacts: t.totalContacts,
        pageSize: PAGE_SIZE,
        pages: t.pages,
        duplicatesRemoved: t.duplicates,
        stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {}, dialled: 0, latest: {} },
        workflowId: `task/${taskId}`,
      }),
    },
    readRows(
      { buffer: file, originalname: 'list.csv', size: file.length },
      { maxRows: rows + 2, maxRecordBytes: 65536 },
    ),
  );
  if (report.imported !== rows) throw new Error(`imported ${report.imported} of ${rows}`);
  return { taskId, seconds: ms(t0) / 1000 };
}

/**
 * The first `upTo` contacts as already called: their call records, frequency-cap counts, result buckets and result
 * index (bulk inserts of what recordAttempt would have written).
 */
async function fillHistory(repos: Repositories, taskId: string, upTo: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const day = new Date().toISOString().slice(0, 10);
  const at = new Date();
  for (let i = 0; i < upTo; i += 1000) {
    const n = Math.min(1000, upTo - i);
    const calls: CallDoc[] = Array.from({ length: n }, (_, k) => ({
      _id: attemptId(taskId, i + k, 1),
      tenantId: TENANT,
      taskId,
      contactIndex: i + k,
      attempt: 1,
      phone: phoneOf(i + k),
      state: 'final',
      code: 'SUCCESS',
      label: '呼叫成功',
      hangupBy: 'ROBOT',
      startedAt: at,
      answeredAt: at,
      endedAt: at,
      ringSeconds: 2,
      talkSeconds: 20,
      dtmf: [],
      claimedAt: at,
    }));
    await repos.models.calls.collection.insertMany(calls as never[], { ordered: false });
    await repos.conn.collection('dial_counts').insertMany(
      Array.from({ length: n }, (_, k) => ({
        _id: `${TENANT}/${phoneOf(i + k)}` as never,
        tenantId: TENANT,
        days: { [day]: 1 },
        version: 1,
      })),
      { ordered: false },
    );
  }
  const buckets = [];
  for (let n = 0; n * RESULT_BUCKET < upTo; n++) {
    const c: Record<string, string> = {};
    const codes: string[] = [];
    for (let slot = 0; slot < RESULT_BUCKET && n * RESULT_BUCKET + slot < upTo; slot++) {
      const i = n * RESULT_BUCKET + slot;
      const outcome = benchInstantAnswerTelephony(attemptId(taskId, i, 1), 1, i);
      c[slot] = encodeResult(toLastAttempt(outcome), taskId, i);
      codes.push(outcome.code);
    }
    buckets.push({ _id: resultBucketId(taskId, n), tenantId: TENANT, taskId, n, c, codes });
  }
  for (let i = 0; i < buckets.length; i += 200)
    await repos.models.contactResults.collection.insertMany(
      buckets.slice(i, i + 200).map(({ codes: _, ...bucket }) => bucket) as never[],
      { ordered: false },
    );
  const index = new Map<number, Record<string, Record<string, number>>>();
  for (const { n, codes } of buckets) {
    const k = Math.floor(n / RESULT_INDEX_SPAN);
    const counts: Record<string, number> = {};
    for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
    index.set(k, { ...(index.get(k) ?? {}), [n]: counts });
  }
  await repos.models.resultIndex.collection.insertMany(
    [...index].map(([k, b]) => ({ _id: resultIndexId(taskId, k), tenantId: TENANT, taskId, b })) as never[],
  );
  await repos.models.tasks.updateOne(
    { _id: taskId },
    {
      $inc: {
        'stats.attempts': upTo,
        'stats.dialled': upTo,
        'stats.answered': upTo - rareBefore(upTo),
        'stats.latest.SUCCESS': upTo - rareBefore(upTo),
        'stats.latest.BUSY': rareBefore(upTo),
      },
    },
  );
  return ms(t0) / 1000;
}

/** One contact in 5,000 is busy, so `result=BUSY` is a rare result spread over the whole list (the worst filter). */
const RARE_EVERY = 5_000;
const isRare = (index: number) => index % RARE_EVERY === RARE_EVERY - 1;
const rareBefore = (upTo: number) => Math.floor(upTo / RARE_EVERY);

/**
 * **Benchmark-only instant-answer telephony double**: every call answered at once, talks 20 s, robot hangs up —
 * except one contact in {@link RARE_EVERY}, whose line is busy.
 */
function benchInstantAnswerTelephony(id: string, attempt: number, index: number): AttemptOutcome {
  const now = Date.now();
  if (isRare(index))
    return {
      attemptId: id,
      attempt,
      code: 'BUSY',
      label: '用户占线',
      hangupBy: 'SYSTEM',
      startedAt: new Date(now).toISOString(),
      endedAt: new Date(now).toISOString(),
      ringSeconds: 0,
      talkSeconds: 0,
      dtmf: [],
      cause: 17,
    };
  return {
    attemptId: id,
    attempt,
    code: 'SUCCESS',
    label: '呼叫成功',
    hangupBy: 'ROBOT',
    startedAt: new Date(now).toISOString(),
    answeredAt: new Date(now).toISOString(),
    endedAt: new Date(now + 20_000).toISOString(),
    ringSeconds: 0,
    talkSeconds: 20,
    dtmf: [],
  };
}

interface RunResult {
  attempts: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  pageLoads: number;
  /** Each step's p50 / p95 in ms: dnc+claim, cap, finalize (the dial activity), recordAttempt. */
  steps: Record<string, string>;
}

/** Attempts of one task, run a block at a time so that two tasks can alternate. */
class AttemptRunner {
  private readonly campaign;
  private readonly times: number[] = [];
  /** Each step's own time (ms), to show where an attempt's database time goes. */
  private readonly steps: Record<string, number[]> = {};
  private seconds = 0;
  private pageLoads = 0;
  private readonly pagesLoaded = new Map<number, Promise<ContactRef[]>>();
  private next: number;

  constructor(
    private readonly repos: Repositories,
    private readonly taskId: string,
    from: number,
  ) {
    this.next = from;
    this.campaign = createCampaignActivities({
      tasks: repos.tasks,
      pages: repos.pages,
      calls: repos.calls,
      seats: repos.seats,
      logger: silent as never,
    });
  }

  /**
   * `count` attempts, each the real repository path of an attempt: one at a time, or up to `inFlight` at once
   * (then attempts of one task finish together and share the group commits of its counters and result index).
   */
  async run(count: number, inFlight = 1): Promise<void> {
    const start = process.hrtime.bigint();
    const end = this.next + count;
    const lane = async () => {
      while (this.next < end) await this.attempt(this.next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, inFlight) }, lane));
    this.seconds += ms(start) / 1000;
  }

  /** The contacts of a page, loaded once (loadContactPage) when the first attempt reaches it. */
  private page(page: number): Promise<ContactRef[]> {
    let p = this.pagesLoaded.get(page);
    if (!p) {
      p = this.campaign.loadContactPage(TENANT, this.taskId, page);
      this.pagesLoaded.set(page, p);
      this.pagesLoaded.delete(page - 2);
      this.pageLoads++;
    }
    return p;
  }

  /** Run one step of an attempt, keeping its time under `name`. */
  private async step<T>(name: string, f: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      (this.steps[name] ??= []).push(ms(t));
    }
  }

  private async attempt(index: number): Promise<void> {
    const { repos, taskId, campaign } = this;
    const step = this.step.bind(this);
    const t0 = process.hrtime.bigint();
    // The campaign workflow loads a bucket of 500 contacts when it reaches it (loadContactPage).
    const phone = (await this.page(Math.floor(index / PAGE_SIZE)))[index % PAGE_SIZE]!.phone;
    const id = attemptId(taskId, index, 1);
    // The dial activity (activities/media-activities.ts placeCall), in its order, without ARI.
    // The do-not-call read and the claim run side by side, as in placeCall.
    const [listed, claim] = await step('dnc+claim', () =>
      Promise.all([
        repos.dnc.isListed(TENANT, phone),
        repos.calls.claim({ _id: id, tenantId: TENANT, taskId, contactIndex: index, attempt: 1, phone }),
      ]),
    );
    if (listed) throw new Error('unexpected DNC hit');
    if (!claim.claimed) throw new Error(`attempt ${id} already claimed`);
    const cap = await step('cap', () => repos.dialCounts.tryRecord(TENANT, phone, CAP, Date.now()));
    if (!cap.allowed) throw new Error('unexpected frequency cap');
    const outcome = benchInstantAnswerTelephony(id, 1, index);
    await step('finalize', () => repos.calls.finalize(TENANT, outcome, { taskId, contactIndex: index, phone }));
    outcome.stored = true; // as the dial activity's store() says of the outcome it stored
    // The campaign's recordAttempt activity: call record, result bucket, task counters, result index.
    await step('recordAttempt', () =>
      campaign.recordAttempt({ tenantId: TENANT, taskId, contactIndex: index, outcome, phone }),
    );
    this.times.push(ms(t0));
  }

  result(): RunResult {
    const times = [...this.times].sort((a, b) => a - b);
    const q = (p: number) => quantile(times, p);
    const steps: Record<string, string> = {};
    for (const [name, list] of Object.entries(this.steps)) {
      const sorted = [...list].sort((a, b) => a - b);
      steps[name] = `${quantile(sorted, 0.5)} / ${quantile(sorted, 0.95)}`;
    }
    return {
      attempts: times.length,
      seconds: Math.round(this.seconds * 10) / 10,
      perSecond: Math.round((times.length / this.seconds) * 100) / 100,
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
      max: Math.round(times.at(-1)! * 10) / 10,
      pageLoads: this.pageLoads,
      steps,
    };
  }
}

/** The `p` quantile of sorted times, to 0.1 ms. */
function quantile(sorted: number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 10) / 10;
}

async function apiTimings(
  repos: Repositories,
  taskId: string,
  contacts: number,
  base: number,
): Promise<Record<string, number>> {
  // Only the task detail and statistics methods are called; they use the repositories and nothing else.
  const tasks = new TasksService(
    {} as never,
    repos,
    silent as never,
    {} as never,
    DEFAULT_LIST_LIMITS,
    {} as never,
    {} as never,
  );
  const out: Record<string, number> = {};
  const time = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = process.hrtime.bigint();
    const r = await f();
    out[name] = Math.round(ms(t0) * 10) / 10;
    return r;
  };
  const first = await time('detailFirstPageMs', () => tasks.details(TENANT, taskId, { page: 1, pageSize: 20 }, false));
  if (first.items.length !== 20) throw new Error('first page is not full');
  const middle = Math.floor(contacts / 2 / 20);
  await time('detailMiddlePageMs', () => tasks.details(TENANT, taskId, { page: middle, pageSize: 20 }, false));
  const filtered = await time('detailFilteredPageMs', () =>
    tasks.details(TENANT, taskId, { result: 'SUCCESS', page: 2, pageSize: 20 }, false),
  );
  out.detailFilteredTotal = filtered.total;
  if (filtered.items.length !== 20 || filtered.items.some((r) => r.result !== 'SUCCESS'))
    throw new Error('filtered page is wrong');
  // The worst filtered page: the last page of a result that is rare and spread over the list (every index document
  // up to the end is read, and each row sits in a result bucket and a contact page of its own).
  const rare = await tasks.details(TENANT, taskId, { result: 'BUSY', page: 1, pageSize: 1 }, false);
  const lastPage = Math.max(1, Math.ceil(rare.total / 20));
  const worst = await time('detailFilteredWorstMs', () =>
    tasks.details(TENANT, taskId, { result: 'BUSY', page: lastPage, pageSize: 20 }, false),
  );
  out.detailFilteredWorstTotal = worst.total;
  out.detailFilteredWorstRows = worst.items.length;
  // A phone search for a full number (its hash bucket only): the last contact's number.
  const digits = `139${String(base + contacts - 1).padStart(8, '0')}`;
  const phone = await time('detailPhoneSearchMs', () =>
    tasks.details(TENANT, taskId, { phone: digits, page: 1, pageSize: 20 }, true),
  );
  out.detailPhoneSearchTotal = phone.total;
  if (phone.items[0]?.index !== contacts - 1) throw new Error('phone search did not find the last contact');
  // A substring search (digits contained in numbers: every phone bucket): the last contact's number but its first digit.
  const part = await time('detailPhoneSubstringMs', () =>
    tasks.details(TENANT, taskId, { phone: digits.slice(1), page: 1, pageSize: 20 }, true),
  );
  out.detailPhoneSubstringTotal = part.total;
  if (!part.items.some((r) => r.index === contacts - 1) && part.total <= 20)
    throw new Error('substring search did not find the last contact');
  await time('statisticsMs', () => tasks.statistics(TENANT, taskId));
  return out;
}

async function main(): Promise<void> {
  const big = Number(process.argv[2] ?? 1_000_000);
  const attempts = Number(process.argv[3] ?? 10_000);
  const small = Number(process.argv[4] ?? 10_000);
  const db = `waihu_million_${Date.now().toString(36)}`;
  const repos = await openRepositories(`${BASE}/${db}`);
  try {
    const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
    const smallTask = await importTask(repos, small, SMALL_BASE);
    log(`imported ${small} contacts in ${smallTask.seconds.toFixed(1)} s`);
    const bigTask = await importTask(repos, big, 0);
    log(`imported ${big} contacts in ${bigTask.seconds.toFixed(1)} s (${Math.round(big / bigTask.seconds)} rows/s)`);
    const mid = Math.floor(big / 2 / PAGE_SIZE) * PAGE_SIZE;
    const historySeconds = await fillHistory(repos, bigTask.taskId, mid);
    log(`stored ${mid} earlier call records, frequency-cap counts and results in ${historySeconds.toFixed(1)} s`);

    // Side by side: blocks of 1,000 attempts alternate between the two tasks.
    const smallRunner = new AttemptRunner(repos, smallTask.taskId, 0);
    const bigRunner = new AttemptRunner(repos, bigTask.taskId, mid);
    const smallAttempts = Math.min(attempts, small);
    for (let done = 0; done < attempts; done += 1000) {
      const n = Math.min(1000, attempts - done);
      if (done < smallAttempts) await smallRunner.run(Math.min(n, smallAttempts - done), IN_FLIGHT);
      await bigRunner.run(n, IN_FLIGHT);
      log(
        `${done + n} attempts: small ${JSON.stringify(smallRunner.result())} big ${JSON.stringify(bigRunner.result())}`,
      );
    }
    const smallRun = smallRunner.result();
    const bigRun = bigRunner.result();
    const smallApi = await apiTimings(repos, smallTask.taskId, small, SMALL_BASE);
    log(`${small}-contact task API: ${JSON.stringify(smallApi)}`);
    const bigApi = await apiTimings(repos, bigTask.taskId, big, 0);
    log(`${big}-contact task API: ${JSON.stringify(bigApi)}`);

    const counts: Record<string, number> = {};
    for (const c of [
      'contact_pages',
      'contact_results',
      'result_index',
      'calls',
      'dial_counts',
      'contact_phones',
      'tasks',
      'task_counters',
    ])
      counts[c] = await repos.conn.collection(c).estimatedDocumentCount();
    console.log(
      JSON.stringify(
        {
          contacts: big,
          attempts,
          inFlight: IN_FLIGHT,
          groupCommit: { ...incrementBatcher.stats },
          small,
          small10k: smallRun,
          big1m: bigRun,
          rateRatio: bigRun.perSecond / smallRun.perSecond,
          api: { small: smallApi, big: bigApi },
          importSeconds: bigTask.seconds,
          documents: counts,
          peakRssMb: { node: Math.round(process.resourceUsage().maxRSS / 1024), ferretdb: peakRssMb(FERRETDB_PID) },
        },
        null,
        2,
      ),
    );
  } finally {
    await repos.conn.dropDatabase();
    await repos.conn.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
