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
 * Conditional writes that used to be filter predicates are an insert whose unique `_id` decides (a claim: first
 * writer wins, on MongoDB across processes too), a `findOneAndUpdate` whose before-image decides (a result slot:
 * ContactPageRepository.recordResult; a call's finalisation, CallRepository.finalize) or an atomic `$inc` then a
 * check (frequency caps, dial-counts.ts).
 * Counter increments are group-committed per document (group-commit.ts).
 */
import type {
  Models,
  CallDoc,
  ContactPageDoc,
  ContactResultDoc,
  LastAttempt,
  PageContact,
  ResultIndexDoc,
  TaskCountersDoc,
  TaskDoc,
} from './schemas';
import { RESULT_BUCKET, RESULT_INDEX_SPAN } from './schemas';
import type { UpdateQuery } from 'mongoose';
import { CALL_RESULT_LABELS, type CallResultCode, type HangupBy } from '../../src/call-result';
import { attemptId as attemptIdOf } from '../../src/ids';
import type { AttemptOutcome, TaskStatus } from '../../workflows/definitions';

import { withDocLock } from './doc-lock';
import { incrementBatcher } from './group-commit';

const DUPLICATE_KEY = 11000;

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === DUPLICATE_KEY;
}

export const pageId = (taskId: string, page: number): string => `${taskId}/${page}`;
/** The result bucket of contacts `n * RESULT_BUCKET …` (collection `contact_results`). */
export const resultBucketId = (taskId: string, n: number): string => `${taskId}/r/${n}`;
/** The `result_index` document of result buckets `k * RESULT_INDEX_SPAN …`. */
export const resultIndexId = (taskId: string, k: number): string => `${taskId}/x/${k}`;

/** A document read by `_id` alone, if it belongs to the tenant (another tenant's document is as good as missing). */
export function ofTenant<T extends { tenantId?: string }>(doc: T | null, tenantId: string): T | null {
  return doc && doc.tenantId === tenantId ? doc : null;
}

/**
 * The task counters one counted attempt moves (`tasks.stats`, read by src/list/statistics.ts and the statistics
 * route): attempts, attempts by result, answered attempts and their talk time, contacts dialled (first attempts),
 * contacts by latest result (moved from `previous`), and transfers to human agents — `transferred` for an attempt
 * whose callee was handed to the agents' queue (any transfer outcome), `transferConnected` when an agent took it.
 */
export function attemptIncrements(o: AttemptOutcome, previous: CallResultCode | undefined): Record<string, number> {
  const inc: Record<string, number> = {
    'stats.attempts': 1,
    [`stats.byResult.${o.code}`]: 1,
    'stats.answered': o.code === 'SUCCESS' ? 1 : 0,
    'stats.talkSeconds': o.talkSeconds,
    'stats.dialled': o.attempt === 1 ? 1 : 0,
    [`stats.latest.${o.code}`]: 1,
  };
  if (previous) inc[`stats.latest.${previous}`] = (inc[`stats.latest.${previous}`] ?? 0) - 1;
  if (o.transfer) {
    inc['stats.transferred'] = 1;
    if (o.transfer.kind === 'connected') inc['stats.transferConnected'] = 1;
  }
  return inc;
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

  /** The task with its counters (the task document's own plus its `task_counters` document): two `_id` reads. */
  async get(tenantId: string, taskId: string): Promise<TaskDoc | null> {
    const [task, counters] = await Promise.all([
      this.m.tasks.findOne({ _id: taskId }).lean<TaskDoc>().exec(),
      this.m.taskCounters.findOne({ _id: taskId }).lean<TaskCountersDoc>().exec(),
    ]);
    const own = ofTenant(task, tenantId);
    return own && withCounters(own, ofTenant(counters, tenantId));
  }

  async list(tenantId: string, skip: number, limit: number): Promise<{ items: TaskDoc[]; total: number }> {
    const [items, total] = await Promise.all([
      this.m.tasks.find({ tenantId }).sort({ createdAt: -1 }).skip(skip).limit(limit).lean<TaskDoc[]>().exec(),
      this.m.tasks.countDocuments({ tenantId }).exec(),
    ]);
    // One small document per task; a page of tasks is at most a few hundred ids.
    const counters = await this.m.taskCounters
      .find({ _id: { $in: items.map((t) => t._id) }, tenantId })
      .lean<TaskCountersDoc[]>()
      .exec();
    const byTask = new Map(counters.map((c) => [c._id, c]));
    return { items: items.map((t) => withCounters(t, byTask.get(t._id) ?? null)), total };
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

  /**
   * Count a finished attempt into the task's statistics; called once per attempt (recordAttempt counts only when
   * {@link ContactPageRepository.recordResult} says the attempt is new). `known.previous` is the contact's previous
   * result if the caller knows it; otherwise it is read here ({@link previousResult}). Returns it.
   *
   * One `$inc` of the task's small `task_counters` document (not the task document: see TaskCountersDoc), through
   * the process's group commit ({@link incrementBatcher}): attempts that finish while that document is being
   * written are summed into its next `$inc`, and each call returns only once the write carrying its increments is
   * acknowledged.
   */
  async countAttempt(
    tenantId: string,
    taskId: string,
    o: AttemptOutcome,
    known?: { previous: CallResultCode | undefined },
  ): Promise<CallResultCode | undefined> {
    const previous = known ? { code: known.previous } : { code: await this.previousResult(tenantId, o) };
    await upsertCounts(`task_counters/${taskId}`, attemptIncrements(o, previous.code), (merged) =>
      this.m.taskCounters
        .updateOne({ _id: taskId }, { $inc: merged, $setOnInsert: { tenantId } }, { upsert: true })
        .exec(),
    );
    return previous.code;
  }

  /**
   * The result of the contact's attempt before this one, which this one replaces as its latest (`stats.latest`
   * and `result_index` count contacts by latest result). Attempt n+1 starts only after attempt n is recorded, so
   * the previous record is final; one exact-`_id` read, none for a first attempt.
   */
  async previousResult(tenantId: string, o: AttemptOutcome): Promise<CallResultCode | undefined> {
    if (o.attempt <= 1) return undefined;
    const doc = ofTenant(
      await this.m.calls
        .findOne({ _id: o.attemptId.replace(/-\d+$/, `-${o.attempt - 1}`) }, { code: 1, tenantId: 1 })
        .lean<Pick<CallDoc, 'code' | 'tenantId'>>()
        .exec(),
      tenantId,
    );
    return doc?.code;
  }
}

/**
 * Add `inc` to a counters document through the process's group commit (group-commit.ts: increments that arrive
 * while the document `key` is being written share its next `$inc`). `upsert` writes a merged `$inc`, creating the
 * document if it is missing; two processes creating it at once: one insert wins, the other's retry updates it.
 */
function upsertCounts(
  key: string,
  inc: Record<string, number>,
  upsert: (merged: Record<string, number>) => Promise<unknown>,
): Promise<void> {
  return incrementBatcher.add(key, inc, async (merged) => {
    try {
      await upsert(merged);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await upsert(merged);
    }
  });
}

/** The task's counters: those on its own document plus its `task_counters` document's, added up. */
function withCounters(task: TaskDoc, counters: TaskCountersDoc | null): TaskDoc {
  return counters ? { ...task, stats: sumCounts(task.stats, counters.stats) } : task;
}

/** Two counter objects added field by field (numbers, and records of numbers such as `byResult`). */
function sumCounts<T extends object>(a: T, b: Partial<T>): T {
  const sum: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [key, value] of Object.entries<unknown>(b)) {
    const mine = sum[key];
    if (typeof value === 'number') sum[key] = (typeof mine === 'number' ? mine : 0) + value;
    else if (value && typeof value === 'object') sum[key] = sumCounts(mine ?? {}, value);
  }
  return sum as T;
}

/** A contact's latest attempt and skip reason as its result bucket holds them. */
export interface ContactResult {
  last?: LastAttempt;
  skipped?: string;
}

/**
 * A result slot's text (`contact_results`, `c.<slot>`): the contact's latest attempt as compact JSON, about a third
 * of the full object's size — every attempt rewrites its whole bucket (and FerretDB sends it back, see
 * {@link ContactPageRepository.recordResult}), so the bucket's size is the attempt's cost. Short keys for the fields
 * every attempt has, times as epoch milliseconds, and nothing the slot's place already says: the attempt id only
 * when it is not `<taskId>-<index>-<attempt>`, the label only when it is not its code's. The rarer fields (detail,
 * tags, transfer, agent, hand-overs, AMD) keep their names. Slots written before (the whole object, ISO times, with
 * an `attemptId`) are read as they are.
 */
interface ResultSlot extends Omit<
  LastAttempt,
  | 'attemptId'
  | 'attempt'
  | 'code'
  | 'label'
  | 'hangupBy'
  | 'startedAt'
  | 'answeredAt'
  | 'endedAt'
  | 'ringSeconds'
  | 'talkSeconds'
> {
  a: number;
  c: CallResultCode;
  h: HangupBy;
  s: number;
  w?: number;
  e: number;
  r: number;
  t: number;
  id?: string;
  l?: string;
}

export function encodeResult(last: LastAttempt, taskId: string, index: number): string {
  const {
    attemptId: id,
    attempt,
    code,
    label,
    hangupBy,
    startedAt,
    answeredAt,
    endedAt,
    ringSeconds,
    talkSeconds,
    ...rarer
  } = last;
  const slot: ResultSlot = {
    a: attempt,
    c: code,
    h: hangupBy,
    s: startedAt.getTime(),
    ...(answeredAt ? { w: answeredAt.getTime() } : {}),
    e: endedAt.getTime(),
    r: ringSeconds,
    t: talkSeconds,
    ...(id !== attemptIdOf(taskId, index, attempt) ? { id } : {}),
    ...(label !== CALL_RESULT_LABELS[code] ? { l: label } : {}),
    ...rarer,
  };
  return JSON.stringify(slot);
}

export function decodeResult(json: string, taskId: string, index: number): LastAttempt {
  const raw = JSON.parse(json) as
    ResultSlot | (LastAttempt & { startedAt: string; endedAt: string; answeredAt?: string });
  if ('attemptId' in raw) {
    return {
      ...raw,
      startedAt: new Date(raw.startedAt),
      endedAt: new Date(raw.endedAt),
      ...(raw.answeredAt ? { answeredAt: new Date(raw.answeredAt) } : {}),
    };
  }
  const { a, c, h, s, w, e, r, t, id, l, ...rarer } = raw;
  return {
    attemptId: id ?? attemptIdOf(taskId, index, a),
    attempt: a,
    code: c,
    label: l ?? CALL_RESULT_LABELS[c],
    hangupBy: h,
    startedAt: new Date(s),
    ...(w !== undefined ? { answeredAt: new Date(w) } : {}),
    endedAt: new Date(e),
    ringSeconds: r,
    talkSeconds: t,
    ...rarer,
  };
}

/** A contact of a page with its result merged in (results from before the result buckets stay as they were). */
export function withResult(c: PageContact, r: ContactResult | undefined): PageContact {
  if (!r) return c;
  const merged: PageContact = { ...c };
  if (r.last) {
    merged.last = r.last;
    merged.attempts = r.last.attempt;
  }
  if (r.skipped) merged.skipped = r.skipped;
  return merged;
}

/**
 * The call list and its results. Contacts live in pages of `pageSize` (`contact_pages`, written by imports and
 * otherwise only read); each contact's latest attempt and skip reason live in small result buckets of
 * {@link RESULT_BUCKET} contacts (`contact_results`), so recording a result rewrites ~125 short strings instead of a
 * 500-contact page; and `result_index` counts the latest results per result bucket for the filtered ListTaskDetail.
 */
export class ContactPageRepository {
  constructor(private readonly m: Models) {}

  /** A page of contacts with their latest results merged in (for readers: details, exports, audit). */
  async get(tenantId: string, taskId: string, page: number): Promise<ContactPageDoc | null> {
    const doc = await this.contacts(tenantId, taskId, page);
    if (!doc?.contacts.length) return doc;
    const from = doc.contacts[0]!.i;
    const results = await this.results(tenantId, taskId, from, doc.contacts[doc.contacts.length - 1]!.i + 1);
    return { ...doc, contacts: doc.contacts.map((c) => (c ? withResult(c, results.get(c.i)) : c)) };
  }

  /**
   * A page of contacts as imported, without reading their results: the campaign's hot path (loadContactPage) and
   * the phone search. Contacts of older tasks may still carry a result of their own; readers use {@link get}.
   */
  async contacts(tenantId: string, taskId: string, page: number): Promise<ContactPageDoc | null> {
    return ofTenant(
      await this.m.contactPages
        .findOne({ _id: pageId(taskId, page) })
        .lean<ContactPageDoc>()
        .exec(),
      tenantId,
    );
  }

  /** The results of contacts `from … to-1` (by contact index): one exact-`_id` read per result bucket. */
  async results(tenantId: string, taskId: string, from: number, to: number): Promise<Map<number, ContactResult>> {
    const out = new Map<number, ContactResult>();
    for (let n = Math.floor(from / RESULT_BUCKET); n * RESULT_BUCKET < to; n++) {
      for (const [i, r] of await this.resultBucket(tenantId, taskId, n)) if (i >= from && i < to) out.set(i, r);
    }
    return out;
  }

  /** One result bucket: contact index → its result. */
  async resultBucket(tenantId: string, taskId: string, n: number): Promise<Map<number, ContactResult>> {
    const doc = ofTenant(
      await this.m.contactResults
        .findOne({ _id: resultBucketId(taskId, n) })
        .lean<ContactResultDoc>()
        .exec(),
      tenantId,
    );
    const out = new Map<number, ContactResult>();
    const at = (slot: string) => {
      const i = n * RESULT_BUCKET + Number(slot);
      let r = out.get(i);
      if (!r) out.set(i, (r = {}));
      return r;
    };
    for (const [slot, json] of Object.entries(doc?.c ?? {}))
      at(slot).last = decodeResult(json, taskId, n * RESULT_BUCKET + Number(slot));
    for (const [slot, reason] of Object.entries(doc?.s ?? {})) at(slot).skipped = reason;
    return out;
  }

  /**
   * Write a contact's latest attempt into its result bucket: one exact-`_id` upsert of one slot (idempotent).
   * `_pageSize` is no longer needed (result buckets have a fixed size) and kept for the callers.
   */
  async setLastAttempt(
    tenantId: string,
    taskId: string,
    _pageSize: number,
    index: number,
    last: LastAttempt,
  ): Promise<void> {
    await this.setSlot(tenantId, taskId, index, 'c', encodeResult(last, taskId, index));
  }

  /**
   * Write a contact's latest attempt into its result bucket and say whether this attempt is new there — **one**
   * exact-`_id` `findOneAndUpdate` (upsert) that returns the slot as it was before:
   * - the slot held an earlier attempt of the contact (or nothing): `counted: true`, and `previous` is that
   *   attempt's result (what the contact's latest result was), so the caller counts the attempt once;
   * - the slot already held this attempt (a retried recordAttempt): `counted: false`, nothing to count;
   * - the slot held a *later* attempt (a zombie execution of an old attempt, after the next one was recorded): the
   *   later one is put back and `counted: false`.
   * `previous: 'unknown'` when the slot was empty on a redial (a task whose results were kept in its contact
   * pages by an earlier version): the caller reads it from the previous call record.
   *
   * This replaces the `<attemptId>/counted` marker insert and the previous-result read: the slot *is* the marker,
   * per contact. Writes to a bucket are serialised in this process (doc-lock.ts); on MongoDB the returned
   * before-image is atomic across processes too.
   */
  async recordResult(
    tenantId: string,
    taskId: string,
    index: number,
    last: LastAttempt,
  ): Promise<{ counted: boolean; previous: CallResultCode | undefined | 'unknown' }> {
    const n = Math.floor(index / RESULT_BUCKET);
    const id = resultBucketId(taskId, n);
    const slot = `c.${index % RESULT_BUCKET}`;
    const json = encodeResult(last, taskId, index);
    const write = (value: string) =>
      this.m.contactResults
        .findOneAndUpdate(
          { _id: id },
          { $set: { [slot]: value }, $setOnInsert: { tenantId, taskId, n } },
          { upsert: true, new: false },
        )
        // The whole bucket comes back (FerretDB 1.24 has no projection in findAndModify): 125 compact slots.
        .lean<Pick<ContactResultDoc, 'c'>>()
        .exec();
    return withDocLock(`contact_results/${id}`, async () => {
      let before: Pick<ContactResultDoc, 'c'> | null;
      try {
        before = await write(json);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        before = await write(json);
      }
      const was = before?.c?.[String(index % RESULT_BUCKET)];
      if (!was) return { counted: true, previous: last.attempt > 1 ? 'unknown' : undefined };
      const prior = decodeResult(was, taskId, index);
      if (prior.attemptId === last.attemptId) return { counted: false, previous: undefined };
      if (prior.attempt > last.attempt) {
        await write(was);
        return { counted: false, previous: undefined };
      }
      return { counted: true, previous: prior.code };
    });
  }

  async markSkipped(tenantId: string, taskId: string, _pageSize: number, index: number, reason: string): Promise<void> {
    await this.setSlot(tenantId, taskId, index, 's', reason);
  }

  private async setSlot(tenantId: string, taskId: string, index: number, field: 'c' | 's', value: string) {
    const n = Math.floor(index / RESULT_BUCKET);
    const id = resultBucketId(taskId, n);
    const write = () =>
      this.m.contactResults
        .updateOne(
          { _id: id },
          { $set: { [`${field}.${index % RESULT_BUCKET}`]: value }, $setOnInsert: { tenantId, taskId, n } },
          { upsert: true },
        )
        .exec();
    await withDocLock(`contact_results/${id}`, async () => {
      try {
        await write();
      } catch (err) {
        // Two processes upserting a new bucket at once: one insert wins, the other's retry updates it.
        if (!isDuplicateKey(err)) throw err;
        await write();
      }
    });
  }

  /**
   * Move a contact from its previous latest result to its new one in `result_index`; call once per counted attempt
   * (with TaskRepository.countAttempt, whose `stats.latest` moves the same way).
   */
  async countResult(
    tenantId: string,
    taskId: string,
    index: number,
    code: CallResultCode,
    previous: CallResultCode | undefined,
  ): Promise<void> {
    if (previous === code) return;
    const n = Math.floor(index / RESULT_BUCKET);
    const k = Math.floor(n / RESULT_INDEX_SPAN);
    const id = resultIndexId(taskId, k);
    const inc: Record<string, number> = { [`b.${n}.${code}`]: 1 };
    if (previous) inc[`b.${n}.${previous}`] = -1;
    await upsertCounts(`result_index/${id}`, inc, (merged) =>
      this.m.resultIndex
        .updateOne({ _id: id }, { $inc: merged, $setOnInsert: { tenantId, taskId } }, { upsert: true })
        .exec(),
    );
  }

  /** One `result_index` document: result bucket number → latest result → contacts (only positive counts). */
  async resultIndex(tenantId: string, taskId: string, k: number): Promise<Map<number, Record<string, number>>> {
    const doc = ofTenant(
      await this.m.resultIndex
        .findOne({ _id: resultIndexId(taskId, k) })
        .lean<ResultIndexDoc>()
        .exec(),
      tenantId,
    );
    return new Map(Object.entries(doc?.b ?? {}).map(([n, counts]) => [Number(n), counts]));
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

  /**
   * Store the final outcome (idempotent: a record that is already final keeps its first outcome). True only for the
   * first finalisation. One `findOneAndUpdate` by `_id` writes the record and returns it as it was: if it was
   * already final (a second finalisation, which the dial activity and recordAttempt avoid), its fields are written
   * back at once — the first outcome stays.
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
    const write = () =>
      this.m.calls
        .findOneAndUpdate(
          { _id: o.attemptId },
          { $set: final, $setOnInsert: { ...base, tenantId, attempt: o.attempt, claimedAt: new Date(o.startedAt) } },
          { upsert: true, new: false },
        )
        .lean<CallDoc>()
        .exec();
    return withDocLock(`calls/${o.attemptId}`, async () => {
      let before: CallDoc | null;
      try {
        before = await write();
      } catch (err) {
        // Two processes inserting a record nobody claimed (older histories): one insert wins, the other updates.
        if (!isDuplicateKey(err)) throw err;
        before = await write();
      }
      if (before?.state !== 'final') return true;
      await this.m.calls.updateOne({ _id: o.attemptId }, restoreFinal(before, final)).exec();
      return false;
    });
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

/** The fields of a final record as `before` had them: `$set` what it had, `$unset` what only `final` added. */
function restoreFinal(before: CallDoc, final: Partial<CallDoc>): UpdateQuery<CallDoc> {
  const set: Record<string, unknown> = {};
  const unset: Record<string, 1> = {};
  for (const key of Object.keys(final) as (keyof CallDoc)[]) {
    if (before[key] === undefined) unset[key] = 1;
    else set[key] = before[key];
  }
  return { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) };
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
    stored: true,
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
    ...(o.transfer
      ? {
          transfer: o.transfer.kind,
          transferSeconds: {
            robot: o.transfer.robotSeconds,
            queueWait: o.transfer.queueWaitSeconds,
            human: o.transfer.humanSeconds,
          },
        }
      : {}),
    ...(o.agentId ? { agentId: o.agentId } : {}),
    ...(o.transfer?.handovers?.length ? { handovers: o.transfer.handovers.map((h) => ({ ...h })) } : {}),
    ...(o.amd ? { amd: o.amd.status, amdCause: o.amd.cause } : {}),
  };
}

export type { PageContact };
