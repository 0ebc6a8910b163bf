/**
 * Repositories own the database: nothing else touches a Model. Every method takes the tenant, and one tenant can
 * never read or change another's documents.
 *
 * **Hot-path filters are `{ _id }` and nothing else.** FerretDB 1.24 (SQLite) pushes a filter down to SQL only when
 * it is exactly `{ _id: <string> }`; one more field (even `tenantId`) makes it decode every document of the
 * collection in Go — seconds at a million documents (README "Data layout at a million contacts";
 * test/integration/hot-path.spec.ts enforces it). So reads check the tenant of the document they got back
 * ({@link ofTenant}), and writes address the document by `_id` alone: every hot-path `_id` embeds the task's random
 * id, which the caller obtained through a tenant-checked read (the API's taskOr404, or the workflow the API started).
 * Conditional writes that used to be filter predicates are insert-only markers (`call_marks`, unique by `_id`:
 * first writer wins, on MongoDB across processes too) or a read under the per-document lock.
 */
import type { Models, CallDoc, ContactPageDoc, LastAttempt, PageContact, TaskDoc } from './schemas';
import type { AttemptOutcome, TaskStatus } from '../../workflows/definitions';

import { withDocLock } from './doc-lock';

const DUPLICATE_KEY = 11000;

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === DUPLICATE_KEY;
}

export const pageId = (taskId: string, page: number): string => `${taskId}/${page}`;

/** A document read by `_id` alone, if it belongs to the tenant (another tenant's document is as good as missing). */
export function ofTenant<T extends { tenantId?: string }>(doc: T | null, tenantId: string): T | null {
  return doc && doc.tenantId === tenantId ? doc : null;
}

export class TaskRepository {
  constructor(private readonly m: Models) {}

  /**
   * Store a task and its list. Pages go first and the task last: until the task document exists the pages are
   * unreachable, and if anything fails the pages written so far are removed, so a failed create leaves nothing.
   */
  async create(task: Omit<TaskDoc, 'createdAt' | 'updatedAt'>, pages: ContactPageDoc[]): Promise<void> {
    try {
      for (let i = 0; i < pages.length; i += 50) {
        await this.m.contactPages.insertMany(pages.slice(i, i + 50), { ordered: true });
      }
      await this.m.tasks.create(task);
    } catch (err) {
      await this.m.contactPages.deleteMany({ _id: { $in: pages.map((p) => p._id) }, tenantId: task.tenantId });
      throw err;
    }
  }

  async get(tenantId: string, taskId: string): Promise<TaskDoc | null> {
    return ofTenant(await this.m.tasks.findOne({ _id: taskId }).lean<TaskDoc>().exec(), tenantId);
  }

  async list(tenantId: string, skip: number, limit: number): Promise<{ items: TaskDoc[]; total: number }> {
    const [items, total] = await Promise.all([
      this.m.tasks.find({ tenantId }).sort({ createdAt: -1 }).skip(skip).limit(limit).lean<TaskDoc[]>().exec(),
      this.m.tasks.countDocuments({ tenantId }).exec(),
    ]);
    return { items, total };
  }

  async setStatus(_tenantId: string, taskId: string, status: TaskStatus): Promise<void> {
    await withDocLock(`tasks/${taskId}`, () => this.m.tasks.updateOne({ _id: taskId }, { $set: { status } }).exec());
  }

  async setSeats(_tenantId: string, taskId: string, aiSeats: number): Promise<void> {
    await withDocLock(`tasks/${taskId}`, () => this.m.tasks.updateOne({ _id: taskId }, { $set: { aiSeats } }).exec());
  }

  /** The campaign ended: record its final status and, for a cancelled one, where admission stopped. */
  async finish(_tenantId: string, taskId: string, status: TaskStatus, cancelledFrom?: number): Promise<void> {
    await withDocLock(`tasks/${taskId}`, () =>
      this.m.tasks
        .updateOne({ _id: taskId }, { $set: { status, ...(cancelledFrom !== undefined ? { cancelledFrom } : {}) } })
        .exec(),
    );
  }

  /** Count a finished attempt into the task's statistics; called once per attempt (see CallRepository.finalize). */
  async countAttempt(tenantId: string, taskId: string, o: AttemptOutcome): Promise<void> {
    // `latest` counts contacts by their latest result: a redial moves its contact off the previous attempt's result.
    // Attempt n+1 starts only after attempt n is recorded, so the previous record is final; one exact-`_id` read.
    const previous =
      o.attempt > 1
        ? ofTenant(
            await this.m.calls
              .findOne({ _id: o.attemptId.replace(/-\d+$/, `-${o.attempt - 1}`) }, { code: 1, tenantId: 1 })
              .lean<Pick<CallDoc, 'code' | 'tenantId'>>()
              .exec(),
            tenantId,
          )
        : null;
    const inc: Record<string, number> = {
      'stats.attempts': 1,
      [`stats.byResult.${o.code}`]: 1,
      'stats.answered': o.code === 'SUCCESS' ? 1 : 0,
      'stats.talkSeconds': o.talkSeconds,
      'stats.dialled': o.attempt === 1 ? 1 : 0,
      [`stats.latest.${o.code}`]: 1,
    };
    if (previous?.code) inc[`stats.latest.${previous.code}`] = (inc[`stats.latest.${previous.code}`] ?? 0) - 1;
    await withDocLock(`tasks/${taskId}`, () => this.m.tasks.updateOne({ _id: taskId }, { $inc: inc }).exec());
  }
}

export class ContactPageRepository {
  constructor(private readonly m: Models) {}

  async get(tenantId: string, taskId: string, page: number): Promise<ContactPageDoc | null> {
    return ofTenant(
      await this.m.contactPages
        .findOne({ _id: pageId(taskId, page) })
        .lean<ContactPageDoc>()
        .exec(),
      tenantId,
    );
  }

  /** Write a contact's latest attempt into its bucket: one exact-`_id` update. */
  async setLastAttempt(
    _tenantId: string,
    taskId: string,
    pageSize: number,
    index: number,
    last: LastAttempt,
  ): Promise<void> {
    const slot = index % pageSize;
    const id = pageId(taskId, Math.floor(index / pageSize));
    const res = await withDocLock(`contact_pages/${id}`, () =>
      this.m.contactPages
        .updateOne(
          { _id: id },
          { $set: { [`contacts.${slot}.last`]: last, [`contacts.${slot}.attempts`]: last.attempt } },
        )
        .exec(),
    );
    if (res.matchedCount !== 1) throw new Error(`contact page of ${taskId}#${index} not found`);
  }

  async markSkipped(_tenantId: string, taskId: string, pageSize: number, index: number, reason: string): Promise<void> {
    const slot = index % pageSize;
    const id = pageId(taskId, Math.floor(index / pageSize));
    await withDocLock(`contact_pages/${id}`, () =>
      this.m.contactPages.updateOne({ _id: id }, { $set: { [`contacts.${slot}.skipped`]: reason } }).exec(),
    );
  }
}

export type Claim = { claimed: true } | { claimed: false; existing: CallDoc };

export class CallRepository {
  constructor(private readonly m: Models) {}

  /**
   * Claim an attempt id before dialling it. The insert is keyed by the attempt id, so of two activity executions
   * for the same attempt only the first may dial; the second gets the existing record and must reconcile.
   */
  async claim(
    doc: Pick<CallDoc, '_id' | 'tenantId' | 'taskId' | 'contactIndex' | 'attempt' | 'phone' | 'callerNumber'>,
  ): Promise<Claim> {
    try {
      await this.m.calls.create({ ...doc, state: 'dialling', claimedAt: new Date() });
      return { claimed: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await this.get(doc.tenantId, doc._id);
      if (!existing) throw err;
      return { claimed: false, existing };
    }
  }

  /** Give back a claim that was never dialled (the attempt was deferred), so the attempt can be claimed again. */
  async release(tenantId: string, attemptId: string): Promise<void> {
    await withDocLock(`calls/${attemptId}`, async () => {
      const doc = await this.get(tenantId, attemptId);
      if (doc?.state === 'dialling') await this.m.calls.deleteOne({ _id: attemptId }).exec();
    });
  }

  /** Insert a marker; true only for its first writer (the `_id` is unique, on every server and across processes). */
  private async mark(tenantId: string, id: string): Promise<boolean> {
    try {
      await this.m.callMarks.create({ _id: id, tenantId, at: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Store the final outcome (idempotent: a record that is already final is left as it is). True only for the first
   * finalisation: the `<attemptId>/final` marker decides, then the record is written by `_id` alone.
   */
  async finalize(
    tenantId: string,
    o: AttemptOutcome,
    base: Pick<CallDoc, 'taskId' | 'contactIndex' | 'phone'>,
  ): Promise<boolean> {
    const final: Partial<CallDoc> = {
      state: 'final',
      code: o.code,
      label: o.label,
      hangupBy: o.hangupBy,
      startedAt: new Date(o.startedAt),
      endedAt: new Date(o.endedAt),
      ringSeconds: o.ringSeconds,
      talkSeconds: o.talkSeconds,
      dtmf: o.dtmf,
      ...(o.answeredAt ? { answeredAt: new Date(o.answeredAt) } : {}),
      ...(o.cause !== undefined ? { cause: o.cause } : {}),
      ...(o.causeText ? { causeText: o.causeText } : {}),
      ...(o.note ? { note: o.note } : {}),
      ...(o.detail ? { detail: o.detail } : {}),
    };
    const first = await this.mark(tenantId, `${o.attemptId}/final`);
    // Stored before; write only if a crash came between the marker and the record (the record is not final).
    if (!first && (await this.get(tenantId, o.attemptId))?.state === 'final') return false;
    await withDocLock(`calls/${o.attemptId}`, () =>
      this.m.calls
        .updateOne(
          { _id: o.attemptId },
          { $set: final, $setOnInsert: { ...base, tenantId, attempt: o.attempt, claimedAt: new Date(o.startedAt) } },
          { upsert: true },
        )
        .exec(),
    );
    return first;
  }

  /**
   * Mark the attempt as counted in its task's statistics. True only the first time, so counters move once per
   * attempt however often the recording activity is retried.
   */
  async markCounted(tenantId: string, attemptId: string): Promise<boolean> {
    return this.mark(tenantId, `${attemptId}/counted`);
  }

  async get(tenantId: string, attemptId: string): Promise<CallDoc | null> {
    return ofTenant(await this.m.calls.findOne({ _id: attemptId }).lean<CallDoc>().exec(), tenantId);
  }

  /**
   * Attach the call's recording, or update it (retention sets `deletedAt`). False if the tenant has no such call.
   * `strict: false` keeps the field although callSchema does not declare it yet.
   */
  async setRecording(tenantId: string, attemptId: string, info: CallRecording): Promise<boolean> {
    return withDocLock(`calls/${attemptId}`, async () => {
      if (!(await this.get(tenantId, attemptId))) return false;
      await this.m.calls.updateOne({ _id: attemptId }, { $set: { recording: info } }, { strict: false }).exec();
      return true;
    });
  }

  /**
   * **Across tenants, for the recording retention sweep only** (a platform job that starts from Asterisk's list
   * of stored recordings, named by attempt id): whose call a recording belongs to and when it ended. One exact-`_id`
   * read.
   */
  async recordingOwner(
    attemptId: string,
  ): Promise<(Pick<CallDoc, '_id' | 'tenantId' | 'endedAt' | 'claimedAt'> & { recording?: CallRecording }) | null> {
    return this.m.calls
      .findOne({ _id: attemptId }, { tenantId: 1, endedAt: 1, claimedAt: 1, recording: 1 })
      .lean<Pick<CallDoc, '_id' | 'tenantId' | 'endedAt' | 'claimedAt'> & { recording?: CallRecording }>()
      .exec();
  }
}

/** A call's recording as its record keeps it (issue #5). */
export interface CallRecording {
  /** Asterisk's stored recording name: the attempt id. */
  name: string;
  format: 'wav';
  /** As Asterisk reported it (whole seconds). */
  durationSeconds?: number;
  /** Set when the retention sweep deleted the file. */
  deletedAt?: Date;
}

/** The outcome a final call record holds (the inverse of CallRepository.finalize); undefined if not final. */
export function storedOutcome(doc: CallDoc): AttemptOutcome | undefined {
  if (doc.state !== 'final' || !doc.code || !doc.startedAt || !doc.endedAt) return undefined;
  return {
    attemptId: doc._id,
    attempt: doc.attempt,
    code: doc.code,
    label: doc.label ?? '',
    hangupBy: doc.hangupBy ?? 'SYSTEM',
    startedAt: doc.startedAt.toISOString(),
    endedAt: doc.endedAt.toISOString(),
    ringSeconds: doc.ringSeconds ?? 0,
    talkSeconds: doc.talkSeconds ?? 0,
    dtmf: doc.dtmf ?? [],
    ...(doc.answeredAt ? { answeredAt: doc.answeredAt.toISOString() } : {}),
    ...(doc.cause !== undefined ? { cause: doc.cause } : {}),
    ...(doc.causeText ? { causeText: doc.causeText } : {}),
    ...(doc.note ? { note: doc.note } : {}),
    ...(doc.detail ? { detail: doc.detail } : {}),
  };
}

export function toLastAttempt(o: AttemptOutcome): LastAttempt {
  return {
    attemptId: o.attemptId,
    attempt: o.attempt,
    code: o.code,
    label: o.label,
    hangupBy: o.hangupBy,
    startedAt: new Date(o.startedAt),
    endedAt: new Date(o.endedAt),
    ringSeconds: o.ringSeconds,
    talkSeconds: o.talkSeconds,
    ...(o.answeredAt ? { answeredAt: new Date(o.answeredAt) } : {}),
    ...(o.detail ? { detail: o.detail } : {}),
    ...(o.tags?.length ? { tags: [...o.tags] } : {}),
    ...(o.transfer ? { transfer: o.transfer.kind } : {}),
    ...(o.agentId ? { agentId: o.agentId } : {}),
  };
}

export type { PageContact };
