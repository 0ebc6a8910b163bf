/**
 * The auditor's view of one call (issue #9): its timeline (GetCallTimeline), its replay against the current workflow
 * code (ReplayCallHistory) and its raw history (ExportCallHistory). Everything starts from a tenant-checked task
 * (TasksService.taskOr404), so another tenant's call is a 404 like a missing one.
 *
 * Sources: the contact workflow's history (`task/{taskId}/contact/{index}`), the campaign's history (pauses during a
 * seat wait; its earlier runs are followed back through continue-as-new as far as the contact's life reaches), the
 * call record (CallRepository.get) and the dialog record (DialogRepository.get).
 */
import { Inject, Injectable } from '@nestjs/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Config } from '../../config/config';
import type { Repositories } from '../../activities/mongo/connection';
import { storedOutcome } from '../../activities/mongo/repositories';
import type { History } from '../../src/audit/history';
import { campaignPauses, contactStory, crossCheck, type PauseInterval } from '../../src/audit/timeline';
import { NotFound } from '../../src/errors';
import { contactWorkflowId, taskWorkflowId } from '../../src/ids';
import { maskPhone, maskPhonesIn } from '../../src/phone';
import { seesFullNumbers, type Principal } from '../auth/auth';
import { CONFIG, REPOSITORIES, TEMPORAL } from '../common/tokens';
import { TasksService } from '../tasks/tasks.service';
import { HistoryReplayer, type ReplayReport } from './replayer';

/** At most this many campaign runs are read back for pauses (each run is at most ~8,000 events). */
const MAX_CAMPAIGN_RUNS = 10;

export interface CallRef {
  taskId: string;
  attemptId: string;
  contactIndex: number;
  attempt: number;
  workflowId: string;
}

/** Deep-copy `value` with every phone number in its strings masked. */
export function maskDeep<T>(value: T): T {
  if (typeof value === 'string') return maskPhonesIn(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => maskDeep(v)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v)])) as T;
  return value;
}

/**
 * Mask phone numbers inside a proto-JSON history: every `json/plain` payload is decoded, masked and encoded again,
 * so the file stays a valid history (the replayer still reads it) without the callee's number.
 */
export function maskHistoryJson(json: string): string {
  const jsonPlain = Buffer.from('json/plain').toString('base64');
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const meta = o.metadata as Record<string, unknown> | undefined;
      if (meta && meta.encoding === jsonPlain && typeof o.data === 'string') {
        const text = Buffer.from(o.data, 'base64').toString('utf8');
        return { ...o, data: Buffer.from(maskPhonesIn(text), 'utf8').toString('base64') };
      }
      // Other payloads' `data` is opaque base64: left alone (a digit run in it is no phone number).
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, k === 'data' ? x : walk(x)]));
    }
    return typeof v === 'string' ? maskPhonesIn(v) : v;
  };
  return JSON.stringify(walk(JSON.parse(json)));
}

/** gRPC status NOT_FOUND. */
const GRPC_NOT_FOUND = 5;

/** The workflow (or run) does not exist: the client's error, or the server's gRPC NOT_FOUND. */
function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: number } | null)?.code === GRPC_NOT_FOUND;
}

@Injectable()
export class AuditService {
  /** One replayer (one bundle of the workflow code) per API process. */
  readonly replayer = new HistoryReplayer();

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(TEMPORAL) private readonly temporal: Client,
    private readonly tasks: TasksService,
  ) {}

  /** The call named by `attemptId` in a task of the principal's tenant, or 404. */
  async callRef(p: Principal, taskId: string, attemptId: string): Promise<CallRef> {
    await this.tasks.taskOr404(p.tenantId, taskId);
    const m = attemptId.startsWith(`${taskId}-`) ? /^(\d+)-(\d+)$/.exec(attemptId.slice(taskId.length + 1)) : null;
    if (!m) throw new NotFound(`call ${attemptId} in task ${taskId}`);
    const contactIndex = Number(m[1]);
    return {
      taskId,
      attemptId,
      contactIndex,
      attempt: Number(m[2]),
      workflowId: contactWorkflowId(taskId, contactIndex),
    };
  }

  uiUrl(workflowId: string, runId?: string): string {
    const { uiUrl, namespace } = this.config.temporal;
    return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}/history` : ''}`;
  }

  private async history(ref: CallRef): Promise<{ history: History; runId?: string }> {
    try {
      const handle = this.temporal.workflow.getHandle(ref.workflowId);
      const { runId } = await handle.describe();
      // The run described, not whichever run is current by the time the history is read.
      return { history: await this.temporal.workflow.getHandle(ref.workflowId, runId).fetchHistory(), runId };
    } catch (err) {
      if (isNotFound(err)) throw new NotFound(`the history of call ${ref.attemptId}`);
      throw err;
    }
  }

  /** Pauses of the task's campaign, from its current run back through continue-as-new until `since`. */
  private async pauses(taskId: string, since: number): Promise<PauseInterval[]> {
    const histories: History[] = [];
    let runId: string | undefined;
    try {
      for (let i = 0; i < MAX_CAMPAIGN_RUNS; i++) {
        const h = await this.temporal.workflow.getHandle(taskWorkflowId(taskId), runId).fetchHistory();
        histories.push(h);
        const first = h.events?.[0];
        const previous = first?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        const startedMs = first?.eventTime?.seconds ? Number(first.eventTime.seconds) * 1000 : 0;
        if (!previous || startedMs <= since) break;
        runId = previous;
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return campaignPauses(histories);
  }

  async timeline(p: Principal, taskId: string, attemptId: string) {
    const ref = await this.callRef(p, taskId, attemptId);
    const { history, runId } = await this.history(ref);
    const startedMs = Number(history.events?.[0]?.eventTime?.seconds ?? 0) * 1000;
    const story = contactStory(history, await this.pauses(taskId, startedMs));
    const attempt = story.attempts.find((a) => a.attempt === ref.attempt);
    if (!attempt) throw new NotFound(`call ${attemptId} in task ${taskId}`);
    const [callDoc, dialogDoc] = await Promise.all([
      this.repos.calls.get(p.tenantId, attemptId),
      this.repos.dialogs.get(p.tenantId, attemptId),
    ]);
    const recorded = callDoc ? storedOutcome(callDoc) : undefined;
    const checks = crossCheck(
      attempt,
      recorded,
      dialogDoc ? { turns: dialogDoc.turns, tags: dialogDoc.tags, end: dialogDoc.end } : undefined,
    );
    const full = seesFullNumbers(p);
    const view = {
      taskId,
      attemptId,
      contactIndex: ref.contactIndex,
      attempt: ref.attempt,
      workflowId: ref.workflowId,
      ...(runId ? { runId } : {}),
      temporalUiUrl: this.uiUrl(ref.workflowId, runId),
      phone: story.phone ? (full ? story.phone : maskPhone(story.phone)) : undefined,
      workflowStatus: story.status,
      attempts: story.attempts.map((a) => ({
        attempt: a.attempt,
        attemptId: a.attemptId,
        ...(a.outcome ? { code: a.outcome.code, label: a.outcome.label } : {}),
      })),
      result: attempt.outcome ?? null,
      dialog: dialogDoc ? { script: dialogDoc.script, tags: dialogDoc.tags, end: dialogDoc.end } : null,
      checks,
      entries: story.entries,
    };
    return full ? view : maskDeep(view);
  }

  async replay(p: Principal, taskId: string, attemptId: string): Promise<ReplayReport & { temporalUiUrl: string }> {
    const ref = await this.callRef(p, taskId, attemptId);
    const { history, runId } = await this.history(ref);
    const report = await this.replayer.replay(history, ref.workflowId, runId);
    return { ...report, temporalUiUrl: this.uiUrl(ref.workflowId, runId) };
  }

  /** The contact workflow's history as proto JSON (what `temporal workflow show --output json` writes). */
  async rawHistory(p: Principal, taskId: string, attemptId: string): Promise<string> {
    const ref = await this.callRef(p, taskId, attemptId);
    const json = historyToJSON((await this.history(ref)).history);
    return seesFullNumbers(p) ? json : maskHistoryJson(json);
  }
}
