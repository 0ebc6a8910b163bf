/**
 * The shipped entry points, as built by `npm run build` (scripts/test.sh builds before jest).
 * Real: node processes of dist/api/main.js and dist/activities/worker.js against the real servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { servers, uniqueName } from '../support/servers';
import { until } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const API = join(ROOT, 'dist', 'api', 'main.js');
const WORKER = join(ROOT, 'dist', 'activities', 'worker.js');

interface Exited {
  code: number | null;
  stderr: string;
  stdout: string;
}

function runToExit(entry: string, env: Record<string, string>, timeoutMs = 30_000): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

function start(entry: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** A port nothing listens on right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(() => {
  if (!existsSync(API) || !existsSync(WORKER)) throw new Error('dist/ is missing: run `npm run build` first');
});

describe('entry points', () => {
  it.each([
    ['API', API],
    ['worker', WORKER],
  ])('%s stops at start-up with one line naming a malformed ARI_URL', async (_, entry) => {
    const r = await runToExit(entry, { ARI_URL: 'not-a-url' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: ARI_URL: must be an http\(s\) URL/);
  });

  it('the API serves Swagger UI, the OpenAPI document with the seed operation ids, and a green /health', async () => {
    const port = await freePort();
    const api = start(API, {
      API_PORT: String(port),
      MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName('waihu_entry_')}`,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      ARI_URL: servers.ariUrl,
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      const health = await until(
        async () => {
          // Connection refused until the API listens.
          const r = await fetch(`${base}/health`).catch(() => undefined);
          return r?.status === 200 ? ((await r.json()) as { status: string }) : undefined;
        },
        `/health on ${base}: ${api.output()}`,
        30_000,
        250,
      );
      expect(health.status).toBe('up');
      const ui = await fetch(`${base}/docs`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toMatch(/swagger-ui/i);
      const doc = (await (await fetch(`${base}/docs/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { operationId?: string }>>;
      };
      const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
      expect(ids).toEqual(
        expect.arrayContaining([
          'CreateTask',
          'ListTask',
          'ListTaskDetail',
          'StartTask',
          'StopTask',
          'CancelTask',
          'Health',
        ]),
      );
      // The development key is announced (never printed) when API_KEYS is unset.
      expect(api.output()).toMatch(/built-in development key/);
      expect(api.output()).not.toMatch(/waihu-dev-admin-key/);
      expect((await fetch(`${base}/tasks`)).status).toBe(401);
    } finally {
      expect(await stop(api.child)).toBe(0);
    }
  });

  it('the worker connects to Temporal, MongoDB and ARI and shuts down cleanly on SIGTERM', async () => {
    const worker = start(WORKER, {
      MONGODB_URI: `${servers.mongoBaseUri}/${uniqueName('waihu_entry_')}`,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_TASK_QUEUE: uniqueName('entry-'),
      TEMPORAL_MEDIA_TASK_QUEUE: uniqueName('entry-media-'),
      ARI_URL: servers.ariUrl,
      ARI_APP: uniqueName('entry'),
    });
    try {
      await until(() => /worker started/.test(worker.output()), `worker: ${worker.output()}`, 60_000, 250);
      expect(worker.output()).toMatch(/ARI connected/);
    } finally {
      expect(await stop(worker.child)).toBe(0);
    }
  });
});
