/**
 * The statistics route's answer: seed §3.1's statistics (src/list/statistics.ts) plus the transfers to human
 * agents (issue #8), all from the counters the task document keeps as calls finish (one `_id` read).
 *
 * - `transferred`: answered calls the robot handed to the agents' queue (a transfer was attempted), whatever came
 *   of it — an agent took it, the queue timed out, the callee hung up while waiting, or the call was lost.
 * - `transferConnected`: of those, calls an agent took (connected to an agent).
 * - `transferRate`: transferred ÷ answered calls (answered = attempts with result 呼叫成功, the `answered` of the
 *   statistics), 0–1, four decimals; 0 before the first answered call.
 * - `transferConnectRate`: transferConnected ÷ transferred, 0–1; 0 before the first transfer.
 */
import type { TaskDoc } from '../../activities/mongo/schemas';
import { computeStatistics, type TaskStatistics } from '../../src/list/statistics';

export interface TransferStatistics {
  transferred: number;
  transferConnected: number;
  transferRate: number;
  transferConnectRate: number;
}

export type TaskStatisticsView = TaskStatistics & TransferStatistics;

const ratio = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : 0);

/** Statistics of a stored task (pure). Tasks counted before transfers were counted read 0. */
export function taskStatistics(task: Pick<TaskDoc, 'totalContacts' | 'stats' | 'dncFlagged'>): TaskStatisticsView {
  const base = computeStatistics(task.totalContacts, task.stats, task.dncFlagged ?? 0);
  const transferred = task.stats.transferred ?? 0;
  const transferConnected = task.stats.transferConnected ?? 0;
  return {
    ...base,
    transferred,
    transferConnected,
    transferRate: ratio(transferred, base.answered),
    transferConnectRate: ratio(transferConnected, transferred),
  };
}
