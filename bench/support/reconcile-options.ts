/** The command line of bench/reconcile.ts, and the phase timeout that the --budget leaves. */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { errorMessage } from "../../src/errors.js";

export const RECONCILE_HELP = `usage: tsx bench/reconcile.ts [options]
  --sizes LIST         Service counts, run in order (default 1000,5000)
  --concurrency N      concurrent creates of the bench's creating client (default 20)
  --workers N          workers of all three contenders: our controller's --workers, the upstream controller's
                       ConcurrentServiceSyncs, the floor patcher's concurrency (default 5, as cloud-provider-kind)
  --timeout S          per phase: seconds from the first create until every Service must have an address
                       (default 60 + N/20, e.g. 310 at 5,000)
  --budget S           the whole run: no phase may run past this many seconds after the start (default 570)
  --event-wait S       seconds to wait for a controller's Events to stop trailing (default 60)
  --keep-logs          keep the log directory even when everything passed
  --tsx                run our controller from source through tsx (default: build and run dist/, as production does)
  --controller-node-args="ARGS"
                       extra node flags for our controller process only (note the "="), e.g.
                       --controller-node-args="--max-old-space-size=192"
  --profile            write a V8 CPU profile of our controller into the log directory (implies --keep-logs);
                       summarize it with: tsx bench/cpuprofile-top.ts <file.cpuprofile>
  --heap-snapshot      write a V8 heap snapshot of our controller once idle after each size, into the log
                       directory (implies --keep-logs); summarize: tsx bench/heapsnapshot-top.ts <file>
  --apiserver-profile S
                       take a CPU profile of kube-apiserver over the first S seconds of every phase's creates
                       (its /debug/pprof/profile) into the log directory (implies --keep-logs); summarize it
                       with: go tool pprof -top <file.pprof>
  -h, --help`;

export interface ReconcileOptions {
  sizes: number[];
  concurrency: number;
  workers: number;
  /** Undefined: 60 s + 50 ms per Service. */
  timeoutMs: number | undefined;
  eventWaitMs: number;
  /** performance.now() after which no phase may still run. */
  deadline: number;
  budgetS: number;
  keepLogs: boolean;
  profile: boolean;
  heapSnapshot: boolean;
  /** Seconds of kube-apiserver CPU profile per phase, from the first create; 0: none. */
  apiserverProfileS: number;
  controllerNodeArgs: string[];
  /** Run our controller from source through tsx instead of the compiled dist/ that production runs. */
  tsx: boolean;
}

const OPTIONS = {
  sizes: { type: "string", default: "1000,5000" },
  concurrency: { type: "string", default: "20" },
  workers: { type: "string", default: "5" },
  timeout: { type: "string" },
  budget: { type: "string", default: "570" },
  "event-wait": { type: "string", default: "60" },
  "keep-logs": { type: "boolean", default: false },
  tsx: { type: "boolean", default: false },
  profile: { type: "boolean", default: false },
  "heap-snapshot": { type: "boolean", default: false },
  "apiserver-profile": { type: "string" },
  "controller-node-args": { type: "string", default: "" },
  help: { type: "boolean", short: "h", default: false },
} as const;

function usage(message: string): never {
  process.stderr.write(`${message}\n${RECONCILE_HELP}\n`);
  process.exit(2);
}

function parseCommandLine(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"] {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (err) {
    usage(errorMessage(err));
  }
}

/** Exits with the help (0) or a usage error (2) instead of returning. */
export function parseReconcileOptions(): ReconcileOptions {
  const values = parseCommandLine();
  if (values.help) {
    process.stdout.write(`${RECONCILE_HELP}\n`);
    process.exit(0);
  }
  const int = (name: string, text: string, max: number): number => {
    const v = Number(text.replaceAll("_", ""));
    if (!Number.isInteger(v) || v < 1 || v > max)
      usage(`--${name}: expected an integer from 1 to ${max}, got "${text}"`);
    return v;
  };
  const budgetS = int("budget", values.budget, 86_400);
  return {
    // 30000-49999 holds 20,000 NodePorts; a size holds at most N at a time (each phase's are deleted first).
    sizes: values.sizes.split(",").map((s) => int("sizes", s.trim(), 10_000)),
    concurrency: int("concurrency", values.concurrency, 500),
    workers: int("workers", values.workers, 200),
    timeoutMs: values.timeout === undefined ? undefined : int("timeout", values.timeout, 3_600) * 1000,
    budgetS,
    deadline: performance.now() + budgetS * 1000,
    eventWaitMs: int("event-wait", values["event-wait"], 600) * 1000,
    keepLogs:
      values["keep-logs"] || values.profile || values["heap-snapshot"] || values["apiserver-profile"] !== undefined,
    profile: values.profile,
    heapSnapshot: values["heap-snapshot"],
    apiserverProfileS:
      values["apiserver-profile"] === undefined ? 0 : int("apiserver-profile", values["apiserver-profile"], 600),
    controllerNodeArgs: values["controller-node-args"].split(/\s+/).filter((a) => a !== ""),
    tsx: values.tsx,
  };
}

/** Kept free at the end of the budget for stopping the contenders and the control plane. */
export const TEARDOWN_RESERVE_MS = 15_000;

/** What is left of the budget for a phase's trailing waits (Events), never negative. */
export const budgetLeftMs = (opts: ReconcileOptions): number =>
  Math.max(0, opts.deadline - performance.now() - TEARDOWN_RESERVE_MS);

/** The phase's convergence timeout, cut to what is left of the budget. */
export function phaseTimeout(n: number, opts: ReconcileOptions, label: string, log: (line: string) => void): number {
  const wanted = opts.timeoutMs ?? 60_000 + 50 * n;
  const left = budgetLeftMs(opts);
  if (left < 10_000)
    throw new Error(`${label}: the bench budget of ${opts.budgetS} s (--budget) is used up; not starting this phase`);
  if (left < wanted)
    log(
      `${label}: only ${(left / 1000).toFixed(0)} s of the --budget ${opts.budgetS} s left; that is this phase's timeout`,
    );
  return Math.min(wanted, left);
}
