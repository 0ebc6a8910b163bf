/**
 * Line allocation: which caller number a call goes out with, and a slot of that number's line (总并发, seed §6.2),
 * counted across every task and tenant dialling through the line.
 *
 * Rotation: a task's calls start at `callerNumbers[rotationKey % n]` (e.g. the contact index) and take the first
 * number, in order from there, that is the tenant's, VALID, on an enabled line with a free slot. So consecutive
 * contacts spread over the numbers, and a full line is skipped rather than waited for while another has room.
 *
 * Counting: one small document per line (`line_slots`, see activities/mongo/line-repository.ts) lists the attempts
 * holding a slot. An attempt id appears at most once per line, so acquiring again with the same attempt returns the
 * same grant (a retried activity), and releasing twice is harmless.
 *
 * **Lost processes.** A slot is released when the call's channel is destroyed. A worker that dies mid-call leaves its
 * holder behind; the retried dial activity takes the channel over and should release it (see
 * {@link LineAllocator.releaseAttempt}). If nothing ever does, the holder is reclaimed once it is older than
 * `maxHoldMs`, by default ring timeout + maximum call duration + 60 s: no call Waihu places lives that long (the
 * robot hangs up at MAX_CALL_SECONDS), so an older holder cannot be a live call.
 *
 * **One process per FerretDB.** Writes to a slot document are queued per document inside the process and checked by
 * compare-and-set on `version`; that is exact on MongoDB with any number of workers, and on the embedded FerretDB
 * (which loses concurrent updates) with one worker process, like the rest of Waihu.
 */
import type { LineRepository } from '../mongo/line-repository';

export interface AcquireRequest {
  tenantId: string;
  /** The call attempt (`{taskId}-{contact}-{attempt}`): the holder's key, so acquire/release are idempotent. */
  attemptId: string;
  /** The task's caller numbers, E.164, in the task's order. */
  callerNumbers: readonly string[];
  /** Where the rotation starts (e.g. the contact index); any integer. */
  rotationKey: number;
}

export type AcquireResult =
  | {
      kind: 'granted';
      lineId: string;
      /** PJSIP endpoint name of the line (the line id): dial with dialString(endpoint, phone, address). */
      endpoint: string;
      /** The line's address (host:port), where the INVITE goes. */
      address: string;
      callerNumber: string;
    }
  /** Every usable number's line is full now: ask again after `retryAfterMs`. */
  | { kind: 'busy'; retryAfterMs: number }
  /**
   * None of the numbers can ever be used as things stand (unknown, another tenant's, INVALID, or on a disabled or
   * deleted line): waiting will not help until someone changes the numbers or lines.
   */
  | { kind: 'unusable'; reason: string };

export interface LineAllocatorOptions {
  /** Holders older than this are reclaimed (see the header). */
  maxHoldMs: number;
  /** Base delay suggested to a busy caller; up to `busyJitterMs` more is added so waiting calls do not align. */
  busyRetryMs?: number;
  busyJitterMs?: number;
  now?: () => number;
}

/** `maxHoldMs` from the call settings of config/config.ts: ring timeout + maximum call duration + 60 s. */
export function defaultMaxHoldMs(call: { ringTimeoutSeconds: number; maxCallSeconds: number }): number {
  return (call.ringTimeoutSeconds + call.maxCallSeconds + 60) * 1000;
}

export class LineAllocator {
  private readonly now: () => number;
  private readonly busyRetryMs: number;
  private readonly busyJitterMs: number;

  constructor(
    private readonly lines: LineRepository,
    private readonly options: LineAllocatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.busyRetryMs = options.busyRetryMs ?? 2_000;
    this.busyJitterMs = options.busyJitterMs ?? 1_000;
  }

  /** Pick a caller number and hold a slot of its line for the attempt; see the header for the rules. */
  async acquire(req: AcquireRequest): Promise<AcquireResult> {
    const numbers = [...new Set(req.callerNumbers)];
    if (!numbers.length) return { kind: 'unusable', reason: 'the task has no caller numbers' };
    const numberDocs = new Map((await this.lines.numbersById(req.tenantId, numbers)).map((d) => [d._id, d]));
    const lineIds = [...new Set([...numberDocs.values()].map((d) => d.lineId))];
    const lineDocs = new Map((await this.lines.linesById(lineIds)).map((l) => [l._id, l]));

    // The same attempt again (a retried activity): the grant it already holds, wherever the rotation starts now.
    for (const slots of await this.lines.slotsOf(lineIds)) {
      const mine = slots.holders?.find((h) => h.attemptId === req.attemptId);
      const line = lineDocs.get(slots._id);
      if (mine && line) return granted(line, mine.callerNumber);
    }

    const staleBefore = this.now() - this.options.maxHoldMs;
    const start = ((req.rotationKey % numbers.length) + numbers.length) % numbers.length;
    let usable = 0;
    // A line found full is not asked again in this pass (its other numbers share its slots).
    const full = new Set<string>();
    for (let i = 0; i < numbers.length; i++) {
      const callerNumber = numbers[(start + i) % numbers.length]!;
      const number = numberDocs.get(callerNumber);
      const line = number && lineDocs.get(number.lineId);
      if (!number || number.status !== 'VALID' || !line || line.tenantId !== req.tenantId || !line.enabled) continue;
      usable++;
      if (full.has(line._id)) continue;
      const take = await this.lines.takeSlot(
        line._id,
        { attemptId: req.attemptId, tenantId: req.tenantId, callerNumber, at: this.now() },
        line.concurrency,
        staleBefore,
      );
      if (take.kind !== 'full') return granted(line, take.holder.callerNumber);
      full.add(line._id);
    }
    if (!usable)
      return {
        kind: 'unusable',
        reason: 'no caller number of the task is a VALID number of the tenant on an enabled line',
      };
    return { kind: 'busy', retryAfterMs: this.busyRetryMs + Math.floor(Math.random() * (this.busyJitterMs + 1)) };
  }

  /** Give the attempt's slot of the line back (when its channel is destroyed). Releasing twice is harmless. */
  async release(lineId: string, attemptId: string): Promise<void> {
    await this.lines.releaseSlot(lineId, attemptId);
  }

  /**
   * Release the attempt wherever it holds a slot among the lines of these numbers: for a retried activity that took
   * over a call and does not know which line the lost execution was granted.
   */
  async releaseAttempt(tenantId: string, attemptId: string, callerNumbers: readonly string[]): Promise<void> {
    const numberDocs = await this.lines.numbersById(tenantId, [...new Set(callerNumbers)]);
    const lineIds = [...new Set(numberDocs.map((d) => d.lineId))];
    for (const slots of await this.lines.slotsOf(lineIds))
      if (slots.holders?.some((h) => h.attemptId === attemptId)) await this.lines.releaseSlot(slots._id, attemptId);
  }

  /** Attempts holding a slot of each line now (stale holders included until someone reclaims them). */
  async inUse(lineIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>(lineIds.map((id) => [id, 0]));
    for (const s of await this.lines.slotsOf(lineIds)) out.set(s._id, s.holders?.length ?? 0);
    return out;
  }
}

function granted(line: { _id: string; address: string }, callerNumber: string): AcquireResult {
  return { kind: 'granted', lineId: line._id, endpoint: line._id, address: line.address, callerNumber };
}

export { dialString } from './pjsip-lines';
