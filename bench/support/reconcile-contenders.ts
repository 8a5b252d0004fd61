/**
 * The three contenders of bench/reconcile.ts, each a child process with its own event loop or runtime:
 *  - floor: bench/baseline-patcher.ts, one status merge patch per Service, the least work that gives an address;
 *  - upstream: the k8s.io/cloud-provider service controller over a fake cloud that answers at once
 *    (bench/upstream-service-controller/main.go, built by scripts/install-upstream-service-controller.sh);
 *  - ours: `lb-operator run --provider baremetal --default-class`, whose controller side allocates from a pool
 *    and returns at once too.
 * The upstream controller handles class-less Services only (../shared/reference/upstream.md section 1,
 * wantsLoadBalancer), so upstream and ours get class-less Services; the floor patcher selects by class, so it
 * keeps its own (a class changes nothing the apiserver does on a create or a status patch).
 */
import { readdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../test/env/control-plane.js";
import { type Child, spawnChild, waitForLine, waitForReadyz } from "./bench-child.js";
import { productionRuntime } from "./production-runtime.js";
import type { Contender, ControllerMetrics } from "./reconcile-phase.js";
import type { ReconcileOptions } from "./reconcile-options.js";

const FLOOR_CLASS = "bench.example/baseline";
/** Ours also keeps a class of its own; --default-class makes it take the class-less Services too. */
const OURS_CLASS = "lb-operator.io/baremetal";
/** RFC 2544's benchmarking range. Addresses only ever appear in Service status; no traffic is sent. */
const ADDRESS_POOL = "198.18.0.0/15";
/** source.component of our Events (src/run-controller.ts) and of the upstream controller's (its Run). */
export const OURS_COMPONENT = "lb-operator";
export const UPSTREAM_COMPONENT = "service-controller";

export interface ContenderSetup {
  repo: string;
  kubeconfigPath: string;
  n: number;
  opts: ReconcileOptions;
  /** The directory scripts/install-upstream-service-controller.sh printed. */
  upstreamBinDir: string;
}

export function floorContender(s: ContenderSetup): Contender {
  return {
    column: "floor",
    namespace: `bench-floor-${s.n}`,
    loadBalancerClass: FLOOR_CLASS,
    events: undefined,
    spawn: async (logDir) =>
      spawnChild(
        "baseline-patcher",
        process.execPath,
        [
          "--import",
          "tsx",
          "bench/baseline-patcher.ts",
          "--kubeconfig",
          s.kubeconfigPath,
          "--class",
          FLOOR_CLASS,
        ].concat(["--workers", String(s.opts.workers)]),
        { cwd: s.repo, logPath: join(logDir, `floor-${s.n}.log`), pipeStdout: true },
      ),
    ready: (child) => waitForLine(child, "ready", 60_000),
  };
}

export function upstreamContender(s: ContenderSetup): Contender {
  return {
    column: "upstream",
    namespace: `bench-upstream-${s.n}`,
    loadBalancerClass: undefined,
    // EnsuringLoadBalancer and EnsuredLoadBalancer (the bench creates Nodes, so no UnAvailableLoadBalancer).
    events: { component: UPSTREAM_COMPONENT, perService: 2 },
    spawn: async (logDir) =>
      spawnChild(
        "upstream-service-controller",
        join(s.upstreamBinDir, "upstream-service-controller"),
        ["--kubeconfig", s.kubeconfigPath, "--workers", String(s.opts.workers), "--address-pool", ADDRESS_POOL],
        { cwd: s.repo, logPath: join(logDir, `upstream-${s.n}.log`), pipeStdout: true },
      ),
    ready: (child) => waitForLine(child, "ready", 60_000),
  };
}

export async function oursContender(s: ContenderSetup): Promise<Contender> {
  const port = await freePort("127.0.0.1");
  const { opts } = s;
  // Run as the image runs it (its ENV and node flags); --controller-node-args come after, so they win.
  const runtime = productionRuntime(s.repo);
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  return {
    column: "ours",
    namespace: `bench-ours-${s.n}`,
    loadBalancerClass: undefined,
    // EnsuredLoadBalancer only: EnsuringLoadBalancer is written only for an ensure still running after a second
    // (src/controller/progress-event.ts), and the bare-metal allocation returns at once.
    events: { component: OURS_COMPONENT, perService: 1 },
    spawn: async (logDir): Promise<Child> =>
      spawnChild(
        "controller",
        process.execPath,
        [
          ...runtime.nodeArgs,
          ...opts.controllerNodeArgs,
          ...(opts.profile
            ? ["--cpu-prof", "--cpu-prof-dir", logDir, "--cpu-prof-name", `controller-${s.n}.cpuprofile`]
            : []),
          ...(opts.heapSnapshot ? [`--heapsnapshot-signal=${SNAPSHOT_SIGNAL}`, `--diagnostic-dir=${logDir}`] : []),
          ...(opts.tsx ? ["--import", "tsx", "src/main.ts"] : ["dist/src/main.js"]),
          ...["run", "--provider", "baremetal", "--kubeconfig", s.kubeconfigPath],
          ...["--address-pool", `bench=${ADDRESS_POOL}`, "--no-leader-elect"],
          ...["--load-balancer-class", OURS_CLASS, "--default-class", "--workers", String(opts.workers)],
          ...["--metrics-bind-address", `127.0.0.1:${port}`, "--log-level", "warn"],
        ],
        { cwd: s.repo, logPath: join(logDir, `ours-${s.n}.log`), env: runtime.env },
      ),
    ready: (child) => waitForReadyz(child, `http://127.0.0.1:${port}/readyz`, 60_000),
    metrics: () => controllerMetrics(metricsUrl),
    heapSnapshot: (child, logDir) => signalledHeapSnapshot(child.pid, logDir, `controller-${s.n}`),
  };
}

const SNAPSHOT_SIGNAL = "SIGUSR2";

/**
 * Sends the --heapsnapshot-signal and waits until Node has written the snapshot (its size stops changing), then
 * renames it to `<name>.heapsnapshot`. Node names it Heap.<date>.<pid>...heapsnapshot in --diagnostic-dir.
 */
async function signalledHeapSnapshot(pid: number, dir: string, name: string): Promise<string> {
  const ours = (): string[] => readdirSync(dir).filter((f) => f.startsWith("Heap.") && f.includes(`.${pid}.`));
  const before = new Set(ours());
  process.kill(pid, SNAPSHOT_SIGNAL);
  const deadline = Date.now() + 120_000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    const file = ours().find((f) => !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === lastSize) {
      const target = join(dir, `${name}.heapsnapshot`);
      renameSync(join(dir, file), target);
      return target;
    }
    lastSize = size;
  }
  throw new Error(`no heap snapshot from pid ${pid} in ${dir} within 120 s`);
}

/** Reconcile count, mean duration and verdicts, and V8 heap figures, from our controller's /metrics. */
async function controllerMetrics(url: string): Promise<ControllerMetrics> {
  const text = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
  const value = (re: RegExp): number => {
    let sum = 0;
    for (const line of text.split("\n")) if (re.test(line)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    return sum;
  };
  // Summed over the provider and verdict labels (and without labels, as older builds export it).
  const count = value(/^lb_operator_reconcile_duration_seconds_count[{ ]/);
  const seconds = value(/^lb_operator_reconcile_duration_seconds_sum[{ ]/);
  const verdicts = [...text.matchAll(/^lb_operator_reconcile_total\{verdict="(\w+)"\} (\S+)$/gm)]
    .map((m) => `${m[1]} ${m[2]}`)
    .join(", ");
  return {
    reconciles: { count, meanMs: (seconds / count) * 1000, verdicts: verdicts || "none" },
    heapUsedBytes: value(/^nodejs_heap_size_used_bytes /),
    heapTotalBytes: value(/^nodejs_heap_size_total_bytes /),
    externalBytes: value(/^nodejs_external_memory_bytes /),
  };
}
