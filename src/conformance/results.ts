/** The outcome of one case, as the runner reports it and the JUnit writer records it. */
export interface CaseResult {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly durationMs: number;
  /** The failure message, or the reason the case was skipped. */
  readonly message?: string;
  /** The failure's error class name (JUnit `type`). */
  readonly errorType?: string;
  /** The failure's stack and causes, for the JUnit body. */
  readonly detail?: string;
}

export interface SuiteResult {
  /** The provider plugin or implementation judged. */
  readonly target: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly cases: readonly CaseResult[];
  /** True when SIGINT/SIGTERM stopped the run; the remaining cases are reported skipped. */
  readonly interrupted: boolean;
}

export function countByStatus(cases: readonly CaseResult[]): { passed: number; failed: number; skipped: number } {
  return {
    passed: cases.filter((c) => c.status === "passed").length,
    failed: cases.filter((c) => c.status === "failed").length,
    skipped: cases.filter((c) => c.status === "skipped").length,
  };
}
