/**
 * The neutral contract between the API, the workflows and the activities: workflow inputs, signals and queries.
 * Nothing heavy lives here: it is imported by the workflow bundle.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CallingCalendar } from '../src/calendar';
import type { CallResultCode, HangupBy } from '../src/call-result';

export type TaskStatus = 'NOT_STARTED' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';

export interface RetryPolicy {
  /** Results that trigger a redial. */
  reasons: CallResultCode[];
  /** Redials after the first attempt, 0–3. */
  maxRetries: number;
  /** Minutes between the end of an attempt and the redial, 1–180. */
  intervalMinutes: number;
}

/** What a campaign needs to know about its task; copied into the workflow input when the task starts. */
export interface CampaignTask {
  tenantId: string;
  taskId: string;
  /** The calendar in the task's own zone; a contact's zone, when given, replaces `timezone`. */
  calendar: CallingCalendar;
  retry: RetryPolicy;
  aiSeats: number;
  totalContacts: number;
  pageSize: number;
  /** Robot prompt played to an answered callee. */
  prompt: string;
  /** Task queue of the processes that hold an ARI connection. */
  mediaTaskQueue: string;
  callerNumber?: string;
  /** Continue-as-new once the history has this many events (default 8,000, under Temporal's 10,240 warning). */
  historyEventLimit?: number;
  /** Scheduled start (ISO instant); absent = start at once. */
  startAt?: string;
  /** Set the Waihu search attributes (they must be registered on the server). */
  searchAttributes?: boolean;
}

/**
 * State carried across continue-as-new: small, whatever the size of the campaign. Seats are held only while a
 * contact is being dialled; contacts waiting for their window or a redial hold a live slot, not a seat.
 */
export interface CampaignState {
  /** Index of the next contact to admit (start a child for). */
  cursor: number;
  /** Total contacts known to the campaign (AttachTask raises it). */
  total: number;
  /** Contacts whose child has started and not yet finished. */
  live: number[];
  /** Contacts that hold a seat now (dialling). */
  dialling: number[];
  /** Contacts waiting for a seat, oldest first. */
  waiting: number[];
  finished: number;
  seats: number;
  paused: boolean;
  cancelled: boolean;
  byResult: Partial<Record<CallResultCode, number>>;
  /** How many times this campaign has continued as new. */
  generation: number;
  /** Highest number of seats in use at once, for supervisors and tests. */
  peakDialling: number;
}

export interface CampaignInput {
  task: CampaignTask;
  state?: CampaignState;
}

export interface CampaignProgress {
  status: TaskStatus;
  total: number;
  dispatched: number;
  live: number;
  dialling: number;
  waitingForSeat: number;
  finished: number;
  seats: number;
  peakDialling: number;
  byResult: Partial<Record<CallResultCode, number>>;
  generation: number;
}

export interface ContactRef {
  /** 0-based position in the task's list; stable for the life of the task. */
  index: number;
  phone: string;
  name?: string;
  timezone?: string;
  variables: Record<string, string>;
  /** On the tenant's do-not-call list when the list was imported: never dialled. */
  doNotCall?: boolean;
}

export interface ContactCallInput {
  task: Pick<
    CampaignTask,
    'tenantId' | 'taskId' | 'calendar' | 'retry' | 'prompt' | 'mediaTaskQueue' | 'callerNumber' | 'searchAttributes'
  >;
  contact: ContactRef;
  /** Stable id of the campaign workflow, which survives its continue-as-new runs. */
  campaignWorkflowId: string;
}

/** What one dial attempt observed. Outcomes are values: a busy callee is a result, not an error. */
export interface AttemptOutcome {
  attemptId: string;
  attempt: number;
  code: CallResultCode;
  label: string;
  hangupBy: HangupBy;
  cause?: number;
  causeText?: string;
  /** ISO instants (UTC). */
  startedAt: string;
  answeredAt?: string;
  endedAt: string;
  ringSeconds: number;
  talkSeconds: number;
  dtmf: string[];
  /** Sub-outcome of the result, e.g. 用户听完语音 under 呼叫成功. */
  detail?: string;
  /** Set when the attempt's outcome was reconstructed after a lost activity result. */
  note?: string;
}

export type PlaceCallResult =
  | { kind: 'completed'; outcome: AttemptOutcome }
  /** The dial-time re-check found the calendar closed; nothing was dialled. */
  | { kind: 'window-closed'; checkedAt: string; reopensAt?: string }
  /** The dial-time compliance check refused the number; nothing was dialled. */
  | { kind: 'blocked'; reason: 'DO_NOT_CALL' }
  /** The tenant's frequency cap is reached for this number; nothing was dialled. Try again from `until`. */
  | { kind: 'deferred'; reason: 'FREQUENCY_CAP'; until: string };

export interface PlaceCallInput {
  tenantId: string;
  taskId: string;
  contactIndex: number;
  attempt: number;
  attemptId: string;
  phone: string;
  prompt: string;
  calendar: CallingCalendar;
  callerNumber?: string;
}

export interface ContactFinished {
  index: number;
  code?: CallResultCode;
}

/** A contact the campaign gave up on without a final call result. */
export type ContactSkip = 'NO_OPENING' | 'CANCELLED' | 'DO_NOT_CALL';

export interface ContactCallResult {
  index: number;
  attempts: number;
  final?: AttemptOutcome;
  /** Why no call was placed at all, if none was. */
  skipped?: ContactSkip;
}

// Child → campaign (to the campaign's stable workflow id, so they reach whichever run is current).
export const seatRequestSignal = defineSignal<[number]>('seatRequest');
export const seatReleaseSignal = defineSignal<[number]>('seatRelease');
export const contactFinishedSignal = defineSignal<[ContactFinished]>('contactFinished');
// Campaign → child.
export const seatGrantedSignal = defineSignal('seatGranted');
export const cancelContactSignal = defineSignal('cancelContact');
// API → campaign. Supervisor commands are updates: validated, and answered with the resulting progress.
export const pauseUpdate = defineUpdate<CampaignProgress>('pause');
export const resumeUpdate = defineUpdate<CampaignProgress>('resume');
export const cancelUpdate = defineUpdate<CampaignProgress>('cancel');
export const setSeatsUpdate = defineUpdate<CampaignProgress, [number]>('setSeats');
/** AttachTask: the list now has this many contacts. */
export const listExtendedSignal = defineSignal<[number]>('listExtended');
export const progressQuery = defineQuery<CampaignProgress>('progress');
