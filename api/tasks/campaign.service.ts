/**
 * The supervisor's side of a task: starting its campaign workflow, pausing, resuming and cancelling it, and reading
 * its live progress. Everything here talks to Temporal; the stored task is updated to match.
 */
import { forwardRef, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Config } from '../../config/config';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import type { TaskDoc } from '../../activities/mongo/schemas';
import { DomainError, NotFound } from '../../src/errors';
import type { campaignWorkflow } from '../../workflows/campaign';
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  type CampaignProgress,
  type CampaignTask,
} from '../../workflows/definitions';
import { CONFIG, LOGGER, REPOSITORIES, TEMPORAL } from '../common/tokens';
import { TasksService } from './tasks.service';

@Injectable()
export class CampaignService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(TEMPORAL) private readonly temporal: Client,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(forwardRef(() => TasksService)) private readonly tasks: TasksService,
  ) {}

  snapshot(task: Omit<TaskDoc, 'createdAt' | 'updatedAt'>): CampaignTask {
    return {
      tenantId: task.tenantId,
      taskId: task._id,
      calendar: task.calendar,
      retry: task.retry,
      aiSeats: task.aiSeats,
      totalContacts: task.totalContacts,
      pageSize: task.pageSize,
      prompt: task.prompt,
      mediaTaskQueue: this.config.temporal.mediaTaskQueue,
      ...(task.callerNumber ? { callerNumber: task.callerNumber } : {}),
    };
  }

  async startWorkflow(task: Omit<TaskDoc, 'createdAt' | 'updatedAt'>): Promise<void> {
    try {
      await this.temporal.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: task.workflowId,
        taskQueue: this.config.temporal.taskQueue,
        args: [{ task: this.snapshot(task) }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      this.logger.error({ err, taskId: task._id }, 'could not start the campaign workflow');
      throw new ServiceUnavailableException(
        'the task was saved but its campaign could not be started; retry StartTask',
      );
    }
    await this.repos.tasks.setStatus(task.tenantId, task._id, 'RUNNING');
  }

  private async taskOr404(tenantId: string, taskId: string): Promise<TaskDoc> {
    const task = await this.repos.tasks.get(tenantId, taskId);
    if (!task) throw new NotFound(`task ${taskId}`);
    return task;
  }

  /** StartTask: start a task that has not started, or resume a paused one. */
  async start(tenantId: string, taskId: string) {
    const task = await this.taskOr404(tenantId, taskId);
    if (task.status === 'NOT_STARTED') await this.startWorkflow(task);
    else if (task.status === 'PAUSED') {
      await this.signal(task, resumeSignal);
      await this.repos.tasks.setStatus(tenantId, taskId, 'RUNNING');
    } else if (task.status !== 'RUNNING') throw new DomainError(`task is ${task.status} and cannot be started`, 409);
    return this.tasks.get(tenantId, taskId);
  }

  /** StopTask: pause — no new calls; calls in progress finish. */
  async stop(tenantId: string, taskId: string) {
    const task = await this.taskOr404(tenantId, taskId);
    if (task.status !== 'RUNNING')
      throw new DomainError(`task is ${task.status}; only a running task can be paused`, 409);
    await this.signal(task, pauseSignal);
    await this.repos.tasks.setStatus(tenantId, taskId, 'PAUSED');
    return this.tasks.get(tenantId, taskId);
  }

  /** CancelTask: terminal; contacts not yet dialled are never dialled. */
  async cancel(tenantId: string, taskId: string) {
    const task = await this.taskOr404(tenantId, taskId);
    if (task.status === 'COMPLETED' || task.status === 'CANCELLED')
      throw new DomainError(`task is already ${task.status}`, 409);
    if (task.status !== 'NOT_STARTED') await this.signal(task, cancelSignal);
    await this.repos.tasks.setStatus(tenantId, taskId, 'CANCELLED');
    return this.tasks.get(tenantId, taskId);
  }

  private async signal(task: TaskDoc, signal: SignalDefinition<[], string>): Promise<void> {
    try {
      await this.temporal.workflow.getHandle(task.workflowId).signal(signal);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new DomainError('the task’s campaign is no longer running', 409);
      this.logger.error({ err, taskId: task._id }, 'signal failed');
      throw new ServiceUnavailableException('the workflow service is unavailable; retry');
    }
  }

  async liveProgress(task: TaskDoc): Promise<CampaignProgress | undefined> {
    if (task.status !== 'RUNNING' && task.status !== 'PAUSED') return undefined;
    try {
      return await this.temporal.workflow.getHandle(task.workflowId).query(progressQuery);
    } catch {
      return undefined; // live progress is best-effort; the stored counters are authoritative
    }
  }
}
