/**
 * MongoDB collections. Every document carries its tenant. The layout keeps the campaign's hot path on exact-`_id`
 * operations over small collections (FerretDB, the embedded server, only pushes `_id` equality down):
 *
 * - `tasks`          one document per task (`_id` = task id): its definition and list totals.
 * - `task_counters`  one small document per task (`_id` = task id): counters kept as calls finish (`$inc`).
 * - `contact_pages`  the call list in buckets of `pageSize` contacts, `_id` = `<taskId>/<page>`: read-mostly (written
 *                    by imports; contacts of tasks from before issue #10 may still carry their latest attempt).
 * - `contact_results` the latest attempt of each contact in small buckets of {@link RESULT_BUCKET} contacts,
 *                    `_id` = `<taskId>/r/<n>`: one exact-`_id` `$set` per result, one string per contact.
 * - `result_index`   per {@link RESULT_INDEX_SPAN} result buckets, how many of their contacts have each latest
 *                    result (`_id` = `<taskId>/x/<k>`): a filtered ListTaskDetail reads these, then only the
 *                    result buckets that hold its page.
 * - `calls`          one document per dial attempt, `_id` = attempt id (also the ARI channel id): claimed by an insert,
 *                    so a retried activity finds its own record instead of dialling twice, then finalised by `_id`
 *                    (one `findOneAndUpdate` whose before-image says whether it was final already). Older versions
 *                    also wrote insert-only markers to `call_marks`; nothing reads them any more.
 *
 * Every hot-path filter is `{ _id }` alone (see repositories.ts); README "Data layout at a million contacts".
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { CallResultCode, HangupBy } from '../../src/call-result';
import type { StoredCounters } from '../../src/list/statistics';
import type { CallingCalendar } from '../../src/calendar';
import type { Handover, RetryPolicy, TaskStatus } from '../../workflows/definitions';

export interface TaskTransferOptions {
  queueTimeoutSeconds?: number;
  timeoutPrompt?: string;
  onQueueTimeout?: 'hangup' | 'robot';
  fallbackFlowId?: string;
}

export interface TaskDoc {
  _id: string;
  tenantId: string;
  name: string;
  description: string;
  status: TaskStatus;
  effectiveImmediately: boolean;
  calendar: CallingCalendar;
  retry: RetryPolicy;
  aiSeats: number;
  prompt: string;
  /** The approved script version the robot runs, and the `${variables}` it uses (the list's extra columns). */
  script?: { scriptId: string; version: number; variables: string[] };
  callerNumber?: string;
  /** Registered caller numbers the task's calls rotate over (each on a line). */
  callerNumbers?: string[];
  /** Answering-machine detection on answered calls. */
  amd?: boolean;
  /** The task's own transfer options (over the configured defaults). */
  transfer?: TaskTransferOptions;
  totalContacts: number;
  pageSize: number;
  pages: number;
  duplicatesRemoved: number;
  /** Contacts flagged at import because the tenant's do-not-call list held their number. */
  dncFlagged?: number;
  /** Set while a list import appends to this task; one import at a time (see ListImportRepository.lock). */
  importing?: { importId: string; since: Date };
  /**
   * The task's counters as stored on the task document: everything counted before the counters moved to
   * `task_counters`, and the import's initial zeros. TaskRepository.get adds the `task_counters` document to them.
   */
  stats: TaskStats;
  workflowId: string;
  /** Scheduled start, if any. */
  startAt?: Date;
  /** Set by CancelTask: contacts from this index on were never admitted, so never dialled (status 已取消). */
  cancelledFrom?: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A task's counters (src/list/statistics.ts and api/tasks/task-statistics.ts read them). */
export interface TaskStats extends StoredCounters {
  finished: number;
  /** Attempts handed to the agents' queue (any transfer outcome; api/tasks/task-statistics.ts). */
  transferred?: number;
  /** Of those, attempts an agent took. */
  transferConnected?: number;
}

/**
 * A task's counters as attempts finish (`task_counters`, `_id` = task id): a small document of its own, so the `$inc`
 * of every finished attempt does not rewrite the task's definition (about half the time of the same `$inc` on the
 * task document) and never meets the API's writes of the task (status, seats) on one document.
 */
export interface TaskCountersDoc {
  _id: string;
  tenantId: string;
  stats: Partial<TaskStats>;
}

export interface LastAttempt {
  attemptId: string;
  attempt: number;
  code: CallResultCode;
  label: string;
  hangupBy: HangupBy;
  startedAt: Date;
  answeredAt?: Date;
  endedAt: Date;
  ringSeconds: number;
  talkSeconds: number;
  detail?: string;
  /** Tags the robot's script gave the call. */
  tags?: string[];
  /** A transfer to agents: how it went (connected, timeout, abandoned, lost), and the agent who took it. */
  transfer?: string;
  agentId?: string;
  /** The transfer's share of the talk time (robot → queue wait → agent). */
  transferSeconds?: { robot?: number; queueWait?: number; human?: number };
  /** In-call transfers after the first agent (to an agent, a skill group or an external number), in order. */
  handovers?: Handover[];
  /** Answering-machine detection's verdict (HUMAN, MACHINE, NOTSURE, HANGUP) and app_amd's cause. */
  amd?: string;
  amdCause?: string;
}

export interface PageContact {
  i: number;
  phone: string;
  name?: string;
  tz?: string;
  vars: Record<string, string>;
  attempts: number;
  last?: LastAttempt;
  skipped?: string;
  /** On the tenant's do-not-call list at import: never dialled. */
  dnc?: boolean;
}

export interface ContactPageDoc {
  _id: string;
  tenantId: string;
  taskId: string;
  page: number;
  contacts: PageContact[];
}

/**
 * Contacts per result bucket. Measured on FerretDB 1.24 (SQLite, with the `_id` fix): a bucket costs by its number
 * of fields, not its bytes (a 4 KB string reads like an empty document, 1,000 small fields take ~19 ms), so each
 * contact's result is one JSON string and a bucket of 125 (~125 fields) is read or `$set` in ~2–3 ms, while a
 * million contacts make 8,000 buckets. 500 (the contact page size) is a multiple, so a page spans 4 buckets.
 */
export const RESULT_BUCKET = 125;
/** Result buckets per `result_index` document: 5,000 contacts, so a million contacts make 200 index documents. */
export const RESULT_INDEX_SPAN = 40;

/** A result bucket: slot (index mod {@link RESULT_BUCKET}) → the latest attempt as JSON, and skip reasons. */
export interface ContactResultDoc {
  _id: string;
  tenantId: string;
  taskId: string;
  n: number;
  /** slot → JSON of {@link LastAttempt} (dates as ISO strings). */
  c?: Record<string, string>;
  /** slot → why the contact was not dialled (recordSkipped). */
  s?: Record<string, string>;
}

/** Counts of latest results per result bucket: `b[<n>][<code>]` contacts of bucket n whose latest result is code. */
export interface ResultIndexDoc {
  _id: string;
  tenantId: string;
  taskId: string;
  b?: Record<string, Record<string, number>>;
}

export interface CallDoc {
  _id: string;
  tenantId: string;
  taskId: string;
  contactIndex: number;
  attempt: number;
  phone: string;
  callerNumber?: string;
  state: 'dialling' | 'final';
  code?: CallResultCode;
  label?: string;
  hangupBy?: HangupBy;
  cause?: number;
  causeText?: string;
  startedAt?: Date;
  answeredAt?: Date;
  endedAt?: Date;
  ringSeconds?: number;
  talkSeconds?: number;
  dtmf?: string[];
  detail?: string;
  note?: string;
  claimedAt: Date;
  /** Older records only: whether an attempt is counted is now decided by its contact's result slot (recordResult). */
  counted?: boolean;
}

const taskSchema = new Schema<TaskDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    status: { type: String, required: true },
    effectiveImmediately: { type: Boolean, required: true },
    calendar: { type: Schema.Types.Mixed, required: true },
    retry: { type: Schema.Types.Mixed, required: true },
    aiSeats: { type: Number, required: true },
    prompt: { type: String, required: true },
    script: { type: Schema.Types.Mixed },
    callerNumber: { type: String },
    callerNumbers: { type: [String], default: undefined },
    amd: { type: Boolean },
    transfer: { type: Schema.Types.Mixed },
    totalContacts: { type: Number, required: true },
    pageSize: { type: Number, required: true },
    pages: { type: Number, required: true },
    duplicatesRemoved: { type: Number, default: 0 },
    dncFlagged: { type: Number, default: 0 },
    importing: { type: Schema.Types.Mixed },
    stats: { type: Schema.Types.Mixed, required: true },
    workflowId: { type: String, required: true },
    startAt: Date,
    cancelledFrom: Number,
  },
  { collection: 'tasks', timestamps: true, versionKey: false, minimize: false },
);
// ListTask: a tenant's tasks, newest first.
taskSchema.index({ tenantId: 1, createdAt: -1 });

const contactPageSchema = new Schema<ContactPageDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: { type: String, required: true },
    page: { type: Number, required: true },
    // Mixed: the bucket is read and written as a whole or by positional path, never validated per element.
    contacts: { type: Schema.Types.Mixed, required: true },
  },
  // Read and written only by `_id`; no secondary index on purpose.
  { collection: 'contact_pages', versionKey: false, minimize: false },
);

const callSchema = new Schema<CallDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: { type: String, required: true },
    contactIndex: { type: Number, required: true },
    attempt: { type: Number, required: true },
    phone: { type: String, required: true },
    callerNumber: String,
    state: { type: String, required: true },
    code: String,
    label: String,
    hangupBy: String,
    cause: Number,
    causeText: String,
    startedAt: Date,
    answeredAt: Date,
    endedAt: Date,
    ringSeconds: Number,
    talkSeconds: Number,
    dtmf: [String],
    detail: String,
    note: String,
    claimedAt: { type: Date, required: true },
    counted: Boolean,
  },
  // Hot-path access is by `_id` only; auditors' searches get secondary indexes in a later issue.
  { collection: 'calls', versionKey: false },
);

const contactResultSchema = new Schema<ContactResultDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: { type: String, required: true },
    n: { type: Number, required: true },
    c: { type: Schema.Types.Mixed },
    s: { type: Schema.Types.Mixed },
  },
  // Read and written only by `_id` (upserts of one slot); no secondary index on purpose.
  { collection: 'contact_results', versionKey: false, minimize: false },
);

const resultIndexSchema = new Schema<ResultIndexDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    taskId: { type: String, required: true },
    b: { type: Schema.Types.Mixed },
  },
  // `$inc` by `_id` as attempts are counted, read by `_id` by the filtered ListTaskDetail; no secondary index.
  { collection: 'result_index', versionKey: false, minimize: false },
);

export interface Models {
  tasks: Model<TaskDoc>;
  contactPages: Model<ContactPageDoc>;
  contactResults: Model<ContactResultDoc>;
  resultIndex: Model<ResultIndexDoc>;
  calls: Model<CallDoc>;
  taskCounters: Model<TaskCountersDoc>;
}

const taskCountersSchema = new Schema<TaskCountersDoc>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    stats: { type: Schema.Types.Mixed, default: {} },
  },
  // Read and written by `_id` only; no secondary index on purpose.
  { collection: 'task_counters', versionKey: false, minimize: false },
);

export function registerModels(conn: Connection): Models {
  return {
    tasks: conn.model<TaskDoc>('Task', taskSchema),
    contactPages: conn.model<ContactPageDoc>('ContactPage', contactPageSchema),
    contactResults: conn.model<ContactResultDoc>('ContactResult', contactResultSchema),
    resultIndex: conn.model<ResultIndexDoc>('ResultIndex', resultIndexSchema),
    calls: conn.model<CallDoc>('Call', callSchema),
    taskCounters: conn.model<TaskCountersDoc>('TaskCounters', taskCountersSchema),
  };
}
