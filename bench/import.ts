/**
 * Import benchmark (issue #3): a 1,000,000-row CSV and a 100,000-row xlsx imported by ListImportService into a new
 * task, each compared with a bare MongoDB-driver bulk insert of the same rows (one document per row, insertMany in
 * batches of 1,000) in the same run, against the same server. Every phase runs in its own child process, so each
 * peak RSS (getrusage maxrss) is that phase's alone.
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/bench/import.js [csvRows=1000000] [xlsxRows=100000]
 *
 * MONGODB_BENCH_URI (default mongodb://127.0.0.1:27017) — FerretDB 1.24 when started by scripts/ferretdb.sh.
 * Not part of the test suite.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import * as XLSX from 'xlsx';
import { openRepositories } from '../activities/mongo/connection';
import { ListImportService, PAGE_SIZE } from '../api/lists/list-import.service';
import { DEFAULT_LIST_LIMITS } from '../api/lists/list-limits';
import { readRows } from '../api/lists/list-reader';
import { normalisePhone } from '../src/phone';

// eslint-disable-next-line no-restricted-syntax -- a stand-alone tool outside the service, not its configuration
const BASE = process.env.MONGODB_BENCH_URI ?? 'mongodb://127.0.0.1:27017';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function csvOf(rows: number): Buffer {
  const lines = ['用户号码,用户名称,amount'];
  for (let i = 0; i < rows; i++) lines.push(`139${String(i).padStart(8, '0')},客户${i},${i % 1000}`);
  return Buffer.from(lines.join('\n'), 'utf8');
}

function xlsxOf(rows: number): Buffer {
  const aoa: unknown[][] = [['用户号码', '用户名称', 'amount']];
  for (let i = 0; i < rows; i++) aoa.push([`139${String(i).padStart(8, '0')}`, `客户${i}`, i % 1000]);
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet(aoa), 'list');
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer;
}

/** One phase, in this (child) process: returns seconds. */
async function phase(kind: string, rows: number, db: string): Promise<number> {
  const file = kind.startsWith('csv') ? csvOf(rows) : xlsxOf(rows);
  const name = kind.startsWith('csv') ? 'list.csv' : 'list.xlsx';
  const t0 = process.hrtime.bigint();
  if (kind.endsWith('import')) {
    const repos = await openRepositories(`${BASE}/${db}`);
    const sut = new ListImportService(repos, DEFAULT_LIST_LIMITS, silent as never);
    const taskId = randomBytes(10).toString('hex');
    const report = await sut.import(
      'bench',
      {
        kind: 'create',
        taskId,
        requiredVariables: [],
        task: (t) => ({
          _id: taskId,
          tenantId: 'bench',
          name: 'bench',
          description: '',
          status: 'NOT_STARTED',
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
          stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {} },
          workflowId: `task/${taskId}`,
        }),
      },
      readRows({ buffer: file, originalname: name, size: file.length }, { maxRows: rows + 2, maxRecordBytes: 65536 }),
    );
    if (report.imported !== rows) throw new Error(`imported ${report.imported} of ${rows}`);
    await repos.conn.close();
  } else {
    // Baseline: the same rows parsed and normalised the same way, then a bare driver insertMany, one doc per row.
    const conn = await mongoose.createConnection(`${BASE}/${db}`).asPromise();
    const col = conn.db!.collection<{ _id: string; phone: string; name: string; amount: string }>('bench_rows');
    let batch: { _id: string; phone: string; name: string; amount: string }[] = [];
    let header = true;
    for await (const { cells } of readRows(
      { buffer: file, originalname: name, size: file.length },
      { maxRows: rows + 2, maxRecordBytes: 65536 },
    )) {
      if (header) {
        header = false;
        continue;
      }
      const p = normalisePhone(cells[0] ?? '');
      if (!p.ok) throw new Error('bad row');
      batch.push({
        _id: `${db}/${batch.length}/${cells[0]}`,
        phone: p.e164,
        name: cells[1] ?? '',
        amount: cells[2] ?? '',
      });
      if (batch.length === 1000) {
        await col.insertMany(batch, { ordered: false });
        batch = [];
      }
    }
    if (batch.length) await col.insertMany(batch, { ordered: false });
    await conn.close();
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function runChild(
  kind: string,
  rows: number,
): Promise<{ kind: string; rows: number; seconds: number; maxRssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--phase', kind, String(rows), `waihu_bench_${Date.now().toString(36)}_${kind}`]);
    child.on('message', (m) => resolve(m as never));
    child.on('exit', (code) => (code ? reject(new Error(`${kind} exited ${code}`)) : undefined));
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--phase') {
    const [kind, rows, db] = process.argv.slice(3) as [string, string, string];
    const seconds = await phase(kind, Number(rows), db);
    const conn = await mongoose.createConnection(`${BASE}/${db}`).asPromise();
    await conn.dropDatabase();
    await conn.close();
    process.send!({ kind, rows: Number(rows), seconds, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) });
    return;
  }
  const csvRows = Number(process.argv[2] ?? 1_000_000);
  const xlsxRows = Number(process.argv[3] ?? 100_000);
  const results = [];
  for (const [kind, rows] of [
    ['csv-baseline', csvRows],
    ['csv-import', csvRows],
    ['xlsx-baseline', xlsxRows],
    ['xlsx-import', xlsxRows],
  ] as const) {
    const r = await runChild(kind, rows);
    results.push(r);
    console.log(
      `${kind.padEnd(14)} ${String(rows).padStart(8)} rows  ${r.seconds.toFixed(1).padStart(7)} s  ` +
        `${Math.round(rows / r.seconds)
          .toString()
          .padStart(7)} rows/s  peak RSS ${r.maxRssMb} MB`,
    );
  }
  for (const f of ['csv', 'xlsx']) {
    const base = results.find((r) => r.kind === `${f}-baseline`)!;
    const imp = results.find((r) => r.kind === `${f}-import`)!;
    console.log(
      `${f}: import rows/s = ${(base.seconds / imp.seconds).toFixed(2)} × baseline; peak RSS = ${(imp.maxRssMb / base.maxRssMb).toFixed(2)} × baseline`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
