/**
 * Recording retention (`RECORDING_RETENTION_DAYS`): stored recordings of calls that ended more than N days ago are
 * deleted from Asterisk through ARI, and their call record keeps `recording.deletedAt`, so the download answers
 * "deleted" instead of failing.
 *
 * The sweep starts from Asterisk's own list (`GET /recordings/stored`; ARI gives names, not file times) and reads
 * each name's call record by `_id` (the name is the attempt id) for the call's end time. A name without a call record,
 * or whose call has not ended (a recording in progress is listed too), is left alone and counted as `kept`.
 */
import type { Logger } from '../logger';
import type { CallRecording, CallRepository } from '../mongo/repositories';
import type { StoredRecordings } from './stored-recordings';

export interface RetentionDeps {
  store: Pick<StoredRecordings, 'list' | 'delete'>;
  calls: Pick<CallRepository, 'recordingOwner' | 'setRecording'>;
  logger: Logger;
  /** Keep recordings this many days after their call ended (0 = delete every recording of an ended call). */
  retentionDays: number;
  clock?: () => number;
}

export interface SweepResult {
  /** Recordings Asterisk listed. */
  listed: number;
  deleted: number;
  /** Not old enough, no call record, or the call has not ended. */
  kept: number;
  failed: number;
}

const DAY_MS = 86_400_000;

/** One pass over Asterisk's stored recordings. */
export async function sweepRecordings(deps: RetentionDeps): Promise<SweepResult> {
  const now = (deps.clock ?? Date.now)();
  const cutoff = now - deps.retentionDays * DAY_MS;
  const stored = await deps.store.list();
  const result: SweepResult = { listed: stored.length, deleted: 0, kept: 0, failed: 0 };
  for (const rec of stored) {
    try {
      const owner = await deps.calls.recordingOwner(rec.name);
      const endedAt = owner?.endedAt?.getTime();
      if (!owner || endedAt === undefined || endedAt > cutoff) {
        result.kept++;
        continue;
      }
      await deps.store.delete(rec.name);
      const info: CallRecording = owner.recording ?? { name: rec.name, format: 'wav' };
      await deps.calls.setRecording(owner.tenantId, owner._id, { ...info, deletedAt: new Date(now) });
      result.deleted++;
    } catch (err) {
      // One bad recording must not stop the sweep; it is tried again on the next pass.
      result.failed++;
      deps.logger.warn({ err, recording: rec.name }, 'recording retention: could not delete');
    }
  }
  deps.logger.info({ ...result, retentionDays: deps.retentionDays }, 'recording retention sweep');
  return result;
}

/**
 * Sweep now and then every `everyMs` (default 6 h) until the returned function is called. Passes never overlap;
 * a failed pass (Asterisk or MongoDB unreachable) is logged and the next one runs on schedule.
 */
export function startRecordingRetention(deps: RetentionDeps, everyMs = 6 * 3_600_000): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  let stopped = false;
  const pass = () => {
    if (stopped || busy) return;
    busy = true;
    running = sweepRecordings(deps)
      .catch((err: unknown) => deps.logger.error({ err }, 'recording retention sweep failed; next pass on schedule'))
      .finally(() => (busy = false));
  };
  pass();
  const timer = setInterval(pass, everyMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
