/**
 * The supervisor's side of a task: starting its campaign workflow, pausing, resuming, cancelling, changing its AI
 * seats while it runs, and reading its live progress. Supervisor commands are Temporal updates: the workflow
 * validates them and answers with its progress, so a command the campaign refuses is refused to the caller too.
 * The tenant's AI-seat pool is enforced here, where seats are reserved before a campaign may use them.
 */
import { forwardRef, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { Config } from '../../config/config';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import type { TaskDoc } from '../../activities/mongo/schemas';
import { upcomingHolidays } from '../../activities/mongo/tenant-settings';
import { DomainError, ValidationFailed } from '../../src/errors';
import { forecast, type CallProfile } from '../../src/forecast';
import type { campaignWorkflow } from '../../workflows/campaign';
import { CampaignScheduler } from '../../workflows/campaign-scheduler';
import {
  cancelUpdate,
  listExtendedSignal,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  setSeatsUpdate,
  type CampaignProgress,
  type CampaignTask,
} from '../../workflows/definitions';
import { CONFIG, LOGGER, REPOSITORIES, TEMPORAL } from '../common/tokens';
import { TasksService } from './tasks.service';

type Task = Omit<TaskDoc, 'createdAt' | 'updatedAt'>;

/** Below this many attempts a task's own answer rate is too noisy to forecast with. */
const MIN_MEASURED_ATTEMPTS = 20;
/** Assumptions when nothing is given or measured yet (a typical outbound campaign), returned with the forecast. */
const DEFAULT_PROFILE = { answerRate: 0.4, talkSeconds: 45, setupSeconds: 12, failSeconds: 20 } as const;

@Injectable()
export class CampaignService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(TEMPORAL) private readonly temporal: Client,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(forwardRef(() => TasksService)) private readonly tasks: TasksService,
  ) {}

  /**
   * What the campaign runs with. Blocked hours and holidays are the tenant's settings as they are now (the task's
   * own days, windows and zone are its own); a running campaign keeps the calendar it was started with.
   */
  async snapshot(task: Task): Promise<CampaignTask> {
    const tenant = await this.repos.tenantSettings.get(task.tenantId);
    return {
      tenantId: task.tenantId,
      taskId: task._id,
      calendar: {
        ...task.calendar,
        blocked: tenant.blockedHours,
        holidays: upcomingHolidays(tenant.holidays, Date.now()),
      },
      retry: task.retry,
      aiSeats: task.aiSeats,
      totalContacts: task.totalContacts,
      pageSize: task.pageSize,
      prompt: task.prompt,
      mediaTaskQueue: this.config.temporal.mediaTaskQueue,
      searchAttributes: this.config.temporal.searchAttributes,
      ...(task.callerNumber ? { callerNumber: task.callerNumber } : {}),
      ...(task.callerNumbers?.length ? { callerNumbers: [...task.callerNumbers] } : {}),
      ...(task.script ? { transfer: { ...this.config.transfer, ...task.transfer } } : {}),
      ...(task.amd ? { amd: true } : {}),
      ...(task.script ? { script: { scriptId: task.script.scriptId, version: task.script.version } } : {}),
      ...(task.startAt ? { startAt: new Date(task.startAt).toISOString() } : {}),
    };
  }

  /** AI seats this task may still ask for: the tenant pool minus the seats its other tasks hold. */
  async availableSeats(tenantId: string, taskId?: string): Promise<number> {
    const { aiSeats } = await this.repos.tenantSettings.get(tenantId);
    return this.repos.seats.available(tenantId, aiSeats, taskId);
  }

  private async reserve(task: Task, seats: number): Promise<void> {
    // The pool is read fresh under the tenant's settings lock, so a pool being lowered meanwhile is never exceeded.
    const r = await this.repos.tenantSettings.withPool(task.tenantId, (pool) =>
      this.repos.seats.reserve(task.tenantId, task._id, seats, pool),
    );
    if (!r.ok)
      throw new ValidationFailed(`only ${r.available} AI seat(s) of the tenant's pool are available`, [
        { field: 'aiSeats', value: String(seats), reason: `exceeds the ${r.available} available AI seat(s)` },
      ]);
  }

  /** Reserve the task's seats and start its campaign (which waits for a scheduled start by itself). */
  async startWorkflow(task: Task): Promise<void> {
    await this.reserve(task, task.aiSeats);
    try {
      await this.temporal.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: task.workflowId,
        taskQueue: this.config.temporal.taskQueue,
        args: [{ task: await this.snapshot(task) }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      await this.repos.seats.release(task.tenantId, task._id);
      this.logger.error({ err, taskId: task._id }, 'could not start the campaign workflow');
      throw new ServiceUnavailableException(
        'the task was saved but its campaign could not be started; retry StartTask',
      );
    }
    const scheduled = task.startAt && new Date(task.startAt).getTime() > Date.now();
    if (!scheduled) await this.repos.tasks.setStatus(task.tenantId, task._id, 'RUNNING');
  }

  /** Send a supervisor command to the campaign; its refusal becomes a 409 naming the reason. */
  private async update(
    task: TaskDoc,
    send: (handle: WorkflowHandle) => Promise<CampaignProgress>,
  ): Promise<CampaignProgress> {
    try {
      return await send(this.temporal.workflow.getHandle(task.workflowId));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new DomainError('the task’s campaign is no longer running', 409);
      if (err instanceof WorkflowUpdateFailedError)
        throw new DomainError(`the campaign refused: ${err.cause?.message ?? err.message}`, 409);
      this.logger.error({ err, taskId: task._id }, 'update failed');
      throw new ServiceUnavailableException('the workflow service is unavailable; retry');
    }
  }

  /** StartTask: start a task that has not started, or resume a paused one. */
  async start(tenantId: string, taskId: string) {
    const task = await this.tasks.taskOr404(tenantId, taskId);
    if (task.status === 'NOT_STARTED') await this.startWorkflow(task);
    else if (task.status === 'PAUSED') {
      await this.update(task, (h) => h.executeUpdate(resumeUpdate));
      await this.repos.tasks.setStatus(tenantId, taskId, 'RUNNING');
    } else if (task.status !== 'RUNNING') throw new DomainError(`task is ${task.status} and cannot be started`, 409);
    return this.tasks.get(tenantId, taskId);
  }

  /** StopTask: pause — no new calls; calls in progress finish. The task keeps its AI seats. */
  async stop(tenantId: string, taskId: string) {
    const task = await this.tasks.taskOr404(tenantId, taskId);
    if (task.status !== 'RUNNING')
      throw new DomainError(`task is ${task.status}; only a running task can be paused`, 409);
    await this.update(task, (h) => h.executeUpdate(pauseUpdate));
    await this.repos.tasks.setStatus(tenantId, taskId, 'PAUSED');
    return this.tasks.get(tenantId, taskId);
  }

  /** CancelTask: terminal; contacts not yet dialled are never dialled; calls in progress finish. */
  async cancel(tenantId: string, taskId: string) {
    const task = await this.tasks.taskOr404(tenantId, taskId);
    if (task.status === 'COMPLETED' || task.status === 'CANCELLED')
      throw new DomainError(`task is already ${task.status}`, 409);
    const started = await this.isRunning(task);
    if (started) await this.update(task, (h) => h.executeUpdate(cancelUpdate));
    else await this.repos.seats.release(tenantId, taskId);
    // The campaign records CANCELLED itself when its last call ends; the stored status says so at once.
    await this.repos.tasks.setStatus(tenantId, taskId, 'CANCELLED');
    return this.tasks.get(tenantId, taskId);
  }

  /** Change a running or paused task's AI seats; takes effect at the campaign's next seat decision. */
  async setSeats(tenantId: string, taskId: string, seats: number) {
    const task = await this.tasks.taskOr404(tenantId, taskId);
    if (task.status === 'COMPLETED' || task.status === 'CANCELLED')
      throw new DomainError(`task is ${task.status}; its seats cannot change`, 409);
    const previous = task.aiSeats;
    await this.reserve(task, seats);
    if (await this.isRunning(task)) {
      try {
        await this.update(task, (h) => h.executeUpdate(setSeatsUpdate, { args: [seats] }));
      } catch (err) {
        await this.reserve(task, previous).catch(() => undefined);
        throw err;
      }
    }
    await this.repos.tasks.setSeats(tenantId, taskId, seats);
    return this.tasks.get(tenantId, taskId);
  }

  private async isRunning(task: TaskDoc): Promise<boolean> {
    if (task.status === 'NOT_STARTED') {
      try {
        const d = await this.temporal.workflow.getHandle(task.workflowId).describe();
        return d.status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    }
    return true;
  }

  /**
   * AttachTask grew the list of a task whose campaign may be running: tell the campaign its new total. If the
   * campaign had just completed (the race between its last call and the append), signal-with-start opens a new run
   * that admits from where the old list ended, with the task's seats reserved again.
   */
  async listExtended(task: TaskDoc, previousTotal: number): Promise<void> {
    if (task.status === 'NOT_STARTED' || task.status === 'CANCELLED') return; // read at start / never dialled
    const reopen = task.status === 'COMPLETED';
    if (reopen) await this.reserve(task, task.aiSeats);
    try {
      const snapshot = await this.snapshot(task);
      await this.temporal.workflow.signalWithStart<typeof campaignWorkflow, [number]>('campaignWorkflow', {
        workflowId: task.workflowId,
        taskQueue: this.config.temporal.taskQueue,
        signal: listExtendedSignal,
        signalArgs: [task.totalContacts],
        args: [
          {
            task: snapshot,
            state: { ...CampaignScheduler.initial(snapshot), cursor: previousTotal },
          },
        ],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    } catch (err) {
      this.logger.error({ err, taskId: task._id }, 'could not tell the campaign about appended contacts');
      throw new ServiceUnavailableException('contacts were added but the campaign could not be told; retry StartTask');
    }
    if (reopen) await this.repos.tasks.setStatus(task.tenantId, task._id, 'RUNNING');
  }

  /**
   * Forecast the task's end (src/forecast.ts) from what is left, its seats, calendar and retry policy, and a call
   * profile: the caller's, else what this task has measured (from 20 attempts on), else stated defaults.
   */
  async forecast(tenantId: string, taskId: string, given: { answerRate?: number; talkSeconds?: number }) {
    const task = await this.tasks.taskOr404(tenantId, taskId);
    const progress = await this.liveProgress(task);
    const ended = task.status === 'COMPLETED' || task.status === 'CANCELLED';
    const remainingContacts = ended ? 0 : task.totalContacts - (progress?.finished ?? 0);
    const { attempts = 0, answered = 0, talkSeconds = 0, byResult = {} } = task.stats;
    const measured = attempts >= MIN_MEASURED_ATTEMPTS;
    const failures = attempts - answered;
    const retried = task.retry.reasons.reduce((n, r) => n + (byResult[r] ?? 0), 0);
    const profile: CallProfile = {
      answerRate: given.answerRate ?? (measured ? answered / attempts : DEFAULT_PROFILE.answerRate),
      talkSeconds: given.talkSeconds ?? (measured && answered ? talkSeconds / answered : DEFAULT_PROFILE.talkSeconds),
      setupSeconds: DEFAULT_PROFILE.setupSeconds,
      failSeconds: DEFAULT_PROFILE.failSeconds,
      retryShare: task.retry.reasons.length === 0 ? 0 : measured && failures > 0 ? retried / failures : 1,
    };
    const startAt = task.startAt ? new Date(task.startAt).getTime() : 0;
    const f = forecast({
      nowMs: Math.max(Date.now(), startAt),
      calendar: (await this.snapshot(task)).calendar,
      remainingContacts,
      seats: progress?.seats ?? task.aiSeats,
      maxRetries: task.retry.maxRetries,
      profile,
    });
    return { ...f, remainingContacts, profile, measured: measured && given.answerRate === undefined };
  }

  async liveProgress(task: TaskDoc): Promise<CampaignProgress | undefined> {
    if (task.status === 'COMPLETED') return undefined;
    try {
      return await this.temporal.workflow.getHandle(task.workflowId).query(progressQuery);
    } catch {
      return undefined; // live progress is best-effort; the stored counters are authoritative
    }
  }
}
