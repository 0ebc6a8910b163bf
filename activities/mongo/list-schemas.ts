/**
 * Collections of call-list imports and the do-not-call list. Like the rest of the layout, each is read on its hot
 * path by exact `_id` only (FerretDB, the embedded server, pushes down nothing else):
 *
 * - `contact_phones`  per task, the normalised numbers already in its list, hashed into {@link PHONE_BUCKETS}
 *                     documents, `_id` = `<taskId>/<bucket>`, `p` = { digits of the E.164 number: contact index }.
 *                     The duplicate check of an import reads only the buckets its numbers hash to.
 * - `list_imports`    one document per import (its report and its first problems, kept for the errors download),
 *                     plus one per Idempotency-Key of AttachTask, `_id` = `idem/<tenant>/<task>/<sha256(key)>`.
 *                     Both carry `expiresAt`; reads ignore expired documents, and a TTL index removes them where
 *                     the server has one (MongoDB; FerretDB 1.24 rejects TTL indexes).
 * - `dnc`             the tenant's do-not-call list, one document per number, `_id` = `<tenant>/<e164>`, so the
 *                     dial-time check is one exact-`_id` read.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { FieldProblem } from '../../src/errors';

/** Hash buckets of a task's numbers: ~3,900 numbers per document at 1,000,000 contacts (≈ 90 KB). */
export const PHONE_BUCKETS = 256;

export interface PhoneBucketDoc {
  _id: string;
  tenantId: string;
  taskId: string;
  /** Digits of the E.164 number (no `+`: keys stay plain) → the contact's index in the task. */
  p: Record<string, number>;
}

/** What an import did, as returned by CreateTask/AttachTask and kept for the errors download. */
export interface ImportReport {
  importId: string;
  taskId?: string;
  /** accepted: every contact was stored; rejected: nothing was. */
  status: 'accepted' | 'rejected';
  /** Data rows read (blank rows excluded). */
  rows: number;
  /** Contacts stored by this import. */
  imported: number;
  /** Rows dropped: the number already appeared earlier in the file. */
  duplicatesInFile: number;
  /** Rows dropped: the number was already in the task. */
  duplicatesInTask: number;
  /** Imported contacts flagged as on the tenant's do-not-call list (stored, never dialled). */
  doNotCall: number;
  /** Rows with at least one problem. */
  invalidRows: number;
  /** All problems found; `problems` holds the first of them. */
  problemCount: number;
  /** The task's contacts after the import. */
  totalContacts?: number;
}

export interface ListImportDoc {
  _id: string;
  tenantId: string;
  taskId?: string;
  kind: 'create' | 'attach' | 'dnc' | 'idempotency-key';
  state: 'pending' | 'done';
  fileName?: string;
  report?: ImportReport;
  problems?: FieldProblem[];
  /** Idempotency keys: hash of the request the key was first used with. */
  requestHash?: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface DncDoc {
  _id: string;
  tenantId: string;
  /** E.164. */
  phone: string;
  note?: string;
  createdAt: Date;
}

const phoneBucketSchema = new Schema<PhoneBucketDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: { type: String, required: true },
    p: { type: Schema.Types.Mixed, default: {} },
  },
  // Read and written only by `_id`; no secondary index on purpose.
  { collection: 'contact_phones', versionKey: false, minimize: false },
);

const listImportSchema = new Schema<ListImportDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: String,
    kind: { type: String, required: true },
    state: { type: String, required: true },
    fileName: String,
    report: { type: Schema.Types.Mixed },
    problems: { type: Schema.Types.Mixed },
    requestHash: String,
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  // Read only by `_id`; the TTL index on expiresAt is created best-effort (see ensureExpiryIndex).
  { collection: 'list_imports', versionKey: false, minimize: false },
);

const dncSchema = new Schema<DncDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    phone: { type: String, required: true },
    note: String,
    createdAt: { type: Date, required: true },
  },
  { collection: 'dnc', versionKey: false },
);
// GET /dnc and the import-time load: a tenant's numbers in order. The dial-time check uses `_id` only.
dncSchema.index({ tenantId: 1, phone: 1 });

export interface ListModels {
  phoneBuckets: Model<PhoneBucketDoc>;
  imports: Model<ListImportDoc>;
  dnc: Model<DncDoc>;
}

export function registerListModels(conn: Connection): ListModels {
  return {
    phoneBuckets: conn.model<PhoneBucketDoc>('PhoneBucket', phoneBucketSchema),
    imports: conn.model<ListImportDoc>('ListImport', listImportSchema),
    dnc: conn.model<DncDoc>('Dnc', dncSchema),
  };
}
