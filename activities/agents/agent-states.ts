/**
 * Agent states (seed §5.2) and hotline settings: the rules, with no I/O, shared by the API (ChangeAgentState), the
 * agent directory the transfer queue uses (agent-directory.ts) and the repository's views.
 *
 * | state             | seed      | meaning                                                                      |
 * |-------------------|-----------|------------------------------------------------------------------------------|
 * | `NOT_STARTED`     | 未上班     | a new agent; nothing is offered                                              |
 * | `ONLINE`          | 在线       | offered transfers while idle (not reserved by a call)                        |
 * | `SHORT_BREAK`     | 小休       | nothing offered; a reason: rest 休息, meal 就餐, training 培训, coaching 辅导, |
 * |                   |           | meeting 会议, or missedCall (来电久振未接 / the phone rejected: set by the queue) |
 * | `AFTER_CALL_WORK` | 话后处理   | entered by the queue when a call ends; nothing offered; left by 继续工作       |
 * | `SIGNED_OUT`      | 下班       | signed out                                                                   |
 *
 * DECISION (seed silent): the five extra dropdown states 休息/就餐/培训/辅导/会议 ("behaviour not described, DERIVED:
 * like 小休") are reasons of `SHORT_BREAK`, so a queue needs to know one "not available" state only.
 */

export const AGENT_STATES = ['NOT_STARTED', 'ONLINE', 'SHORT_BREAK', 'AFTER_CALL_WORK', 'SIGNED_OUT'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export const AGENT_STATE_LABELS: Readonly<Record<AgentState, string>> = {
  NOT_STARTED: '未上班',
  ONLINE: '在线',
  SHORT_BREAK: '小休',
  AFTER_CALL_WORK: '话后处理',
  SIGNED_OUT: '下班',
};

/** Break reasons an agent (or a supervisor for it) chooses. */
export const BREAK_REASONS = ['rest', 'meal', 'training', 'coaching', 'meeting'] as const;
/** Reasons only the transfer queue sets: an offered call rang 30 s unanswered, or the phone rejected it. */
export const SYSTEM_BREAK_REASONS = ['missedCall'] as const;
export type BreakReason = (typeof BREAK_REASONS)[number] | (typeof SYSTEM_BREAK_REASONS)[number];

export const BREAK_REASON_LABELS: Readonly<Record<BreakReason, string>> = {
  rest: '休息',
  meal: '就餐',
  training: '培训',
  coaching: '辅导',
  meeting: '会议',
  missedCall: '来电未接',
};

/** The states a state may change to (a same-state change is a no-op, except a break with another reason). */
const NEXT: Readonly<Record<AgentState, readonly AgentState[]>> = {
  NOT_STARTED: ['ONLINE', 'SHORT_BREAK', 'SIGNED_OUT'],
  // AFTER_CALL_WORK only from ONLINE: a call was offered to an online agent.
  ONLINE: ['SHORT_BREAK', 'AFTER_CALL_WORK', 'SIGNED_OUT'],
  SHORT_BREAK: ['ONLINE', 'SIGNED_OUT'],
  AFTER_CALL_WORK: ['ONLINE', 'SHORT_BREAK', 'SIGNED_OUT'],
  SIGNED_OUT: ['ONLINE'],
};

/** Why a state change was refused (the API answers 409 with the code in the problem's reason). */
export type StateRefusal =
  | 'notFound'
  /** A frozen agent cannot go online. */
  | 'frozen'
  /** An agent with no skill group cannot go online (seed §5.4 MUST). */
  | 'noSkillGroup'
  /** Not a transition of the table above. */
  | 'badTransition'
  /** The agent is reserved by a call; only the queue (giving that callId) changes its state until it is released. */
  | 'onCall'
  /** A break reason on a state that is not a break, or a reason that is not one of the break reasons. */
  | 'badReason';

export interface TransitionInput {
  from: AgentState;
  to: AgentState;
  reason?: string;
  fromReason?: string;
  frozen: boolean;
  skillGroups: number;
}

/** Check a change; `null` when it is allowed. Same-state changes are allowed (the caller makes them no-ops). */
export function checkTransition(t: TransitionInput): { code: StateRefusal; message: string } | null {
  if (t.reason !== undefined) {
    if (t.to !== 'SHORT_BREAK')
      return { code: 'badReason', message: `a reason is given only for SHORT_BREAK, not ${t.to}` };
    if (![...BREAK_REASONS, ...SYSTEM_BREAK_REASONS].includes(t.reason as BreakReason))
      return { code: 'badReason', message: `"${t.reason}" is not a break reason (${BREAK_REASONS.join(', ')})` };
  }
  if (t.to === 'ONLINE') {
    if (t.frozen) return { code: 'frozen', message: 'a frozen agent cannot go online' };
    if (t.skillGroups === 0)
      return { code: 'noSkillGroup', message: 'an agent with no skill group cannot go online (无法正常上班)' };
  }
  if (t.from === t.to) return null;
  if (!NEXT[t.from].includes(t.to))
    return { code: 'badTransition', message: `${t.from} (${AGENT_STATE_LABELS[t.from]}) cannot change to ${t.to}` };
  return null;
}

/** A freeze (临时冻结 / 永久冻结): temporary until `until`, permanent without. */
export interface Freeze {
  reason: string;
  until?: Date | null;
  at: Date;
}

/** Whether a freeze is in force at `now` (a temporary freeze ends by itself at `until`). */
export function isFrozen(freeze: Freeze | null | undefined, now: Date): boolean {
  if (!freeze) return false;
  return !freeze.until || freeze.until.getTime() > now.getTime();
}

// ---- hotline settings (热线设置, seed §5.2) ----

export interface HotlineSettings {
  /** 自动接听 after `seconds` (default on, 1 s). */
  autoAnswer: { enabled: boolean; seconds: number };
  /** 自动结束后处理 after `seconds` (default on, 30 s); off: after-call work lasts until the agent resumes. */
  autoEndAfterCallWork: { enabled: boolean; seconds: number };
}

export interface TenantHotlineSettings extends HotlineSettings {
  /** 允许个性化热线设置: whether an agent's own settings replace the tenant's. */
  allowAgentOverride: boolean;
}

export const DEFAULT_TENANT_SETTINGS: Readonly<TenantHotlineSettings> = Object.freeze({
  autoAnswer: { enabled: true, seconds: 1 },
  autoEndAfterCallWork: { enabled: true, seconds: 30 },
  allowAgentOverride: false,
});

export const AUTO_ANSWER_MAX_SECONDS = 60;
export const AFTER_CALL_WORK_MAX_SECONDS = 3600;

/** What the transfer queue needs: `null` = off (answer by hand; after-call work until the agent resumes). */
export interface EffectiveSettings {
  autoAnswerSeconds: number | null;
  afterCallWorkSeconds: number | null;
  /** Whose settings these are. */
  source: 'tenant' | 'agent';
}

/**
 * The agent's settings: its own parts replace the tenant's only while the tenant allows per-agent settings; an
 * override stored while allowed is kept, and ignored, when the tenant stops allowing it.
 */
export function effectiveSettings(
  tenant: TenantHotlineSettings,
  agent: Partial<HotlineSettings> | null | undefined,
): EffectiveSettings {
  const own = tenant.allowAgentOverride && agent && (agent.autoAnswer || agent.autoEndAfterCallWork) ? agent : null;
  const autoAnswer = own?.autoAnswer ?? tenant.autoAnswer;
  const acw = own?.autoEndAfterCallWork ?? tenant.autoEndAfterCallWork;
  return {
    autoAnswerSeconds: autoAnswer.enabled ? autoAnswer.seconds : null,
    afterCallWorkSeconds: acw.enabled ? acw.seconds : null,
    source: own ? 'agent' : 'tenant',
  };
}
