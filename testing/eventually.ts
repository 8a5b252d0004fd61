import { LbOperatorError, errorMessage } from "../src/errors.js";

/**
 * A wait ran out of time; `cause` is the last error the check threw, if any. The name is the conformance suite's
 * (the one waits every test and the suite share): its JUnit reports give it as the failure type.
 */
export class ConformanceTimeoutError extends LbOperatorError {}

export interface EventuallyOptions {
  /** How long to keep polling (default 30 s). The check runs at least once; a value from a check that started in time counts. */
  readonly timeoutMs?: number;
  /** Pause between checks (default 100 ms). */
  readonly intervalMs?: number;
}

/**
 * Polls `check` until it returns a value other than undefined/false and resolves with that value. A check that
 * throws counts as not yet; once `timeoutMs` has passed it rejects with ConformanceTimeoutError, whose message names
 * `what` and the last check's error (what was seen instead) and whose `cause` is that error.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 100 }: EventuallyOptions = {},
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
      throw new ConformanceTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${last}`, {
        cause: lastError,
      });
    }
    await delay(intervalMs);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
