import type { Logger } from "pino";
import { errorMessage } from "../errors.js";

/**
 * Calls `onChange` once, in a microtask, for any number of `notify()` calls made before it runs; never
 * re-entrantly, never after `stop()`. A throwing handler is logged, not propagated into the notifier's caller.
 */
export class CoalescedNotifier {
  private pending = false;
  private stopped = false;

  constructor(
    private readonly onChange: () => void,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  notify(): void {
    if (this.pending || this.stopped) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.stopped) return;
      try {
        this.onChange();
      } catch (err) {
        this.logger.error({ err: errorMessage(err) }, `${this.what} onChange handler threw`);
      }
    });
  }

  stop(): void {
    this.stopped = true;
  }
}
