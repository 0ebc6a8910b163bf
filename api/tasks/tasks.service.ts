/**
 * Task management: CreateTask (definition + list, validated whole before anything is written), AttachTask
 * (contacts appended, idempotent by Idempotency-Key), ListTask, GetTask, statistics, ListTaskDetail, the list
 * template, the export of number details and a rejected import's error report. Starting, pausing and cancelling
 * the campaign is CampaignService's.
 */
import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Config } from '../../config/config';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import type { ImportReport } from '../../activities/mongo/list-schemas';
import { phoneBucketOf } from '../../activities/mongo/list-repositories';
import { withResult, type ContactResult } from '../../activities/mongo/repositories';
import { PHONE_BUCKETS } from '../../activities/mongo/list-schemas';
import {
  RESULT_BUCKET,
  RESULT_INDEX_SPAN,
  type PageContact,
  type TaskDoc,
  type TaskTransferOptions,
} from '../../activities/mongo/schemas';
import type { CallResultCode } from '../../src/call-result';
import type { TenantSettings } from '../../activities/mongo/tenant-settings';
import { isValidZone, openSegments } from '../../src/calendar';
import { categoryOf, CALL_RESULT_LABELS } from '../../src/call-result';
import { DomainError, NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import { taskWorkflowId } from '../../src/ids';
import { promptVariables, variableNameProblem } from '../../src/list/rules';
import { variablesUsed } from '../../src/script/validate';
import { maskPhone, normalisePhone } from '../../src/phone';
import { CONFIG, LOGGER, REPOSITORIES } from '../common/tokens';
import { ListExportService } from '../lists/list-export.service';
import { ListImportService, PAGE_SIZE } from '../lists/list-import.service';
import { LIST_LIMITS, type ListLimits } from '../lists/list-limits';
import { readRows, type UploadedList } from '../lists/list-reader';
import type { ContactDto } from '../lists/list.dto';
import { CampaignService } from './campaign.service';
import { taskStatistics, type TaskStatisticsView } from './task-statistics';
import type { CreateTaskDto, DetailQueryDto } from './task.dto';

/** The queue-timeout line when the robot takes the call back (a task may say its own). */
const BACK_TO_ROBOT_PROMPT = '人工客服暂时都在忙，我先继续为您服务。';

export { PAGE_SIZE };

/** AttachTask's input: an uploaded file or the JSON contacts. */
export type AttachSource = { file: UploadedList } | { contacts: ContactDto[] };

/** What AttachTask answers; `replayed` is true when an Idempotency-Key returned the first request's result. */
export interface AttachResult {
  report: ImportReport;
  replayed: boolean;
}

export interface DetailRow {
  index: number;
  phone: string;
  name?: string;
  attempts: number;
  /** 重拨次数: redials after the first attempt. */
  redials: number;
  result?: string;
  resultLabel?: string;
  /** Sub-outcome, e.g. 用户听完语音. */
  resultDetail?: string;
  category: string;
  hangupBy?: string;
  startedAt?: Date;
  answeredAt?: Date;
  endedAt?: Date;
  ringSeconds?: number;
  talkSeconds?: number;
  attemptId?: string;
  skipped?: string;
  /** On the tenant's do-not-call list at import: never dialled. */
  doNotCall?: boolean;
}

@Injectable()
export class TasksService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(forwardRef(() => CampaignService)) private readonly campaigns: CampaignService,
    @Inject(LIST_LIMITS) private readonly limits: ListLimits,
    private readonly imports: ListImportService,
    private readonly exports: ListExportService,
  ) {}

  /** Cross-field rules class-validator cannot express; every problem is reported, none stops the others. */
  private checkDefinition(dto: CreateTaskDto, tenant: TenantSettings): FieldProblem[] {
    const problems: FieldProblem[] = [];
    const zone = dto.timezone ?? tenant.timezone;
    if (!isValidZone(zone)) problems.push({ field: 'timezone', value: zone, reason: 'not an IANA time zone' });
    const windows = dto.workingWindows.map((w) => ({ ...w }));
    windows.forEach((w, i) => {
      if (w.start >= w.end)
        problems.push({
          field: `workingWindows.${i}`,
          value: `${w.start}-${w.end}`,
          reason: 'end must be after start',
        });
    });
    const sorted = windows.map((w, i) => ({ ...w, i })).sort((a, b) => a.start.localeCompare(b.start));
    sorted.forEach((cur, k) => {
      const prev = sorted[k - 1];
      if (prev && cur.start < prev.end)
        problems.push({
          field: `workingWindows.${cur.i}`,
          value: `${cur.start}-${cur.end}`,
          reason: `overlaps workingWindows.${prev.i}`,
        });
    });
    for (const v of promptVariables(dto.prompt)) {
      const reason = variableNameProblem(v);
      if (reason) problems.push({ field: 'prompt', value: `\${${v}}`, reason });
    }
    if (!problems.length) {
      windows.forEach((w, i) => {
        if (!openSegments({ windows: [w], blocked: tenant.blockedHours }).length)
          problems.push({
            field: `workingWindows.${i}`,
            value: `${w.start}-${w.end}`,
            reason: `lies entirely inside the tenant's blocked hours (${tenant.blockedHours.map((b) => `${b.start}-${b.end}`).join(', ')})`,
          });
      });
    }
    return problems;
  }

  /**
   * The task's transfer options: only with a script; back to the robot needs one of the pinned version's main flows.
   */
  private async transferOptions(
    tenantId: string,
    dto: CreateTaskDto,
    script: TaskDoc['script'] | undefined,
    problems: FieldProblem[],
  ): Promise<TaskTransferOptions | undefined> {
    const t = dto.transfer;
    if (!t) return undefined;
    if (dto.scriptId === undefined) {
      problems.push({ field: 'transfer', reason: 'needs scriptId (only a script transfers to agents)' });
      return undefined;
    }
    const robot = t.onQueueTimeout === 'ROBOT';
    if (robot && !t.fallbackFlowId)
      problems.push({ field: 'transfer.fallbackFlowId', reason: 'required when onQueueTimeout is ROBOT' });
    if (!robot && t.fallbackFlowId)
      problems.push({
        field: 'transfer.fallbackFlowId',
        value: t.fallbackFlowId,
        reason: 'only with onQueueTimeout ROBOT',
      });
    if (robot && t.fallbackFlowId && script) {
      const doc = await this.repos.scripts.getVersion(tenantId, script.scriptId, script.version);
      if (!doc?.script.flows.some((f) => f.id === t.fallbackFlowId))
        problems.push({
          field: 'transfer.fallbackFlowId',
          value: t.fallbackFlowId,
          reason: `not a main flow of script ${script.scriptId} version ${script.version}`,
        });
    }
    return {
      ...(t.queueTimeoutSeconds !== undefined ? { queueTimeoutSeconds: t.queueTimeoutSeconds } : {}),
      ...(t.timeoutPrompt !== undefined
        ? { timeoutPrompt: t.timeoutPrompt }
        : robot
          ? { timeoutPrompt: BACK_TO_ROBOT_PROMPT }
          : {}),
      ...(robot ? { onQueueTimeout: 'robot' as const, fallbackFlowId: t.fallbackFlowId } : {}),
    };
  }

  /**
   * The script version a new task pins: the one named, or the latest approved. Only an approved version can run
   * (seed §1.12: a script is used by tasks once its review passed).
   */
  private async pinScript(
    tenantId: string,
    dto: CreateTaskDto,
    problems: FieldProblem[],
  ): Promise<TaskDoc['script'] | undefined> {
    if (dto.scriptId === undefined) {
      if (dto.scriptVersion !== undefined)
        problems.push({ field: 'scriptVersion', value: String(dto.scriptVersion), reason: 'needs scriptId' });
      return undefined;
    }
    const doc =
      dto.scriptVersion !== undefined
        ? await this.repos.scripts.getVersion(tenantId, dto.scriptId, dto.scriptVersion)
        : await this.repos.scripts.latestApproved(tenantId, dto.scriptId);
    if (!doc) {
      problems.push(
        dto.scriptVersion !== undefined
          ? { field: 'scriptVersion', value: String(dto.scriptVersion), reason: 'no such version of the script' }
          : { field: 'scriptId', value: dto.scriptId, reason: 'no such script with an approved version' },
      );
      return undefined;
    }
    if (doc.status !== 'approved') {
      problems.push({
        field: 'scriptVersion',
        value: String(doc.version),
        reason: `version ${doc.version} is ${doc.status}; a task runs an approved version only`,
      });
      return undefined;
    }
    return { scriptId: doc.scriptId, version: doc.version, variables: variablesUsed(doc.script) };
  }

  /** Each caller number must be the tenant's, valid, and on an enabled line. */
  private async checkCallerNumbers(tenantId: string, numbers: string[] | undefined, problems: FieldProblem[]) {
    if (!numbers?.length) return;
    const known = new Map((await this.repos.lines.numbersById(tenantId, numbers)).map((n) => [n._id, n]));
    const lines = new Map(
      (await this.repos.lines.linesById([...new Set([...known.values()].map((n) => n.lineId))])).map((l) => [l._id, l]),
    );
    numbers.forEach((number, i) => {
      const n = known.get(number);
      const reason = !n
        ? 'not a caller number of this tenant (register it under /caller-numbers)'
        : n.status !== 'VALID'
          ? `is ${n.status}`
          : !lines.get(n.lineId)?.enabled
            ? `its line ${n.lineId} is disabled or gone`
            : undefined;
      if (reason) problems.push({ field: `callerNumbers.${i}`, value: number, reason });
    });
  }

  /**
   * CreateTask: the definition is checked first, then the list streams into buckets; the task document is written
   * last, so a rejected list leaves nothing behind.
   */
  async create(tenantId: string, dto: CreateTaskDto, file: UploadedList | undefined) {
    const tenant = await this.repos.tenantSettings.get(tenantId);
    const problems = this.checkDefinition(dto, tenant);
    const script = await this.pinScript(tenantId, dto, problems);
    const transfer = await this.transferOptions(tenantId, dto, script, problems);
    await this.checkCallerNumbers(tenantId, dto.callerNumbers, problems);
    if (!file) problems.push({ field: 'file', reason: 'a call list (.csv or .xlsx) is required' });
    // A task cannot ask for more AI seats than the tenant's pool has free (seed §2.1 当前可用AI坐席数).
    const seats = dto.aiSeats ?? 1;
    const available = await this.campaigns.availableSeats(tenantId);
    if ((dto.effectiveImmediately ?? true) && seats > available)
      problems.push({
        field: 'aiSeats',
        value: String(seats),
        reason: `exceeds the ${available} available AI seat(s)`,
      });
    if (dto.startAt !== undefined && Number.isNaN(Date.parse(dto.startAt)))
      problems.push({ field: 'startAt', value: dto.startAt, reason: 'not an ISO 8601 instant' });
    if (problems.length) throw new ValidationFailed('the task definition is invalid', problems);
    const taskId = randomBytes(10).toString('hex');
    const prompt = dto.prompt ?? this.config.call.defaultPrompt;
    const report = await this.imports.import(
      tenantId,
      {
        kind: 'create',
        taskId,
        requiredVariables: script ? script.variables : promptVariables(prompt),
        task: (totals) => ({
          _id: taskId,
          tenantId,
          name: dto.name,
          description: dto.description ?? '',
          status: 'NOT_STARTED',
          effectiveImmediately: dto.effectiveImmediately ?? true,
          calendar: {
            timezone: dto.timezone ?? tenant.timezone,
            workingDays: [...dto.workingDays].sort(),
            windows: dto.workingWindows.map((w) => ({ start: w.start, end: w.end })),
            blocked: tenant.blockedHours.map((b) => ({ ...b })),
          },
          retry: dto.retry
            ? {
                reasons: dto.retry.reasons,
                maxRetries: dto.retry.maxRetries,
                intervalMinutes: dto.retry.intervalMinutes,
              }
            : { reasons: [], maxRetries: 0, intervalMinutes: 1 },
          aiSeats: dto.aiSeats ?? 1,
          prompt,
          ...(script ? { script } : {}),
          ...(dto.callerNumbers?.length ? { callerNumbers: [...new Set(dto.callerNumbers)] } : {}),
          ...(dto.answeringMachineDetection ? { amd: true } : {}),
          ...(transfer ? { transfer } : {}),
          ...(dto.callerNumber ? { callerNumber: dto.callerNumber } : {}),
          ...(dto.startAt ? { startAt: new Date(dto.startAt) } : {}),
          totalContacts: totals.totalContacts,
          pageSize: PAGE_SIZE,
          pages: totals.pages,
          duplicatesRemoved: totals.duplicates,
          dncFlagged: totals.doNotCall,
          stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {}, dialled: 0, latest: {} },
          workflowId: taskWorkflowId(taskId),
        }),
      },
      this.rowsOf(file!),
      { fileName: file!.originalname },
    );
    const task = await this.taskOr404(tenantId, taskId);
    this.logger.info({ taskId, tenantId, contacts: task.totalContacts, importId: report.importId }, 'task created');
    if (task.effectiveImmediately) await this.campaigns.startWorkflow(task);
    return { ...(await this.get(tenantId, taskId)), import: report };
  }

  private rowsOf(file: UploadedList) {
    return readRows(file, {
      // Header, the limit, and one row more so a list over the limit is recognised as such.
      maxRows: this.limits.maxContactsPerTask + 2,
      maxRecordBytes: this.limits.maxRecordBytes,
    });
  }

  /**
   * AttachTask (追加任务明细): append contacts to a task, also a running one. With an Idempotency-Key, a repeat of
   * the same request returns the first result and writes nothing; the same key with a different request is a 409.
   */
  async attach(tenantId: string, taskId: string, source: AttachSource, idempotencyKey?: string): Promise<AttachResult> {
    const task = await this.taskOr404(tenantId, taskId);
    if (task.status === 'CANCELLED' || task.status === 'COMPLETED')
      throw new DomainError(`task is ${task.status}; contacts can only be added to a task that has not ended`, 409);
    let keyId: string | undefined;
    if (idempotencyKey !== undefined) {
      if (!/^[\x21-\x7e]{1,255}$/.test(idempotencyKey))
        throw new ValidationFailed('invalid Idempotency-Key', [
          { field: 'Idempotency-Key', reason: '1–255 visible ASCII characters' },
        ]);
      const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
      keyId = `idem/${tenantId}/${taskId}/${sha(idempotencyKey)}`;
      const requestHash =
        'file' in source
          ? sha(Buffer.concat([Buffer.from(`${source.file.originalname}\n`), source.file.buffer]))
          : sha(JSON.stringify(source.contacts));
      const claim = await this.repos.imports.claimKey(tenantId, taskId, keyId, requestHash, this.limits.reportTtlMs);
      if (claim.kind === 'replay') return { report: claim.report, replayed: true };
      if (claim.kind === 'busy')
        throw new DomainError('a request with this Idempotency-Key is still running; retry later', 409);
      if (claim.kind === 'mismatch')
        throw new DomainError('this Idempotency-Key was used with a different request', 409, [
          { field: 'Idempotency-Key', reason: 'already used with a different request' },
        ]);
    }
    try {
      const report = await this.imports.import(
        tenantId,
        { kind: 'attach', taskId },
        'file' in source ? this.rowsOf(source.file) : ListImportService.rowsOfJson(source.contacts),
        {
          requiredVariables: variablesOf(task),
          ...('file' in source ? { fileName: source.file.originalname } : {}),
        },
      );
      if (keyId) await this.repos.imports.completeKey(tenantId, keyId, report);
      if (report.imported) await this.contactsAppended(tenantId, taskId, report.imported);
      return { report, replayed: false };
    } catch (err) {
      // A failed request releases its key, so the client's retry with the same key runs again.
      if (keyId) await this.repos.imports.releaseKey(tenantId, keyId);
      throw err;
    }
  }

  /**
   * **The hand-off to a running campaign after AttachTask.** The stored task's `totalContacts` and `pages` are
   * already updated (the import's commit point); this re-reads them and tells the campaign workflow how many
   * contacts its list now has. The workflow must raise its `task.totalContacts` to the new total (never lower it),
   * drop a cached copy of the bucket that held the old end of the list (its new contacts were written into that
   * bucket), and, if it had finished admitting contacts, go on admitting from its cursor.
   */
  async contactsAppended(
    tenantId: string,
    taskId: string,
    imported: number,
  ): Promise<{ totalContacts: number; pages: number }> {
    const task = await this.taskOr404(tenantId, taskId);
    const totals = { totalContacts: task.totalContacts, pages: task.pages };
    this.logger.info({ tenantId, taskId, ...totals }, 'contacts appended');
    await this.campaigns.listExtended(task, task.totalContacts - imported);
    return totals;
  }

  /** Statistics of seed §3.1 from the task's counters: one `_id` read, whatever the size of the list. */
  async statistics(tenantId: string, taskId: string): Promise<TaskStatisticsView> {
    const task = await this.taskOr404(tenantId, taskId);
    return taskStatistics(task);
  }

  /** The import template: generic, or with one column per `${variable}` of a task's prompt. */
  async template(tenantId: string, taskId?: string): Promise<Buffer> {
    if (!taskId) return this.exports.template(promptVariables(this.config.call.defaultPrompt));
    return this.exports.template(variablesOf(await this.taskOr404(tenantId, taskId)));
  }

  /** A rejected import's problems as xlsx. Kept until its expiry (7 days by default). */
  async importErrors(tenantId: string, importId: string): Promise<Buffer> {
    const doc = await this.repos.imports.getImport(tenantId, importId);
    if (!doc || doc.kind === 'idempotency-key') throw new NotFound(`import ${importId}`);
    return this.exports.errorsWorkbook(doc.problems ?? [], doc.report?.problemCount ?? 0);
  }

  /** 申请导出号码详情: number details, CSV streamed bucket by bucket, or xlsx. */
  async exportDetails(
    tenantId: string,
    taskId: string,
    format: 'csv' | 'xlsx',
    fullNumbers: boolean,
  ): Promise<{ stream: Readable } | { buffer: Buffer }> {
    const task = await this.taskOr404(tenantId, taskId);
    return format === 'csv'
      ? { stream: this.exports.csv(task, fullNumbers) }
      : { buffer: await this.exports.xlsx(task, fullNumbers) };
  }

  /** The tenant's task, or 404: another tenant's task is indistinguishable from a missing one. */
  async taskOr404(tenantId: string, taskId: string): Promise<TaskDoc> {
    const task = await this.repos.tasks.get(tenantId, taskId);
    if (!task) throw new NotFound(`task ${taskId}`);
    return task;
  }

  private view(task: TaskDoc) {
    const byResult = Object.fromEntries(
      Object.entries(task.stats.byResult ?? {}).map(([code, n]) => [
        code,
        { label: CALL_RESULT_LABELS[code as keyof typeof CALL_RESULT_LABELS], count: n },
      ]),
    );
    return {
      id: task._id,
      name: task.name,
      description: task.description,
      status: task.status,
      effectiveImmediately: task.effectiveImmediately,
      aiSeats: task.aiSeats,
      ...(task.startAt ? { startAt: task.startAt } : {}),
      ...(task.cancelledFrom !== undefined ? { cancelledFrom: task.cancelledFrom } : {}),
      calendar: task.calendar,
      retry: task.retry,
      totalContacts: task.totalContacts,
      duplicatesRemoved: task.duplicatesRemoved,
      doNotCall: task.dncFlagged ?? 0,
      stats: { ...task.stats, byResult },
      statistics: taskStatistics(task),
      workflowId: task.workflowId,
      temporalUiUrl: `${this.config.temporal.uiUrl}/namespaces/${encodeURIComponent(this.config.temporal.namespace)}/workflows/${encodeURIComponent(task.workflowId)}`,
      createdAt: task.createdAt,
      updatedAt: task.updatedAt,
    };
  }

  async get(tenantId: string, taskId: string) {
    const task = await this.taskOr404(tenantId, taskId);
    const progress = await this.campaigns.liveProgress(task);
    return { ...this.view(task), ...(progress ? { progress } : {}) };
  }

  async list(tenantId: string, page: number, pageSize: number) {
    const { items, total } = await this.repos.tasks.list(tenantId, (page - 1) * pageSize, pageSize);
    return { page, pageSize, total, items: items.map((t) => this.view(t)) };
  }

  /**
   * ListTaskDetail: one row per contact with its latest attempt. Without filters a page is read from the one or
   * two contact pages and the result buckets that hold it (exact `_id`); a result filter goes through
   * `result_index`, a phone filter through the task's phone hash buckets (see the methods below). Nothing here
   * writes, so a search never holds up the campaign.
   */
  async details(tenantId: string, taskId: string, q: DetailQueryDto, fullNumbers: boolean) {
    const task = await this.taskOr404(tenantId, taskId);
    const page = q.page ?? 1;
    const pageSize = q.pageSize ?? 20;
    const skip = (page - 1) * pageSize;
    const row = (c: PageContact): DetailRow => ({
      index: c.i,
      phone: fullNumbers ? c.phone : maskPhone(c.phone),
      ...(c.name ? { name: c.name } : {}),
      attempts: c.attempts ?? 0,
      redials: Math.max(0, (c.attempts ?? 0) - 1),
      category: categoryOf(c.last?.code),
      ...(c.skipped ? { skipped: c.skipped } : {}),
      // CancelTask stopped admitting contacts at `cancelledFrom`: the ones after it were never dialled.
      ...(!c.skipped && !c.last && task.cancelledFrom !== undefined && c.i >= task.cancelledFrom
        ? { skipped: 'CANCELLED' }
        : {}),
      ...(c.dnc ? { doNotCall: true } : {}),
      ...(c.last
        ? {
            result: c.last.code,
            resultLabel: c.last.label,
            ...(c.last.detail ? { resultDetail: c.last.detail } : {}),
            ...(c.last.tags?.length ? { tags: c.last.tags } : {}),
            ...(c.last.transfer ? { transfer: c.last.transfer, transferSeconds: c.last.transferSeconds } : {}),
            ...(c.last.agentId ? { agentId: c.last.agentId } : {}),
            ...(c.last.handovers?.length
              ? {
                  handovers: c.last.handovers.map((h) =>
                    h.number && !fullNumbers ? { ...h, number: maskPhone(h.number) } : { ...h },
                  ),
                }
              : {}),
            ...(c.last.amd ? { answeringMachine: c.last.amd, answeringMachineCause: c.last.amdCause } : {}),
            hangupBy: c.last.hangupBy,
            startedAt: c.last.startedAt,
            ...(c.last.answeredAt ? { answeredAt: c.last.answeredAt } : {}),
            endedAt: c.last.endedAt,
            ringSeconds: c.last.ringSeconds,
            talkSeconds: c.last.talkSeconds,
            attemptId: c.last.attemptId,
          }
        : {}),
    });
    const found =
      q.phone !== undefined
        ? await this.byPhone(task, q.phone, q.result, skip, pageSize)
        : q.result !== undefined
          ? await this.byResult(task, q.result, skip, pageSize)
          : await this.inOrder(task, skip, pageSize);
    const total = found.total;
    const items = found.contacts.map(row);
    return { page, pageSize, total, items };
  }

  /** Unfiltered: the one or two contact pages that hold the rows and the result buckets of those rows. */
  private async inOrder(task: TaskDoc, skip: number, pageSize: number): Promise<DetailPage> {
    const end = Math.min(skip + pageSize, task.totalContacts);
    const contacts: PageContact[] = [];
    if (skip >= end) return { total: task.totalContacts, contacts };
    const results = await this.repos.pages.results(task.tenantId, task._id, skip, end);
    for (let p = Math.floor(skip / task.pageSize); p * task.pageSize < end && p < task.pages; p++) {
      const doc = await this.repos.pages.contacts(task.tenantId, task._id, p);
      for (const c of doc?.contacts ?? [])
        if (c && c.i >= skip && c.i < end) contacts.push(withResult(c, results.get(c.i)));
    }
    return { total: task.totalContacts, contacts };
  }

  /**
   * Filtered by latest result: `result_index` says how many contacts of each result bucket have that result, so
   * only the index documents up to the page (200 at a million contacts) and the result buckets holding its rows
   * are read, then the rows' contact pages. The total is the task's counter of contacts by latest result.
   */
  private async byResult(task: TaskDoc, code: CallResultCode, skip: number, pageSize: number): Promise<DetailPage> {
    const counted = task.stats.latest?.[code] ?? 0;
    const want = skip + pageSize;
    const hits: [number, ContactResult][] = [];
    const indexDocs = Math.ceil(Math.ceil(task.totalContacts / RESULT_BUCKET) / RESULT_INDEX_SPAN);
    let seen = 0;
    let indexed = false;
    for (let k = 0; k < indexDocs && seen < want; k++) {
      const index = await this.repos.pages.resultIndex(task.tenantId, task._id, k);
      if (index.size) indexed = true;
      for (const n of [...index.keys()].sort((a, b) => a - b)) {
        const count = index.get(n)?.[code] ?? 0;
        if (count <= 0) continue;
        if (seen >= want) break;
        if (seen + count <= skip) {
          seen += count;
          continue;
        }
        const bucket = [...(await this.repos.pages.resultBucket(task.tenantId, task._id, n))]
          .filter(([i, r]) => r.last?.code === code && i < task.totalContacts)
          .sort(([a], [b]) => a - b);
        for (const hit of bucket) {
          if (seen >= skip && seen < want) hits.push(hit);
          seen++;
        }
      }
    }
    // Results recorded before result buckets existed are in the contact pages only: scan those (older tasks).
    if (!indexed && (counted > 0 || (task.stats.latest === undefined && task.stats.attempts > 0)))
      return this.scan(task, (c) => c.last?.code === code, skip, pageSize);
    const contacts: PageContact[] = [];
    const pages = new Map<number, Map<number, PageContact>>();
    for (const [i, r] of hits) {
      const p = Math.floor(i / task.pageSize);
      let page = pages.get(p);
      if (!page) {
        const doc = await this.repos.pages.contacts(task.tenantId, task._id, p);
        pages.set(p, (page = new Map((doc?.contacts ?? []).filter(Boolean).map((c) => [c.i, c]))));
      }
      const c = page.get(i);
      if (c) contacts.push(withResult(c, r));
    }
    return { total: task.stats.latest ? Math.max(counted, 0) : seen, contacts };
  }

  /**
   * Filtered by the number (and maybe the result): the task's phone hash buckets (`contact_phones`, 256 exact-`_id`
   * documents, written by every import) give the matching contacts' indices — a full number reads only its own bucket,
   * other digits (a substring search) read all of them; only the rows' pages are read, and the result buckets only of
   * candidates when a result is asked for. A task without phone buckets is scanned.
   */
  private async byPhone(
    task: TaskDoc,
    query: string,
    code: CallResultCode | undefined,
    skip: number,
    pageSize: number,
  ): Promise<DetailPage> {
    const full = normalisePhone(query);
    const digits = query.replace(/^\+/, '');
    const key = full.ok ? full.e164.replace(/^\+/, '') : undefined;
    const matches = (number: string) => (key !== undefined ? number === key : number.includes(digits));
    let indices: number[] = [];
    let entries = 0;
    const buckets = full.ok ? [phoneBucketOf(full.e164)] : Array.from({ length: PHONE_BUCKETS }, (_, b) => b);
    for (const b of buckets) {
      const bucket = await this.repos.imports.phoneBucket(task.tenantId, task._id, b);
      entries += bucket.size;
      for (const [number, i] of bucket) if (i < task.totalContacts && matches(number)) indices.push(i);
    }
    const legacy = code !== undefined && task.stats.attempts > 0 && !(await this.hasResultIndex(task));
    // No entries at all: a task from before the phone buckets (or, for a full number, maybe just an empty bucket of a
    // small list — the scan then finds nothing either, quickly).
    if ((!entries && task.totalContacts > 0) || legacy)
      return this.scan(
        task,
        (c) => matches(c.phone.replace(/^\+/, '')) && (code === undefined || c.last?.code === code),
        skip,
        pageSize,
      );
    indices.sort((a, b) => a - b);
    const results = new Map<number, ContactResult>();
    if (code !== undefined) {
      const buckets = [...new Set(indices.map((i) => Math.floor(i / RESULT_BUCKET)))];
      for (const n of buckets)
        for (const [i, r] of await this.repos.pages.resultBucket(task.tenantId, task._id, n)) results.set(i, r);
      indices = indices.filter((i) => results.get(i)?.last?.code === code);
    }
    const wanted = indices.slice(skip, skip + pageSize);
    if (code === undefined && wanted.length)
      for (const [i, r] of await this.repos.pages.results(task.tenantId, task._id, wanted[0]!, wanted.at(-1)! + 1))
        results.set(i, r);
    const contacts: PageContact[] = [];
    const pages = new Map<number, Map<number, PageContact>>();
    for (const i of wanted) {
      const p = Math.floor(i / task.pageSize);
      let page = pages.get(p);
      if (!page) {
        const doc = await this.repos.pages.contacts(task.tenantId, task._id, p);
        pages.set(p, (page = new Map((doc?.contacts ?? []).filter(Boolean).map((c) => [c.i, c]))));
      }
      const c = page.get(i);
      if (c) contacts.push(withResult(c, results.get(i)));
    }
    return { total: indices.length, contacts };
  }

  /** Whether the task's results are counted in `result_index` (not so for results from before it existed). */
  private async hasResultIndex(task: TaskDoc): Promise<boolean> {
    const indexDocs = Math.ceil(Math.ceil(task.totalContacts / RESULT_BUCKET) / RESULT_INDEX_SPAN);
    for (let k = 0; k < indexDocs; k++)
      if ((await this.repos.pages.resultIndex(task.tenantId, task._id, k)).size) return true;
    return false;
  }

  /** Every contact page with its results, in list order (tasks from before the result buckets and phone buckets). */
  private async scan(
    task: TaskDoc,
    match: (c: PageContact) => boolean,
    skip: number,
    pageSize: number,
  ): Promise<DetailPage> {
    let total = 0;
    const contacts: PageContact[] = [];
    for (let p = 0; p < task.pages; p++) {
      const doc = await this.repos.pages.get(task.tenantId, task._id, p);
      for (const c of doc?.contacts ?? []) {
        // Slots past the end of the list belong to an import that has not committed (or failed): not the list.
        if (!c || c.i >= task.totalContacts || !match(c)) continue;
        if (total >= skip && contacts.length < pageSize) contacts.push(c);
        total++;
      }
    }
    return { total, contacts };
  }
}

/** Contacts of one page of ListTaskDetail, with their results, and how many contacts match in all. */
interface DetailPage {
  total: number;
  contacts: PageContact[];
}

/** The `${variables}` a task's contacts must give: its script's, or its prompt's. */
function variablesOf(task: Pick<TaskDoc, 'prompt' | 'script'>): string[] {
  return task.script ? task.script.variables : promptVariables(task.prompt);
}
