/** Real-time waiting for tests whose subject runs in real time (servers, calls, worker processes). */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `probe` until it gives something other than `undefined` or `false`, and return that; fail naming `what`
 * after `timeoutMs`. A probe that throws fails the wait: catch inside the probe what is expected while starting.
 */
export async function until<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
