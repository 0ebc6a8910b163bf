/**
 * The shipped worker entry (`node dist/activities/worker.js`) as a separate OS process, so a test can kill it the
 * way production dies: SIGKILL, no shutdown hooks, sockets closed by the kernel. Built by `npm run build`
 * (scripts/test.sh builds before jest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const WORKER_ENTRY = join(ROOT, 'dist', 'activities', 'worker.js');

/**
 * Throw unless dist/ holds a worker built from the current sources: a test of the built entry point must not
 * silently run yesterday's code.
 */
export function assertWorkerBuilt(): void {
  if (!existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: run \`npm run build\` first`);
  const built = statSync(WORKER_ENTRY).mtimeMs;
  const newer = ['activities', 'workflows', 'src', 'config']
    .flatMap((dir) => sources(join(ROOT, dir)))
    .filter((f) => statSync(f).mtimeMs > built);
  if (newer.length) throw new Error(`dist/ is older than ${newer.slice(0, 3).join(', ')}: run \`npm run build\``);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

export class WorkerProcess {
  private out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Start the worker with exactly `env` (plus PATH and HOME); its configuration comes only from there. */
  static start(name: string, env: Record<string, string>): WorkerProcess {
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new WorkerProcess(name, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process wrote (pino JSON lines on stdout, crashes on stderr). */
  output(): string {
    return this.out;
  }

  /** Resolve once the worker logged that it polls its task queues; reject if it exits or takes too long. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!/"msg":"worker started"/.test(this.out)) {
      if (!this.running) throw new Error(`worker ${this.name} exited before it started:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.name} did not start in ${timeoutMs} ms:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** `kill -9`: the process gets no chance to finish activities, close its websocket or tell Temporal. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Graceful stop (SIGTERM, the Temporal runtime drains the workers), SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
