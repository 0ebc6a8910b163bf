/** Limits of call-list imports. Defaults here; the lead may feed them from config (LIST_MAX_CONTACTS, …). */
export interface ListLimits {
  /** Contacts one task may hold, over all its imports (product promise: 1,000,000). */
  maxContactsPerTask: number;
  /** Size cap of one uploaded file. */
  maxFileBytes: number;
  /** Problems kept in an import's report and its errors download (all are counted). */
  maxProblemsKept: number;
  /** How long a rejected import's report and an Idempotency-Key are kept. */
  reportTtlMs: number;
  /** Longest CSV record accepted (a longer one is a malformed file, not a contact). */
  maxRecordBytes: number;
}

export const LIST_LIMITS = Symbol('LIST_LIMITS');

export const DEFAULT_LIST_LIMITS: ListLimits = Object.freeze({
  maxContactsPerTask: 1_000_000,
  maxFileBytes: 64 * 1024 * 1024,
  maxProblemsKept: 1_000,
  reportTtlMs: 7 * 24 * 3600_000,
  maxRecordBytes: 64 * 1024,
});
