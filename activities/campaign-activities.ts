/**
 * Campaign bookkeeping activities (MongoDB only): paging contacts into the campaign workflow and recording outcomes.
 * Built by a factory over injected repositories so tests and the worker wire the same code.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { CallRepository, ContactPageRepository, TaskRepository } from './mongo/repositories';
import type { TenantSeatRepository } from './mongo/tenant-seats';
import { toLastAttempt } from './mongo/repositories';
import type { Logger } from './logger';
import type { AttemptOutcome, ContactRef, TaskStatus } from '../workflows/definitions';

export interface CampaignActivityDeps {
  tasks: TaskRepository;
  pages: ContactPageRepository;
  calls: CallRepository;
  seats: TenantSeatRepository;
  logger: Logger;
}

export interface RecordAttemptInput {
  tenantId: string;
  taskId: string;
  contactIndex: number;
  outcome: AttemptOutcome;
}

export function createCampaignActivities({ tasks, pages, calls, seats, logger }: CampaignActivityDeps) {
  async function taskOrFail(tenantId: string, taskId: string) {
    const task = await tasks.get(tenantId, taskId);
    if (!task) throw ApplicationFailure.nonRetryable(`task ${taskId} not found`, 'TaskNotFound');
    return task;
  }

  return {
    /** One bucket of contacts, in list order. Payloads stay small: one page is a few hundred contacts. */
    async loadContactPage(tenantId: string, taskId: string, page: number): Promise<ContactRef[]> {
      const doc = await pages.get(tenantId, taskId, page);
      if (!doc) throw ApplicationFailure.nonRetryable(`page ${page} of task ${taskId} not found`, 'PageNotFound');
      return doc.contacts.map((c) => ({
        index: c.i,
        phone: c.phone,
        variables: c.vars ?? {},
        ...(c.name ? { name: c.name } : {}),
        ...(c.tz ? { timezone: c.tz } : {}),
        ...(c.dnc ? { doNotCall: true } : {}),
      }));
    },

    async setTaskStatus(tenantId: string, taskId: string, status: TaskStatus): Promise<void> {
      await tasks.setStatus(tenantId, taskId, status);
      logger.info({ taskId, status }, 'task status');
    },

    /**
     * The campaign is over: store its final status, mark where a cancelled one stopped admitting contacts (every
     * contact from there on is 已取消, never dialled), and give the task's AI seats back to the tenant pool.
     */
    async finishTask(tenantId: string, taskId: string, status: 'COMPLETED' | 'CANCELLED', admitted: number) {
      await tasks.finish(tenantId, taskId, status, status === 'CANCELLED' ? admitted : undefined);
      await seats.release(tenantId, taskId);
      logger.info({ taskId, status, admitted }, 'task finished');
    },

    /** Idempotent: the call record is keyed by attempt id and the counters move only on its first finalisation. */
    async recordAttempt({ tenantId, taskId, contactIndex, outcome }: RecordAttemptInput): Promise<void> {
      const task = await taskOrFail(tenantId, taskId);
      const page = await pages.get(tenantId, taskId, Math.floor(contactIndex / task.pageSize));
      const phone = page?.contacts[contactIndex % task.pageSize]?.phone ?? '';
      // The dial activity already stored the record; finalising again is a no-op that covers older executions.
      await calls.finalize(tenantId, outcome, { taskId, contactIndex, phone });
      await pages.setLastAttempt(tenantId, taskId, task.pageSize, contactIndex, toLastAttempt(outcome));
      if (await calls.markCounted(tenantId, outcome.attemptId)) await tasks.countAttempt(tenantId, taskId, outcome);
      logger.info(
        {
          taskId,
          attemptId: outcome.attemptId,
          result: outcome.code,
          hangupBy: outcome.hangupBy,
          talkSeconds: outcome.talkSeconds,
        },
        'attempt recorded',
      );
    },

    async recordSkipped(tenantId: string, taskId: string, contactIndex: number, reason: string): Promise<void> {
      const task = await taskOrFail(tenantId, taskId);
      await pages.markSkipped(tenantId, taskId, task.pageSize, contactIndex, reason);
    },
  };
}
