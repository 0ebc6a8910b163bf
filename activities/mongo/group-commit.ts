/**
 * Group commit of counter increments, per process and per document.
 *
 * Every finished call moves its task's counters (`tasks`) and one `result_index` document by a few `$inc`. With many
 * calls ending at once, those increments queue on the document (FerretDB 1.24 loses concurrent updates of one
 * document, so writes to it are serialised: doc-lock.ts) and each pays a round trip. Here the increments that
 * arrive while a write of the document is in flight are summed into **one** `$inc` of the next write, so N calls
 * ending together cost about two writes instead of N — and a call that finds the document idle is written at once,
 * with no added delay.
 *
 * Nothing is acknowledged early: each caller's promise settles only when the write that carries its increment has
 * been acknowledged by the server (or failed: then every caller of that write gets the error, and none of its
 * increments is applied). Sums are exact, so no increment is lost or applied twice by the batching itself. Writes
 * of one document go through {@link withDocLock} with the caller's key, so they never overlap other writers of the
 * same document in this process. The write is still one exact-`_id` update.
 */
import { withDocLock } from './doc-lock';

type Increments = Record<string, number>;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Pending {
  inc: Increments;
  waiters: Waiter[];
  /** Runs the merged write; the function of the first caller of a batch is used (all callers of a key write alike). */
  write: (inc: Increments) => Promise<unknown>;
}

export class IncrementBatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly flushing = new Set<string>();

  /** How many writes were sent, and how many increments they carried (for tests and benchmarks). */
  readonly stats = { writes: 0, increments: 0 };

  /**
   * Add `inc` to the document `key` (a doc-lock key such as `tasks/<id>`); `write` applies a merged `$inc` to it.
   * Resolves once a write containing `inc` is acknowledged.
   */
  add(key: string, inc: Increments, write: (inc: Increments) => Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let p = this.pending.get(key);
      if (!p) this.pending.set(key, (p = { inc: {}, waiters: [], write }));
      for (const [field, n] of Object.entries(inc)) p.inc[field] = (p.inc[field] ?? 0) + n;
      p.waiters.push({ resolve, reject });
      this.stats.increments++;
      if (!this.flushing.has(key)) void this.flush(key);
    });
  }

  /** Write the key's pending increments, then whatever arrived meanwhile, until nothing is pending. */
  private async flush(key: string): Promise<void> {
    this.flushing.add(key);
    try {
      for (let batch = this.pending.get(key); batch; batch = this.pending.get(key)) {
        this.pending.delete(key);
        this.stats.writes++;
        try {
          const { write, inc } = batch;
          await withDocLock(key, () => write(inc));
          for (const w of batch.waiters) w.resolve();
        } catch (err) {
          for (const w of batch.waiters) w.reject(err);
        }
      }
    } finally {
      this.flushing.delete(key);
    }
  }
}

/** The process's batcher: every repository of the process shares it, as they share the document locks. */
export const incrementBatcher = new IncrementBatcher();
