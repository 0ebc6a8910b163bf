/**
 * **FerretDB 1.24 loses concurrent updates to one document** (measured here: 50 concurrent `$inc` on one document
 * left 9; 30 compare-and-set increments that all reported success left 3). MongoDB does not. So every write to a
 * document that several calls share (a task's counters, a contact bucket, a tenant's seat pool, a number's dial
 * counts) goes through this per-process queue keyed by the document: writes to one document never overlap within a
 * process. On the embedded FerretDB, run one worker process; production runs MongoDB, where this only orders writes.
 */
const tails = new Map<string, Promise<unknown>>();

/** Run `fn` after every earlier `withDocLock(key, …)` of this process has settled. */
export async function withDocLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  try {
    return await run;
  } finally {
    if (tails.get(key) === tail) tails.delete(key);
  }
}
