/**
 * Replay verification (issue #9): run a recorded workflow history through the current workflow code with the SDK's
 * replayer (`Worker.runReplayHistory`) and report whether the code makes the same decisions — the same commands in
 * the same order — as the run that produced the history. A change that would break running campaigns answers
 * `sameDecisions: false` with the SDK's non-determinism error.
 *
 * Shared by the API route (ReplayCallHistory) and the CLI (api/audit/replay-cli.ts). The workflow code is bundled
 * once per process (about 10–20 s with webpack) and reused; no server is needed to replay.
 */
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { asHistory, type History } from '../../src/audit/history';

export interface ReplayReport {
  workflowId: string;
  runId?: string;
  /** Events in the replayed history. */
  events: number;
  /** True when the current code issues exactly the recorded commands. */
  sameDecisions: boolean;
  /** `nondeterminism` when the code decides differently; `error` when the replay could not run at all. */
  failure?: { kind: 'nondeterminism' | 'error'; message: string };
  /** How long the replay took (ms), bundling excluded. */
  ms: number;
}

/** Options for a replayer that checks another copy of the workflow code (the tests' deliberately changed copy). */
export interface ReplayerOptions {
  /** The workflows' entry module; default: this code base's `workflows/index`. */
  workflowsPath?: string;
  /** A ready bundle (skips bundling). */
  bundle?: WorkflowBundleWithSourceMap;
}

export class HistoryReplayer {
  private bundle?: Promise<WorkflowBundleWithSourceMap>;

  constructor(private readonly options: ReplayerOptions = {}) {
    if (options.bundle) this.bundle = Promise.resolve(options.bundle);
  }

  /** Bundle the workflow code now (the first replay would otherwise pay for it). */
  warmUp(): Promise<WorkflowBundleWithSourceMap> {
    this.bundle ??= bundleWorkflowCode({
      workflowsPath: this.options.workflowsPath ?? require.resolve('../../workflows'),
      logger: quietLogger,
    }).catch((err: unknown) => {
      this.bundle = undefined; // let the next call try again
      throw err;
    });
    return this.bundle;
  }

  async replay(history: History | string | object, workflowId: string, runId?: string): Promise<ReplayReport> {
    const workflowBundle = await this.warmUp();
    const h = asHistory(history);
    const t0 = Date.now();
    const base = { workflowId, ...(runId ? { runId } : {}), events: h.events?.length ?? 0 };
    try {
      await Worker.runReplayHistory({ workflowBundle }, h, workflowId);
      return { ...base, sameDecisions: true, ms: Date.now() - t0 };
    } catch (err) {
      const nondeterminism = isNondeterminism(err);
      return {
        ...base,
        sameDecisions: false,
        failure: { kind: nondeterminism ? 'nondeterminism' : 'error', message: messageOf(err) },
        ms: Date.now() - t0,
      };
    }
  }
}

function isNondeterminism(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: string }).name ?? '';
    const message = (e as { message?: string }).message ?? '';
    if (name === 'DeterminismViolationError' || /nondetermin/i.test(message)) return true;
  }
  return false;
}

function messageOf(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const m = (e as { message?: string }).message;
    if (m && !parts.includes(m)) parts.push(m);
  }
  return parts.join(': ') || String(err);
}

/** webpack's progress lines are noise in the API's log; warnings and errors still show. */
const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};
