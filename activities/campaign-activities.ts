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
  /**
   * The contact's number (the workflow has it from loadContactPage). Optional: histories recorded before it was
   * added still replay; without it the number is read from the contact's page, and only if the call record is
   * missing (the only case that needs it).
   */
  phone?: string;
}

export function createCampaignActivities({ tasks, pages, calls, seats, logger }: CampaignActivityDeps) {
  async function taskOrFail(tenantId: string, taskId: string) {
    const task = await tasks.get(tenantId, taskId);
    if (!task) throw ApplicationFailure.nonRetryable(`task ${taskId} not found`, 'TaskNotFound');
    return task;
  }

  /** A contact's number from its page (recordAttempt of an older history, when the call record is missing). */
  async function phoneOf(tenantId: string, taskId: string, contactIndex: number): Promise<string> {
    const task = await taskOrFail(tenantId, taskId);
    const page = await pages.contacts(tenantId, taskId, Math.floor(contactIndex / task.pageSize));
    return page?.contacts[contactIndex % task.pageSize]?.phone ?? '';
  }

  return {
    /** One bucket of contacts, in list order. Payloads stay small: one page is a few hundred contacts. */
    async loadContactPage(tenantId: string, taskId: string, page: number): Promise<ContactRef[]> {
      const doc = await pages.contacts(tenantId, taskId, page);
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

    /**
     * Idempotent: the call record is keyed by attempt id, the result is a `$set` of the contact's slot, and the
     * counters move only the first time the slot receives this attempt (ContactPageRepository.recordResult: the
     * write returns the slot as it was, which also gives the contact's previous result). Every step is an
     * exact-`_id` operation on a small document; independent ones run together: the call-record check beside the
     * result write, then the task counters beside the result index (both group-committed per document).
     */
    async recordAttempt({ tenantId, taskId, contactIndex, outcome, phone }: RecordAttemptInput): Promise<void> {
      const storeRecord = async () => {
        // The dial activity already stored the final record (its outcome says so; older histories' outcomes do not,
        // then the record is read); finalise here only for executions that did not.
        if (outcome.stored || (await calls.get(tenantId, outcome.attemptId))?.state === 'final') return;
        const number = phone ?? (await phoneOf(tenantId, taskId, contactIndex));
        await calls.finalize(tenantId, outcome, { taskId, contactIndex, phone: number });
      };
      const storeResult = async () => {
        const slot = await pages.recordResult(tenantId, taskId, contactIndex, toLastAttempt(outcome));
        if (!slot.counted) return;
        const previous = slot.previous === 'unknown' ? await tasks.previousResult(tenantId, outcome) : slot.previous;
        await Promise.all([
          tasks.countAttempt(tenantId, taskId, outcome, { previous }),
          pages.countResult(tenantId, taskId, contactIndex, outcome.code, previous),
        ]);
      };
      await Promise.all([storeRecord(), storeResult()]);
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
