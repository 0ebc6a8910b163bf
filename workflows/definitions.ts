/**
 * The neutral contract between the API, the workflows and the activities: workflow inputs, signals and queries.
 * Nothing heavy lives here: it is imported by the workflow bundle.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CallingCalendar } from '../src/calendar';
import type { CallResultCode, HangupBy } from '../src/call-result';
import type { DialogTurn, EndReason } from '../src/script/engine';
import type { MatchResult, NodeRef, Script } from '../src/script/model';

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
  /** Caller numbers (registered, each on a line): calls rotate over them and respect each line's concurrency. */
  callerNumbers?: string[];
  /** The approved script version the robot runs on answered calls; absent = play `prompt` and hang up. */
  script?: ScriptRef;
  /** Answering-machine detection on answered calls (a machine gets no robot; the call is hung up). */
  amd?: boolean;
  /** Transfers to human agents (a script's 转人工); defaults apply when absent. */
  transfer?: TransferSettings;
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
    | 'tenantId'
    | 'taskId'
    | 'calendar'
    | 'retry'
    | 'prompt'
    | 'mediaTaskQueue'
    | 'callerNumber'
    | 'callerNumbers'
    | 'searchAttributes'
    | 'script'
    | 'transfer'
    | 'amd'
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
  /** Tags the robot's script gave the call (节点标签). */
  tags?: string[];
  /** How the robot's dialog ended, when a script ran. */
  dialogEnd?: DialogEnd;
  /** A transfer to a human agent, when the script asked for one. */
  transfer?: TransferOutcome;
  /** The agent who took the call. */
  agentId?: string;
  /** Answering-machine detection's verdict, when the task asked for it. */
  amd?: { status: 'HUMAN' | 'MACHINE' | 'NOTSURE' | 'HANGUP'; cause: string };
  /**
   * Set by the activity that stored this outcome as the attempt's final call record (or read it from there), so
   * recordAttempt need not read the record to know it is stored. Absent in older histories: recordAttempt reads it.
   */
  stored?: true;
}

export type TransferOutcome = (
  | { kind: 'connected'; agentId: string; endedBy: 'AGENT' | 'USER'; connectedAt: string }
  /** No agent took the call before the queue timeout: the callee heard the timeout prompt. */
  | { kind: 'timeout' }
  /** The callee hung up while waiting or while an agent's phone rang. */
  | { kind: 'abandoned' }
  /** The worker holding the call was lost during the transfer. */
  | { kind: 'lost' }
) & {
  skillGroupId: string;
  /** When the robot handed the call over (the queue wait starts). */
  startedAt: string;
  /** After a queue timeout, when the robot took the call back (the task's `onQueueTimeout: 'robot'`). */
  backToRobotAt?: string;
  /** In-call transfers (转接) after the first agent, in order; the outcome's `agentId` is the last agent. */
  handovers?: Handover[];
  /** Filled in when the call ends: robot time (answer → hand-over), queue wait, human time (agent → end). */
  robotSeconds?: number;
  queueWaitSeconds?: number;
  humanSeconds?: number;
};

/** A pinned script version (a task runs exactly this version). */
export interface ScriptRef {
  scriptId: string;
  version: number;
}

export interface DialogEnd {
  kind: 'hangup' | 'transfer' | 'calleeHangup' | 'lost';
  reason?: EndReason;
  skillGroupId?: string;
}

export type PlaceCallResult =
  | { kind: 'completed'; outcome: AttemptOutcome }
  /** The dial-time re-check found the calendar closed; nothing was dialled. */
  | { kind: 'window-closed'; checkedAt: string; reopensAt?: string }
  /** The dial-time compliance check refused the number; nothing was dialled. */
  | { kind: 'blocked'; reason: 'DO_NOT_CALL' }
  /** The tenant's frequency cap is reached for this number; nothing was dialled. Try again from `until`. */
  | { kind: 'deferred'; reason: 'FREQUENCY_CAP'; until: string }
  /** Every line of the task's caller numbers is at its concurrency; nothing was dialled. Try again from `until`. */
  | { kind: 'deferred'; reason: 'LINE_BUSY'; until: string }
  /**
   * The callee answered a call with a script: the channel lives on the worker behind `hostQueue`, where the turn
   * activities must run; the workflow now runs the dialog and ends the call with `endCall`.
   */
  | {
      kind: 'answered';
      hostQueue: string;
      startedAt: string;
      answeredAt: string;
      script: Script;
      amd?: { status: 'HUMAN' | 'MACHINE' | 'NOTSURE' | 'HANGUP'; cause: string };
    };

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
  /** Dial through the lines of these caller numbers (rotating from the contact's index). */
  callerNumbers?: string[];
  /** Run this script on answer (the result is then `answered`, and the dialog follows). */
  script?: ScriptRef;
  /** Run answering-machine detection when the call is answered. */
  amd?: boolean;
}

// ---- The robot's turn activities (run on the worker that holds the channel: `hostQueue`). ----

/** What the callee did, as the worker heard it. Speech arrives classified at the node the dialog listens at. */
export type HeardInput =
  | { kind: 'dtmf'; digit: string; at: string }
  | { kind: 'speech'; text: string; match: MatchResult; at: string }
  | { kind: 'silence'; at: string };

export interface TurnCallRef {
  tenantId: string;
  attemptId: string;
  script: ScriptRef;
}

export interface PromptToPlay {
  utteranceId: string;
  text: string;
  allowInterrupt: boolean;
}

/** Play prompts in order; then, if `listenMs` is set and nothing interrupted them, listen. */
export interface SpeakInput {
  call: TurnCallRef;
  plays: PromptToPlay[];
  /** Where a reply will be classified (speech is matched at this node). */
  at: NodeRef;
  listenMs?: number;
  /** The turns the dialog completed since the previous turn activity, for the history's record. */
  turns: DialogTurn[];
}

/** A key or words over a prompt: `utteranceId` is the prompt that was playing. */
export interface HeardOver {
  utteranceId: string;
  input: Exclude<HeardInput, { kind: 'silence' }>;
}

export type SpeakResult =
  /** The callee hung up. */
  | { kind: 'hangup'; at: string; ignored: HeardOver[] }
  /** The prompts played to the end; `heard` is the reply when the input asked to listen. */
  | { kind: 'played'; heard?: HeardInput; ignored: HeardOver[] }
  /** A key or speech cut an interruptible prompt short (the prompt has been stopped). */
  | ({ kind: 'interrupted'; ignored: HeardOver[] } & HeardOver);

export interface ListenInput {
  call: TurnCallRef;
  at: NodeRef;
  timeoutMs: number;
  turns: DialogTurn[];
}

export type ListenResult = HeardInput | { kind: 'hangup'; at: string };

/** Hang up (if the callee has not), wait for the channel to end, store the call and its dialog record. */
export interface EndCallInput {
  place: PlaceCallInput;
  turns: DialogTurn[];
  tags: string[];
  end: DialogEnd;
  transfer?: TransferOutcome;
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

// ---- Transfer to human agents: the skill group's queue (workflow `queue/{tenantId}/{skillGroupId}`). ----

export interface TransferSettings {
  /** How long a transferred callee may wait in the queue before the fallback (a prompt, then hang-up). */
  queueTimeoutSeconds: number;
  /** How long an agent's phone rings before the call goes to the next agent (seed: 30 s). */
  agentRingSeconds: number;
  /** What the callee hears when no agent took the call in time. */
  timeoutPrompt: string;
  /**
   * After the queue timeout and its prompt: hang up (the default), or back to the robot, which runs the main flow
   * `fallbackFlowId` of the call's script (e.g. a flow that offers a call-back).
   */
  onQueueTimeout?: 'hangup' | 'robot';
  fallbackFlowId?: string;
}

export const DEFAULT_TRANSFER: TransferSettings = {
  queueTimeoutSeconds: 60,
  agentRingSeconds: 30,
  timeoutPrompt: '非常抱歉，人工客服暂时都在忙，请稍后再拨，再见。',
};

export interface SkillGroupQueueInput {
  tenantId: string;
  skillGroupId: string;
  state?: SkillGroupQueueState;
}

export interface QueuedCall {
  /** The attempt id of the call. */
  callId: string;
  contactWorkflowId: string;
  /** Epoch ms (workflow time) it joined and when it gives up. */
  enqueuedAt: number;
  deadline: number;
  /** Agents already offered this call (missed or rejected), not offered again. */
  tried: string[];
  offeredTo?: string;
}

export interface AgentHold {
  agentId: string;
  callId: string;
  phase: 'offered' | 'talking' | 'afterCallWork';
  /** When after-call work ends on its own (epoch ms); absent = until the agent resumes. */
  until?: number;
}

export interface SkillGroupQueueState {
  waiting: QueuedCall[];
  holds: AgentHold[];
  generation: number;
}

export interface AgentOffer {
  agentId: string;
  /** PJSIP endpoint of the agent's phone. */
  endpoint: string;
  autoAnswerSeconds: number | null;
}

export interface QueueProgress {
  waiting: { callId: string; since: string; offeredTo?: string }[];
  holds: AgentHold[];
}

export const enqueueCallSignal =
  defineSignal<[{ callId: string; contactWorkflowId: string; timeoutMs: number }]>('enqueueCall');
export const offerResultSignal =
  defineSignal<[{ callId: string; agentId: string; answered: boolean; reason?: string }]>('offerResult');
export const transferEndedSignal = defineSignal<[{ callId: string; agentId: string }]>('transferEnded');
export const leaveQueueSignal = defineSignal<[{ callId: string }]>('leaveQueue');
export const agentOfferedSignal = defineSignal<[AgentOffer]>('agentOffered');
export const queueTimeoutSignal = defineSignal('queueTimeout');
export const queueProgressQuery = defineQuery<QueueProgress>('queueProgress');

// ---- In-call controls (seed §5.3, issue #8 item 4): API → the contact workflow while a transferred call is with a
// human (workflows/transfer.ts, the connected phase). Commands are an update: validated, answered with the state. ----

/** One hand-over of a connected call: who had it, where it went, who asked, and how it went. */
export interface Handover {
  /** ISO instant the command was carried out. */
  at: string;
  /** The agent whose leg ended (absent: an external party had the call). */
  fromAgentId?: string;
  to: 'agent' | 'skillGroup' | 'number';
  /** The agent transferred to; for a skill group, the agent of its queue who took the call. */
  agentId?: string;
  skillGroupId?: string;
  /** The external number (E.164), for `to: 'number'`. */
  number?: string;
  /**
   * Who gave the command: `agent` (the connected agent itself) or the API caller's role; `system` when a target did
   * not answer and the call went back to the current skill group's queue.
   */
  by: string;
  /** How it went: the target answered (connected), or the call went back to the skill group's queue / ended. */
  result?: 'connected' | 'noAnswer' | 'rejected' | 'failed' | 'calleeGone';
}

export type CallControlCommand =
  | { kind: 'hold' }
  | { kind: 'resume' }
  | { kind: 'hangup' }
  /** To an agent the API has reserved for this call (online and idle): rung directly, not through a queue. */
  | { kind: 'transferToAgent'; agent: AgentOffer }
  /** Back into a skill group's queue: the same rules as a first transfer. */
  | { kind: 'transferToSkillGroup'; skillGroupId: string }
  /** Dialled through the trunk like a callee, bridged with the callee when answered. */
  | { kind: 'transferToNumber'; number: string };

export interface CallControlRequest {
  command: CallControlCommand;
  /** Who asks: `agent` (then `agentId` must be the agent connected now) or a supervisor's role. */
  by: string;
  agentId?: string;
}

/** talking: bridged with an agent or external party; held: the callee hears music; transferring: between parties. */
export type CallControlPhase = 'talking' | 'held' | 'transferring' | 'ended';

export interface CallControlState {
  callId: string;
  phase: CallControlPhase;
  /** The agent connected now (null while transferring, or while an external party has the call). */
  agentId: string | null;
  /** The external number connected now, if any. */
  number: string | null;
  /** The skill group whose queue the call belongs to now. */
  skillGroupId: string;
  handovers: Handover[];
}

export const callControlUpdate = defineUpdate<CallControlState, [CallControlRequest]>('callControl');
export const callControlQuery = defineQuery<CallControlState>('callControlState');
