/**
 * Repositories of call-list imports and the do-not-call list. Every method takes the tenant and filters by it;
 * every read and write on an import's path is an exact-`_id` operation on a bucket document.
 */
import type { Connection, Model } from 'mongoose';
import type { FieldProblem } from '../../src/errors';
import type { ContactPageDoc, Models, PageContact, TaskDoc } from './schemas';
import { pageId } from './repositories';
import {
  PHONE_BUCKETS,
  registerListModels,
  type DncDoc,
  type ImportReport,
  type ListImportDoc,
  type ListModels,
} from './list-schemas';

const DUPLICATE_KEY = 11000;
const isDuplicateKey = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: number }).code === DUPLICATE_KEY;

/** FNV-1a over the number's digits: stable across processes, so a number always lands in the same bucket. */
export function phoneBucketOf(phone: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < phone.length; i++) {
    h ^= phone.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PHONE_BUCKETS;
}

const phoneKey = (e164: string) => e164.replace(/^\+/, '');
const phoneBucketId = (taskId: string, bucket: number) => `${taskId}/${bucket}`;

/** An import runs alone on its task; a lock older than this belongs to a crashed process and may be taken over. */
const STALE_LOCK_MS = 15 * 60_000;

export class ListImportRepository {
  constructor(
    private readonly m: Models,
    private readonly l: ListModels,
  ) {}

  /**
   * Take the task's import lock, so two imports never write the same buckets. Returns the task as locked, or null
   * when the task does not exist for this tenant or another import holds the lock.
   */
  async lock(tenantId: string, taskId: string, importId: string): Promise<TaskDoc | null> {
    const now = new Date();
    return this.m.tasks
      .findOneAndUpdate(
        {
          _id: taskId,
          tenantId,
          $or: [
            { importing: { $exists: false } },
            { importing: null },
            { 'importing.since': { $lt: new Date(now.getTime() - STALE_LOCK_MS) } },
          ],
        },
        { $set: { importing: { importId, since: now } } },
        { new: true },
      )
      .lean<TaskDoc>()
      .exec();
  }

  async unlock(tenantId: string, taskId: string, importId: string): Promise<void> {
    await this.m.tasks
      .updateOne({ _id: taskId, tenantId, 'importing.importId': importId }, { $unset: { importing: 1 } })
      .exec();
  }

  /**
   * The commit point of an append: until the task's `totalContacts` moves, the new contacts are beyond the end of
   * the list and nobody reads them. Conditional on still holding the lock.
   */
  async commitAppend(
    tenantId: string,
    taskId: string,
    importId: string,
    c: { totalContacts: number; pages: number; duplicates: number; doNotCall: number },
  ): Promise<boolean> {
    const res = await this.m.tasks
      .updateOne(
        { _id: taskId, tenantId, 'importing.importId': importId },
        {
          $set: { totalContacts: c.totalContacts, pages: c.pages },
          $inc: { duplicatesRemoved: c.duplicates, dncFlagged: c.doNotCall },
          $unset: { importing: 1 },
        },
      )
      .exec();
    return res.matchedCount === 1;
  }

  /** The commit point of a new task: its pages are unreachable until the task document exists. */
  async createTask(task: Omit<TaskDoc, 'createdAt' | 'updatedAt'>): Promise<void> {
    await this.m.tasks.create(task);
  }

  /**
   * Write whole buckets of new contacts. Inserted (FerretDB inserts an order of magnitude faster than it
   * replaces); a bucket left by a failed import makes the batch fall back to replacing, so a retry still succeeds.
   */
  async putPages(pages: ContactPageDoc[]): Promise<void> {
    if (!pages.length) return;
    try {
      await this.m.contactPages.insertMany(pages, { ordered: false, lean: true });
    } catch (err) {
      if (!isDuplicateKey(err) && !String((err as Error).message).includes('E11000')) throw err;
      await this.m.contactPages.bulkWrite(
        pages.map((page) => ({
          replaceOne: { filter: { _id: page._id, tenantId: page.tenantId }, replacement: page, upsert: true },
        })),
        { ordered: false },
      );
    }
  }

  /**
   * Fill slots `from…` of an existing, partly filled bucket. Each contact is set by its own positional path, so
   * results the running campaign writes into the earlier slots of the same bucket are never overwritten.
   */
  async fillPage(tenantId: string, taskId: string, page: number, from: number, contacts: PageContact[]): Promise<void> {
    if (!contacts.length) return;
    const set: Record<string, PageContact> = {};
    contacts.forEach((c, k) => (set[`contacts.${from + k}`] = c));
    const res = await this.m.contactPages.updateOne({ _id: pageId(taskId, page), tenantId }, { $set: set }).exec();
    if (res.matchedCount !== 1) throw new Error(`contact page ${pageId(taskId, page)} not found`);
  }

  /** Remove buckets `from…to-1` of a task, one exact `_id` each (compensation of a failed import). */
  async deletePages(tenantId: string, taskId: string, from: number, to: number): Promise<void> {
    const ops = [];
    for (let p = from; p < to; p++) ops.push({ deleteOne: { filter: { _id: pageId(taskId, p), tenantId } } });
    for (let i = 0; i < ops.length; i += 500) await this.m.contactPages.bulkWrite(ops.slice(i, i + 500));
  }

  /** The task's numbers in one hash bucket: digits → contact index. */
  async phoneBucket(tenantId: string, taskId: string, bucket: number): Promise<Map<string, number>> {
    // `{ _id }` alone: the only filter FerretDB pushes down (repositories.ts); the tenant is checked on the result.
    const doc = await this.l.phoneBuckets
      .findOne({ _id: phoneBucketId(taskId, bucket) })
      .lean<{ tenantId: string; p?: Record<string, number> }>()
      .exec();
    return new Map(Object.entries(doc?.tenantId === tenantId ? (doc.p ?? {}) : {}));
  }

  /**
   * Store a task's phone hash buckets whole: `buckets` maps a bucket number to its complete content (for an
   * append, the bucket as read plus the new numbers; the caller holds the task's import lock). Whole-document
   * writes, because FerretDB applies a `$set` of thousands of dotted keys slowly.
   */
  async putPhoneBuckets(
    tenantId: string,
    taskId: string,
    buckets: Map<number, Map<string, number>>,
    mode: 'insert' | 'replace',
  ): Promise<void> {
    const docs = [...buckets].map(([b, phones]) => ({
      _id: phoneBucketId(taskId, b),
      tenantId,
      taskId,
      p: Object.fromEntries(phones),
    }));
    for (let i = 0; i < docs.length; i += 64) {
      const batch = docs.slice(i, i + 64);
      if (mode === 'insert') await this.l.phoneBuckets.insertMany(batch, { ordered: false, lean: true });
      else
        await this.l.phoneBuckets.bulkWrite(
          batch.map((d) => ({ replaceOne: { filter: { _id: d._id, tenantId }, replacement: d, upsert: true } })),
          { ordered: false },
        );
    }
  }

  /** Bucket number and key of a number, for building {@link putPhoneBuckets}' input. */
  static bucketKey(e164: string): [number, string] {
    return [phoneBucketOf(e164), phoneKey(e164)];
  }

  /** Take numbers out of the task's buckets again (compensation of a failed import). */
  async removePhones(tenantId: string, taskId: string, phones: Iterable<string>): Promise<void> {
    const byBucket = new Map<number, Record<string, 1>>();
    for (const e164 of phones) {
      const b = phoneBucketOf(e164);
      const unset = byBucket.get(b) ?? {};
      unset[`p.${phoneKey(e164)}`] = 1;
      byBucket.set(b, unset);
    }
    const ops = [...byBucket].map(([b, unset]) => ({
      updateOne: { filter: { _id: phoneBucketId(taskId, b), tenantId }, update: { $unset: unset } },
    }));
    for (let i = 0; i < ops.length; i += 64) await this.l.phoneBuckets.bulkWrite(ops.slice(i, i + 64));
  }

  /** Key of a number in a bucket map, for lookups against {@link phoneBucket}. */
  static keyOf(e164: string): string {
    return phoneKey(e164);
  }

  async saveImport(
    doc: Omit<ListImportDoc, 'createdAt' | 'expiresAt' | 'state'> & { ttlMs: number; state?: 'done' },
  ): Promise<void> {
    const now = new Date();
    const { ttlMs, ...rest } = doc;
    await this.l.imports.create({
      ...rest,
      state: 'done',
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlMs),
    });
  }

  /** An import's stored report and first problems; expired documents count as gone. */
  async getImport(tenantId: string, importId: string): Promise<ListImportDoc | null> {
    const doc = await this.l.imports.findOne({ _id: importId, tenantId }).lean<ListImportDoc>().exec();
    return doc && doc.expiresAt > new Date() ? doc : null;
  }

  /**
   * Claim an Idempotency-Key. `claimed`: go ahead; `replay`: the key already finished, here is its report;
   * `busy`: a request with this key is running; `mismatch`: the key was used with a different request.
   */
  async claimKey(
    tenantId: string,
    taskId: string,
    keyId: string,
    requestHash: string,
    ttlMs: number,
  ): Promise<{ kind: 'claimed' } | { kind: 'replay'; report: ImportReport } | { kind: 'busy' } | { kind: 'mismatch' }> {
    const now = new Date();
    try {
      await this.l.imports.create({
        _id: keyId,
        tenantId,
        taskId,
        kind: 'idempotency-key',
        state: 'pending',
        requestHash,
        createdAt: now,
        expiresAt: new Date(now.getTime() + ttlMs),
      });
      return { kind: 'claimed' };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await this.l.imports.findOne({ _id: keyId, tenantId }).lean<ListImportDoc>().exec();
    if (!existing || existing.expiresAt <= now) {
      // Expired but not yet removed (no TTL index on FerretDB): replace it and claim again.
      await this.l.imports.deleteOne({ _id: keyId, tenantId }).exec();
      return this.claimKey(tenantId, taskId, keyId, requestHash, ttlMs);
    }
    if (existing.requestHash !== requestHash) return { kind: 'mismatch' };
    if (existing.state === 'done' && existing.report) return { kind: 'replay', report: existing.report };
    if (now.getTime() - existing.createdAt.getTime() > STALE_LOCK_MS) {
      await this.l.imports.deleteOne({ _id: keyId, tenantId, state: 'pending' }).exec();
      return this.claimKey(tenantId, taskId, keyId, requestHash, ttlMs);
    }
    return { kind: 'busy' };
  }

  async completeKey(tenantId: string, keyId: string, report: ImportReport): Promise<void> {
    await this.l.imports.updateOne({ _id: keyId, tenantId }, { $set: { state: 'done', report } }).exec();
  }

  /** A key whose request failed is released, so the client's retry with the same key runs again. */
  async releaseKey(tenantId: string, keyId: string): Promise<void> {
    await this.l.imports.deleteOne({ _id: keyId, tenantId, state: 'pending' }).exec();
  }

  /** TTL index on `expiresAt` where the server supports it; false on FerretDB 1.24 (reads check expiry anyway). */
  async ensureExpiryIndex(): Promise<boolean> {
    try {
      await this.l.imports.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      return true;
    } catch {
      return false;
    }
  }

  /** Up to `limit` problems of an import, for the error report. */
  static capProblems(problems: FieldProblem[], limit: number): FieldProblem[] {
    return problems.length > limit ? problems.slice(0, limit) : problems;
  }
}

const dncId = (tenantId: string, e164: string) => `${tenantId}/${e164}`;

/** The tenant's do-not-call list. */
export class DncRepository {
  constructor(private readonly model: Model<DncDoc>) {}

  /** Add numbers (E.164); numbers already listed are left as they are. Returns how many were new. */
  async add(tenantId: string, entries: { phone: string; note?: string }[]): Promise<number> {
    let added = 0;
    const now = new Date();
    for (let i = 0; i < entries.length; i += 500) {
      const ops = entries.slice(i, i + 500).map((e) => ({
        updateOne: {
          filter: { _id: dncId(tenantId, e.phone), tenantId },
          update: {
            $setOnInsert: { tenantId, phone: e.phone, createdAt: now, ...(e.note ? { note: e.note } : {}) },
          },
          upsert: true,
        },
      }));
      const res = await this.model.bulkWrite(ops, { ordered: false });
      added += res.upsertedCount;
    }
    return added;
  }

  /** Remove a number; true if it was listed. */
  async remove(tenantId: string, phone: string): Promise<boolean> {
    const res = await this.model.deleteOne({ _id: dncId(tenantId, phone), tenantId }).exec();
    return res.deletedCount === 1;
  }

  /** **The dial-time check**: one exact-`_id` read. `phone` is E.164. */
  async isListed(tenantId: string, phone: string): Promise<boolean> {
    // `{ _id }` alone (FerretDB pushes nothing else down); the id embeds the tenant.
    const doc = await this.model
      .findOne({ _id: dncId(tenantId, phone) }, { _id: 1 })
      .lean()
      .exec();
    return doc !== null;
  }

  async list(tenantId: string, skip: number, limit: number): Promise<{ items: DncDoc[]; total: number }> {
    const [items, total] = await Promise.all([
      this.model.find({ tenantId }).sort({ phone: 1 }).skip(skip).limit(limit).lean<DncDoc[]>().exec(),
      this.model.countDocuments({ tenantId }).exec(),
    ]);
    return { items, total };
  }

  /**
   * All of the tenant's listed numbers, for flagging an import (batch work: one scan of the tenant's entries
   * instead of one read per imported contact).
   */
  async numbers(tenantId: string): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const d of this.model.find({ tenantId }, { phone: 1 }).lean<{ phone: string }>().cursor())
      out.add(d.phone);
    return out;
  }
}

export interface ListRepositories {
  imports: ListImportRepository;
  dnc: DncRepository;
  models: ListModels;
}

/** Register the list models on a connection and build their repositories. */
export async function openListRepositories(conn: Connection, models: Models): Promise<ListRepositories> {
  const l = registerListModels(conn);
  await Promise.all([l.phoneBuckets.init(), l.imports.init(), l.dnc.init()]);
  const imports = new ListImportRepository(models, l);
  await imports.ensureExpiryIndex();
  return { imports, dnc: new DncRepository(l.dnc), models: l };
}
