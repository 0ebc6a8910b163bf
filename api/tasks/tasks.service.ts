/**
 * Task management: CreateTask (definition + list, validated whole before anything is written), ListTask, GetTask
 * and ListTaskDetail. Starting, pausing and cancelling the campaign is CampaignService's.
 */
import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../config/config';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import type { ContactPageDoc, PageContact, TaskDoc } from '../../activities/mongo/schemas';
import { openSegments } from '../../src/calendar';
import { categoryOf, CALL_RESULT_LABELS } from '../../src/call-result';
import { parseContactCsv } from '../../src/contact-list';
import { NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import { taskWorkflowId } from '../../src/ids';
import { maskPhone } from '../../src/phone';
import { CONFIG, LOGGER, REPOSITORIES } from '../common/tokens';
import { CampaignService } from './campaign.service';
import type { CreateTaskDto, DetailQueryDto } from './task.dto';

/** Contacts per bucket document (see activities/mongo/schemas.ts). */
export const PAGE_SIZE = 500;
/** The product's promise per task; the upload limit is enforced before anything is stored. */
export const MAX_CONTACTS = 1_000_000;

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
}

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

@Injectable()
export class TasksService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(forwardRef(() => CampaignService)) private readonly campaigns: CampaignService,
  ) {}

  /** Cross-field rules class-validator cannot express; every problem is reported, none stops the others. */
  private checkDefinition(dto: CreateTaskDto): FieldProblem[] {
    const problems: FieldProblem[] = [];
    const zone = dto.timezone ?? this.config.tenantDefaults.timezone;
    if (!validZone(zone)) problems.push({ field: 'timezone', value: zone, reason: 'not an IANA time zone' });
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
    if (!problems.length) {
      windows.forEach((w, i) => {
        if (!openSegments({ windows: [w], blocked: [...this.config.tenantDefaults.blockedHours] }).length)
          problems.push({
            field: `workingWindows.${i}`,
            value: `${w.start}-${w.end}`,
            reason: `lies entirely inside the platform's blocked hours (${this.config.tenantDefaults.blockedHours.map((b) => `${b.start}-${b.end}`).join(', ')})`,
          });
      });
    }
    return problems;
  }

  async create(tenantId: string, dto: CreateTaskDto, file: { buffer: Buffer; originalname: string } | undefined) {
    const problems = this.checkDefinition(dto);
    if (!file) problems.push({ field: 'file', reason: 'a call list (CSV) is required' });
    else if (!/\.csv$/i.test(file.originalname))
      problems.push({ field: 'file', value: file.originalname, reason: 'the call list must be a .csv file' });
    if (problems.length) throw new ValidationFailed('the task definition is invalid', problems);

    const list = parseContactCsv(file!.buffer, { maxContacts: MAX_CONTACTS });
    if (list.problems.length)
      throw new ValidationFailed(
        `the call list has ${list.problems.length} problem(s); nothing was imported`,
        list.problems,
      );
    if (!list.contacts.length)
      throw new ValidationFailed('the call list has no contacts', [{ field: 'file', reason: 'no data rows' }]);

    const taskId = randomBytes(10).toString('hex');
    const pages: ContactPageDoc[] = [];
    for (let p = 0; p * PAGE_SIZE < list.contacts.length; p++) {
      pages.push({
        _id: `${taskId}/${p}`,
        tenantId,
        taskId,
        page: p,
        contacts: list.contacts.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE).map((c, k): PageContact => ({
          i: p * PAGE_SIZE + k,
          phone: c.phone,
          vars: c.variables,
          attempts: 0,
          ...(c.name ? { name: c.name } : {}),
          ...(c.timezone ? { tz: c.timezone } : {}),
        })),
      });
    }
    const task: Omit<TaskDoc, 'createdAt' | 'updatedAt'> = {
      _id: taskId,
      tenantId,
      name: dto.name,
      description: dto.description ?? '',
      status: 'NOT_STARTED',
      effectiveImmediately: dto.effectiveImmediately ?? true,
      calendar: {
        timezone: dto.timezone ?? this.config.tenantDefaults.timezone,
        workingDays: [...dto.workingDays].sort(),
        windows: dto.workingWindows.map((w) => ({ start: w.start, end: w.end })),
        blocked: this.config.tenantDefaults.blockedHours.map((b) => ({ ...b })),
      },
      retry: dto.retry
        ? { reasons: dto.retry.reasons, maxRetries: dto.retry.maxRetries, intervalMinutes: dto.retry.intervalMinutes }
        : { reasons: [], maxRetries: 0, intervalMinutes: 1 },
      aiSeats: dto.aiSeats ?? 1,
      prompt: dto.prompt ?? this.config.call.defaultPrompt,
      ...(dto.callerNumber ? { callerNumber: dto.callerNumber } : {}),
      totalContacts: list.contacts.length,
      pageSize: PAGE_SIZE,
      pages: pages.length,
      duplicatesRemoved: list.duplicates,
      stats: { attempts: 0, finished: 0, answered: 0, talkSeconds: 0, byResult: {} },
      workflowId: taskWorkflowId(taskId),
    };
    await this.repos.tasks.create(task, pages);
    this.logger.info({ taskId, tenantId, contacts: task.totalContacts, duplicates: list.duplicates }, 'task created');
    if (task.effectiveImmediately) await this.campaigns.startWorkflow(task);
    return this.get(tenantId, taskId);
  }

  private async taskOr404(tenantId: string, taskId: string): Promise<TaskDoc> {
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
      calendar: task.calendar,
      retry: task.retry,
      totalContacts: task.totalContacts,
      duplicatesRemoved: task.duplicatesRemoved,
      stats: { ...task.stats, byResult },
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
   * two buckets that hold it (exact `_id`); with filters the buckets are scanned in order.
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
      ...(c.last
        ? {
            result: c.last.code,
            resultLabel: c.last.label,
            ...(c.last.detail ? { resultDetail: c.last.detail } : {}),
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
    const filtered = q.result !== undefined || q.phone !== undefined;
    const items: DetailRow[] = [];
    let total = task.totalContacts;
    if (!filtered) {
      const first = Math.floor(skip / task.pageSize);
      const last = Math.floor(Math.min(skip + pageSize, task.totalContacts) / task.pageSize);
      for (let p = first; p <= last && p < task.pages; p++) {
        const doc = await this.repos.pages.get(tenantId, taskId, p);
        for (const c of doc?.contacts ?? []) if (c.i >= skip && c.i < skip + pageSize) items.push(row(c));
      }
    } else {
      total = 0;
      const digits = q.phone?.replace(/^\+/, '');
      for (let p = 0; p < task.pages; p++) {
        const doc = await this.repos.pages.get(tenantId, taskId, p);
        for (const c of doc?.contacts ?? []) {
          if (q.result !== undefined && c.last?.code !== q.result) continue;
          if (digits !== undefined && !c.phone.includes(digits)) continue;
          if (total >= skip && items.length < pageSize) items.push(row(c));
          total++;
        }
      }
    }
    return { page, pageSize, total, items };
  }
}
