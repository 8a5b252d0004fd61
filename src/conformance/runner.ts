import { LbOperatorError, errorMessage } from "../errors.js";
import { type CaseContext, type ConformanceCase, conformanceCases } from "./cases.js";
import type { DataPathAccess } from "./data-path.js";
import type { ConformanceKubeClient } from "./kube-client.js";
import { type CaseResult, type SuiteResult, countByStatus } from "./results.js";

export interface SuiteOptions {
  /** What is judged: one of our provider plugins or another implementation (target.ts). */
  target: string;
  loadBalancerClass: string;
  requestableAddress: string | undefined;
  /** An address the implementation cannot hand out; without it the refused-address case must be skipped. */
  unavailableAddress: string | undefined;
  /** How cases reach the load balancer; without it the data-path cases must be skipped (`unmetRequirementSkips`). */
  dataPath?: DataPathAccess;
  /** Per-case wait for a load balancer, also the bound on cleanup. */
  timeoutMs: number;
  namespacePrefix: string;
  /** Case name -> reason (see `resolveSkips`). */
  skips: ReadonlyMap<string, string>;
  /** Ginkgo-style selection by case name: run what matches `focus` and does not match `skip`. */
  focus?: RegExp;
  skip?: RegExp;
  cases?: readonly ConformanceCase[];
}

/** The namespace part of the client, so the runner can be tested without an apiserver. */
export type SuiteKube = Pick<ConformanceKubeClient, "createNamespace" | "deleteNamespace"> & CaseContext["kube"];

export interface SuiteDeps {
  kube: SuiteKube;
  /** Receives every progress line, without a trailing newline. */
  write(line: string): void;
  /** Aborting stops the running case, cleans up its namespace and reports the rest skipped. */
  signal?: AbortSignal;
  now?: () => number;
}

/** The run was stopped by a signal while this case ran. */
export class ConformanceInterruptedError extends LbOperatorError {}

const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs the cases one after another (they share the cluster's controller, so parallel cases would measure each
 * other), each in a fresh namespace that is deleted afterwards whatever the outcome, with one progress line per case.
 */
export async function runConformanceSuite(options: SuiteOptions, deps: SuiteDeps): Promise<SuiteResult> {
  const now = deps.now ?? Date.now;
  const startedAt = new Date(now());
  const results: CaseResult[] = [];
  const cases = options.cases ?? conformanceCases;
  deps.write(
    `lb-operator conformance: ${cases.length} cases against ${options.target} (class ${options.loadBalancerClass})`,
  );
  for (const testCase of cases) {
    const skipReason = deps.signal?.aborted ? "interrupted" : selectionSkip(testCase.name, options);
    if (skipReason !== undefined) {
      results.push({ name: testCase.name, status: "skipped", durationMs: 0, message: skipReason });
      deps.write(`- ${testCase.name} [skipped: ${skipReason}]`);
      continue;
    }
    const result = await runOne(testCase, options, deps, now);
    results.push(result);
    deps.write(
      result.status === "passed"
        ? `✓ ${result.name} (${formatSeconds(result.durationMs)})`
        : `✗ ${result.name} (${formatSeconds(result.durationMs)})`,
    );
    if (result.status === "failed") deps.write(`    ${result.message ?? ""}`);
  }
  const suite: SuiteResult = {
    target: options.target,
    startedAt,
    durationMs: now() - startedAt.getTime(),
    cases: results,
    interrupted: deps.signal?.aborted ?? false,
  };
  for (const line of summaryTable(suite)) deps.write(line);
  return suite;
}

function selectionSkip(name: string, options: SuiteOptions): string | undefined {
  const listed = options.skips.get(name);
  if (listed !== undefined) return listed;
  if (options.focus && !options.focus.test(name)) return `does not match --focus ${String(options.focus)}`;
  if (options.skip?.test(name)) return `matches --skip ${String(options.skip)}`;
  return undefined;
}

async function runOne(
  testCase: ConformanceCase,
  options: SuiteOptions,
  deps: SuiteDeps,
  now: () => number,
): Promise<CaseResult> {
  const started = now();
  let namespace: string | undefined;
  let outcome: CaseResult;
  try {
    namespace = await deps.kube.createNamespace(options.namespacePrefix);
    const run = testCase.run({
      kube: deps.kube,
      namespace,
      loadBalancerClass: options.loadBalancerClass,
      requestableAddress: options.requestableAddress,
      unavailableAddress: options.unavailableAddress,
      timeoutMs: options.timeoutMs,
      dataPath: options.dataPath,
    });
    // An interrupted case is abandoned, not awaited: its waits may take minutes, and cleanup must not.
    await (deps.signal ? Promise.race([run, abortion(deps.signal)]) : run);
    outcome = { name: testCase.name, status: "passed", durationMs: now() - started };
  } catch (err) {
    outcome = { name: testCase.name, status: "failed", durationMs: now() - started, ...describeError(err) };
  }
  if (namespace !== undefined) {
    try {
      await deps.kube.deleteNamespace(namespace, options.timeoutMs);
    } catch (err) {
      deps.write(`  ! could not delete namespace ${namespace}: ${errorMessage(err)}`);
    }
  }
  return outcome;
}

function abortion(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => reject(new ConformanceInterruptedError("interrupted", { cause: signal.reason }));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

function describeError(err: unknown): Pick<CaseResult, "message" | "errorType" | "detail"> {
  if (!(err instanceof Error)) return { message: String(err), errorType: "Error" };
  let detail = err.stack ?? err.message;
  for (let cause: unknown = err.cause, depth = 0; cause !== undefined && depth < 5; depth++) {
    detail += `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : JSON.stringify(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return { message: err.message, errorType: err.name, detail };
}

/** The closing table: one row per case, then `N cases: P passed, F failed, S skipped in T`. */
export function summaryTable(suite: SuiteResult): string[] {
  const counts = countByStatus(suite.cases);
  const rows = suite.cases.map((c) => {
    const time = c.status === "skipped" ? "-" : formatSeconds(c.durationMs);
    const note = c.status === "skipped" ? ` (${c.message ?? ""})` : "";
    return `  ${c.status.padEnd(8)} ${time.padStart(8)}  ${c.name}${note}`;
  });
  return [
    "",
    `Summary (${suite.target})${suite.interrupted ? " - interrupted" : ""}`,
    `  ${"RESULT".padEnd(8)} ${"TIME".padStart(8)}  CASE`,
    ...rows,
    `${suite.cases.length} cases: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${formatSeconds(suite.durationMs)}`,
  ];
}

/**
 * SIGINT/SIGTERM abort the returned signal so the runner cleans up the running case's namespace; a second signal
 * exits at once (130). `dispose` removes the handlers.
 */
export function abortOnInterrupt(write: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    write(`received ${sig}: cleaning up (again to exit at once)`);
    abort.abort(new Error(`received ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: abort.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
