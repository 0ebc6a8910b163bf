/**
 * Call results (seed-spec §3.3), hang-up direction (§3.4) and the answer-status categories of the task detail page
 * (§3.1), with the one table that maps Asterisk's ChannelDestroyed cause (Q.850) to a result.
 *
 * Classification uses the cause of the channel's destruction, never `Dial.dialstatus` (which reports 603, 404 and
 * 480 all as NOANSWER). An answered call is 呼叫成功 whatever the cause it ends with.
 */

export const CallResultCode = {
  SUCCESS: 'SUCCESS',
  BUSY: 'BUSY',
  NO_ANSWER: 'NO_ANSWER',
  REJECTED: 'REJECTED',
  OUT_OF_SERVICE: 'OUT_OF_SERVICE',
  POWERED_OFF: 'POWERED_OFF',
  SUSPENDED: 'SUSPENDED',
  EMPTY_NUMBER: 'EMPTY_NUMBER',
  CALL_LOSS: 'CALL_LOSS',
  OTHER: 'OTHER',
} as const;
export type CallResultCode = (typeof CallResultCode)[keyof typeof CallResultCode];

/** The seed's exact labels, in the seed's order. */
export const CALL_RESULT_LABELS: Readonly<Record<CallResultCode, string>> = Object.freeze({
  SUCCESS: '呼叫成功',
  BUSY: '用户占线',
  NO_ANSWER: '无应答',
  REJECTED: '用户无法接通(拒绝)',
  OUT_OF_SERVICE: '用户无法接通(不在服务区)',
  POWERED_OFF: '关机',
  SUSPENDED: '停机',
  EMPTY_NUMBER: '空号',
  CALL_LOSS: '呼损',
  OTHER: '其他(无法识别)',
});

export const CALL_RESULT_CODES = Object.keys(CALL_RESULT_LABELS) as CallResultCode[];

/** Which side ended the call (seed §3.4; DERIVED enum). */
export const HangupBy = { USER: 'USER', ROBOT: 'ROBOT', AGENT: 'AGENT', SYSTEM: 'SYSTEM' } as const;
export type HangupBy = (typeof HangupBy)[keyof typeof HangupBy];

/** The four categories of the 接听状态统计 donut (seed §3.1/§3.3). */
export const AnswerCategory = {
  NOT_STARTED: '未开始',
  CONNECTED: '已经接通',
  NUMBER_PROBLEM: '号码问题',
  LINE_PROBLEM: '线路问题',
} as const;
export type AnswerCategory = (typeof AnswerCategory)[keyof typeof AnswerCategory];

/**
 * Q.850 cause → result for calls that were never answered. Causes not listed are 其他(无法识别).
 * Verified against sipp on loopback (infra-notes): 486→17, ring timeout→19, 480→19, 603→21, 404→1, 503→34.
 */
export const UNANSWERED_CAUSE_TABLE: Readonly<Record<number, CallResultCode>> = Object.freeze({
  1: 'EMPTY_NUMBER', // Unallocated (unassigned) number — SIP 404
  3: 'EMPTY_NUMBER', // No route to destination
  17: 'BUSY', // User busy — SIP 486/600
  18: 'NO_ANSWER', // No user responding — SIP 408
  19: 'NO_ANSWER', // No answer from user (ring timeout) — also SIP 480
  20: 'POWERED_OFF', // Subscriber absent — mobile switched off
  21: 'REJECTED', // Call rejected — SIP 603
  22: 'EMPTY_NUMBER', // Number changed — SIP 410: the dialled number is no longer in service
  27: 'OUT_OF_SERVICE', // Destination out of order — SIP 502
  28: 'EMPTY_NUMBER', // Invalid number format — SIP 484
  34: 'CALL_LOSS', // No circuit/channel available — SIP 503
  38: 'CALL_LOSS', // Network out of order
  41: 'CALL_LOSS', // Temporary failure
  42: 'CALL_LOSS', // Switching equipment congestion
  44: 'CALL_LOSS', // Requested channel not available
  47: 'CALL_LOSS', // Resource unavailable
  54: 'SUSPENDED', // Incoming calls barred — the carrier bars the subscriber
  55: 'SUSPENDED', // Incoming calls barred within CUG
  57: 'SUSPENDED', // Bearer capability not authorised — SIP 403 from carriers for suspended lines
  102: 'CALL_LOSS', // Recovery on timer expiry
});

export interface CallObservation {
  /** Did the callee answer (ARI StasisStart for an originated channel)? */
  answered: boolean;
  /** ChannelDestroyed.cause; undefined when the originate itself failed. */
  cause?: number;
  /** Our own hang-up request (robot) was sent before the channel went away. */
  hungUpByUs: boolean;
  /** The originate request failed or Asterisk went away mid-call. */
  systemFailure?: boolean;
}

export interface Classification {
  code: CallResultCode;
  label: string;
  hangupBy: HangupBy;
  category: AnswerCategory;
}

export function categoryOf(code: CallResultCode | undefined): AnswerCategory {
  if (!code) return AnswerCategory.NOT_STARTED;
  if (code === 'SUCCESS') return AnswerCategory.CONNECTED;
  if (code === 'CALL_LOSS' || code === 'OTHER') return AnswerCategory.LINE_PROBLEM;
  return AnswerCategory.NUMBER_PROBLEM;
}

/** Classify one attempt. Pure: the same observation always gives the same result. */
export function classifyCall(o: CallObservation): Classification {
  let code: CallResultCode;
  let hangupBy: HangupBy;
  if (o.systemFailure) {
    code = 'CALL_LOSS';
    hangupBy = 'SYSTEM';
  } else if (o.answered) {
    code = 'SUCCESS';
    hangupBy = o.hungUpByUs ? 'ROBOT' : 'USER';
  } else {
    code = (o.cause !== undefined ? UNANSWERED_CAUSE_TABLE[o.cause] : undefined) ?? 'OTHER';
    // A decline is the callee's own act; every other unanswered end is decided by the network or our ring timeout.
    hangupBy = code === 'REJECTED' ? 'USER' : 'SYSTEM';
  }
  return { code, label: CALL_RESULT_LABELS[code], hangupBy, category: categoryOf(code) };
}
