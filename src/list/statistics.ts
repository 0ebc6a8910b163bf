/**
 * Task statistics (seed-spec §3.1) from the counters kept as calls finish (the task's `task_counters` document): never
 * from counting contacts or calls, so a million-contact task answers with two `_id` reads.
 *
 * Counters (see activities/mongo/repositories.ts `countAttempt`):
 * - `attempts`, `byResult[code]`, `answered`, `talkSeconds`: per attempt;
 * - `dialled`: contacts with at least one attempt (incremented on attempt 1);
 * - `latest[code]`: contacts whose latest attempt has this result (a redial moves the contact from its previous
 *   result to the new one), which is what the answer-status donut counts.
 */
import { AnswerCategory, CALL_RESULT_CODES, CALL_RESULT_LABELS, categoryOf, type CallResultCode } from '../call-result';

/** The counters as stored; fields added after a task was created may be missing. */
export interface StoredCounters {
  attempts: number;
  answered: number;
  talkSeconds: number;
  byResult: Record<string, number>;
  dialled?: number;
  latest?: Record<string, number>;
}

export interface ResultCount {
  code: CallResultCode;
  label: string;
  /** Attempts that ended with this result. */
  attempts: number;
  /** Contacts whose latest attempt has this result. */
  contacts: number;
}

export interface TaskStatistics {
  /** 任务总数: contacts in the list. */
  total: number;
  /** 已拨打: contacts dialled at least once. */
  dialled: number;
  /** 已经接通: contacts answered. */
  answered: number;
  /** 平均接通率: answered / dialled, 0–1 (0 before the first call). */
  connectRate: number;
  /** 平均通话时长(秒): talk seconds per answered call. */
  averageTalkSeconds: number;
  attempts: number;
  /** 重拨次数: attempts after each contact's first. */
  redials: number;
  /** Contacts flagged as on the tenant's do-not-call list at import. */
  doNotCall: number;
  /** The ten results of seed §3.3, in the seed's order, zeros included. */
  results: ResultCount[];
  /** 接听状态统计: the four donut categories, which add up to `total`. */
  categories: Record<AnswerCategory, number>;
}

/** Compute the statistics of a task from its stored counters. Pure. */
export function computeStatistics(total: number, s: StoredCounters, doNotCall = 0): TaskStatistics {
  const byResult = s.byResult ?? {};
  // Tasks counted before `latest` existed: each attempt's result stands in for its contact's (exact without redials).
  const latest = s.latest ?? byResult;
  const attemptsOf = (c: CallResultCode) => byResult[c] ?? 0;
  const latestOf = (c: CallResultCode) => Math.max(0, latest[c] ?? 0);
  const dialled = Math.min(total, s.dialled ?? CALL_RESULT_CODES.reduce((n, c) => n + latestOf(c), 0));
  const answered = s.answered ?? 0;
  const categories: Record<AnswerCategory, number> = {
    [AnswerCategory.NOT_STARTED]: 0,
    [AnswerCategory.CONNECTED]: 0,
    [AnswerCategory.NUMBER_PROBLEM]: 0,
    [AnswerCategory.LINE_PROBLEM]: 0,
  };
  let withResult = 0;
  for (const c of CALL_RESULT_CODES) {
    categories[categoryOf(c)] += latestOf(c);
    withResult += latestOf(c);
  }
  // A contact being dialled for the first time has no result yet: it is still 未开始 in the donut.
  categories[AnswerCategory.NOT_STARTED] = Math.max(0, total - withResult);
  return {
    total,
    dialled,
    answered,
    connectRate: dialled ? Math.round((answered / dialled) * 10_000) / 10_000 : 0,
    averageTalkSeconds: answered ? Math.round((s.talkSeconds / answered) * 10) / 10 : 0,
    attempts: s.attempts ?? 0,
    redials: Math.max(0, (s.attempts ?? 0) - dialled),
    doNotCall,
    results: CALL_RESULT_CODES.map((code) => ({
      code,
      label: CALL_RESULT_LABELS[code],
      attempts: attemptsOf(code),
      contacts: latestOf(code),
    })),
    categories,
  };
}
