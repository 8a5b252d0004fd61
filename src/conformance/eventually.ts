import { LbOperatorError, errorMessage } from "../errors.js";

/** A conformance wait ran out of time; `cause` is the last error the check threw, if any. */
export class ConformanceTimeoutError extends LbOperatorError {}

/** Polls `check` until it returns a value other than undefined/false, or fails with the last reason. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      // The last failed check says what was seen instead (which backends answered, say): the one line a reader gets.
      const last = lastError === undefined ? "" : `; last check: ${errorMessage(lastError)}`;
      throw new ConformanceTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${last}`, { cause: lastError });
    }
    await delay(intervalMs);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
