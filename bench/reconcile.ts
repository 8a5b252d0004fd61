/**
 * bench/reconcile.ts: how fast the controller gives N LoadBalancer Services an address, against what the
 * apiserver itself allows, measured in the same run on the same apiserver (see bench/README.md).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH tsx bench/reconcile.ts --sizes 1000,5000 --concurrency 20 --workers 5
 *
 * Per size, on a fresh real kube-apiserver + etcd (test/env/control-plane.ts):
 *  1. baseline: bench/baseline-patcher.ts as a child process (one status merge patch per Service, --workers
 *     at once, bare keep-alive client) handles class bench.example/baseline; the bench creates N Services of
 *     that class in its own namespace and times create -> first address seen by its own watch.
 *  2. controller: `lb-operator run --provider baremetal` as a child process (its RSS sampled from /proc every
 *     250 ms) handles lb-operator.io/baremetal; same creates, same timings, another namespace.
 *
 * Fairness:
 *  - A fresh control plane per size, so a size never runs on an etcd grown by the previous one. Within a size
 *    both phases share the apiserver; the baseline always runs first, and its Services are deleted (and their
 *    ClusterIPs released) before the controller starts. Keeping them would not be neutral: the apiserver's
 *    ClusterIP allocator (IPAddress objects, default since 1.33) walks every allocated address on each
 *    allocation (ipallocator.(*Allocator).Used -> cache.ListAll is 30-40% of apiserver CPU in a pprof of
 *    these creates), so each create gets slower with every Service that exists, and the controller's creates
 *    would run against 2x the addresses the baseline's ran against.
 *  - Both clients are child processes started with `node --import tsx`, so each has its own event loop and
 *    the same loader overhead; neither is running while the other is measured.
 *  - The bench's creating client and its observer watch are the same bare client in both phases.
 *  - API Priority and Fairness puts the admin token (system:masters) in the exempt level and neither client
 *    rate-limits itself, so neither phase is throttled; the in-flight limits are raised anyway.
 *  - On this kind of 2-core machine the baseline varies by up to ~25% from run to run with no other load: compare
 *    the two columns of one run, not runs with each other. The "noise" row shows CPU used by other processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { type ControlPlane, freePort, startControlPlane } from "../test/env/control-plane.js";
import { type RequestSnapshot, isMutating, requestDelta, requestSnapshot } from "./support/apiserver-metrics.js";
import { KubeHttp, listAll, loadKubeconfig } from "./support/kube-http.js";
import { type LoadTimings, deleteServices, runLoad } from "./support/load.js";
import {
  type ManagedChild,
  exitStatus,
  launchManaged,
  logTail,
  terminateManaged,
} from "../test/env/managed-process.js";
import {
  type ProcMemory,
  ProcSampler,
  cpuSeconds,
  machineBusySeconds,
  processName,
  readMemory,
} from "./support/proc-stats.js";
import { type LatencySummary, fmt, mb, ratio, summarize, table } from "./support/stats.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const BASELINE_CLASS = "bench.example/baseline";
const CONTROLLER_CLASS = "lb-operator.io/baremetal";
/** RFC 2544's benchmarking range. Addresses only ever appear in Service status; no traffic is sent. */
const ADDRESS_POOL = "bench=198.18.0.0/15";
/** source.component of the controller's Events (src/run-controller.ts). */
const CONTROLLER_COMPONENT = "lb-operator";
const CONVERGENCE_GOAL = 1.3;
const RSS_GOAL_MB = 250;
const RSS_GOAL_SIZE = 5_000;

const HELP = `usage: tsx bench/reconcile.ts [options]
  --sizes LIST         Service counts, run in order (default 1000,5000)
  --concurrency N      concurrent creates of the bench's creating client (default 20)
  --workers N          controller --workers, and the baseline patcher's concurrency (default 5)
  --timeout S          per phase: seconds from the first create until every Service must have an address
                       (default 60 + N/20, e.g. 310 at 5,000)
  --budget S           the whole run: no phase may run past this many seconds after the start (default 570)
  --event-wait S       seconds to wait for the controller's Events to stop trailing (default 60)
  --keep-logs          keep the log directory even when everything passed
  --tsx                run the controller from source through tsx (default: build and run dist/, as production does)
  --controller-node-args="ARGS"
                       extra node flags for the controller process only (note the "="), e.g.
                       --controller-node-args="--max-old-space-size=192"
  --profile            write a V8 CPU profile of the controller into the log directory (implies --keep-logs);
                       summarize it with: tsx bench/cpuprofile-top.ts <file.cpuprofile>
  -h, --help`;

interface Options {
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
  controllerNodeArgs: string[];
  /** Run the controller from source through tsx instead of the compiled dist/ that production runs. */
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
  "controller-node-args": { type: "string", default: "" },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parseCommandLine(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"] {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
}

function parseOptions(): Options {
  const values = parseCommandLine();
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const int = (name: string, text: string, max: number): number => {
    const v = Number(text.replaceAll("_", ""));
    if (!Number.isInteger(v) || v < 1 || v > max)
      usage(`--${name}: expected an integer from 1 to ${max}, got "${text}"`);
    return v;
  };
  return {
    // 30000-49999 holds 20,000 NodePorts; a size holds at most N at a time (the baseline's are deleted first).
    sizes: values.sizes.split(",").map((s) => int("sizes", s.trim(), 10_000)),
    concurrency: int("concurrency", values.concurrency, 500),
    workers: int("workers", values.workers, 200),
    timeoutMs: values.timeout === undefined ? undefined : int("timeout", values.timeout, 3_600) * 1000,
    budgetS: int("budget", values.budget, 86_400),
    deadline: performance.now() + int("budget", values.budget, 86_400) * 1000,
    eventWaitMs: int("event-wait", values["event-wait"], 600) * 1000,
    keepLogs: values["keep-logs"] || values.profile,
    profile: values.profile,
    controllerNodeArgs: values["controller-node-args"].split(/\s+/).filter((a) => a !== ""),
    tsx: values.tsx,
  };
}

function usage(message: string): never {
  process.stderr.write(`${message}\n${HELP}\n`);
  process.exit(2);
}

/** Kept free at the end of the budget for stopping the controller and the control plane. */
const TEARDOWN_RESERVE_MS = 15_000;

/** The phase's convergence timeout, cut to what is left of the budget. */
function phaseTimeout(n: number, opts: Options, label: string): number {
  const wanted = opts.timeoutMs ?? 60_000 + 50 * n;
  const left = opts.deadline - performance.now() - TEARDOWN_RESERVE_MS;
  if (left < 10_000)
    throw new Error(`${label}: the bench budget of ${opts.budgetS} s (--budget) is used up; not starting this phase`);
  if (left < wanted)
    log(
      `${label}: only ${(left / 1000).toFixed(0)} s of the --budget ${opts.budgetS} s left; that is this phase's timeout`,
    );
  return Math.min(wanted, left);
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface CpuWindow {
  apiserver: number;
  etcd: number;
  client: number;
  bench: number;
  /** Busy CPU of the whole machine; in a cpuDelta, the part the four above do not explain (other processes). */
  machine: number;
}

interface PhaseResult {
  latency: LatencySummary;
  timings: LoadTimings;
  maxRssBytes: number;
  peakRssBytes: number;
  idleRssBytes: number | undefined;
  /** RSS once ready (caches synced / watch connected), before the first create. */
  readyRssBytes: number | undefined;
  ready: ProcMemory | undefined;
  idle: ProcMemory | undefined;
  maxFds: number;
  cpu: CpuWindow;
  requests: RequestSnapshot;
}

interface ControllerExtras {
  events: EventCount & { settledAfterS: number; complete: boolean };
  memory: ControllerMemory;
  reconciles: { count: number; meanMs: number; verdicts: string };
  /** After convergence until the Events settled (includes the bench's own event listing). */
  trailingCpu: CpuWindow;
}

interface SizeResult {
  n: number;
  baseline: PhaseResult;
  controller: PhaseResult & ControllerExtras;
}

/** CPU seconds of the apiserver, etcd, one client process and the bench itself, read together. */
function cpuReader(cp: ControlPlane, clientPid: number): () => CpuWindow {
  const pids = cp.processIds();
  const byName = (name: string): number | undefined => pids.find((p) => processName(p) === name);
  const apiserver = byName("kube-apiserver");
  const etcd = byName("etcd");
  return () => {
    const usage = process.cpuUsage();
    return {
      apiserver: apiserver === undefined ? Number.NaN : (cpuSeconds(apiserver) ?? Number.NaN),
      etcd: etcd === undefined ? Number.NaN : (cpuSeconds(etcd) ?? Number.NaN),
      client: cpuSeconds(clientPid) ?? Number.NaN,
      bench: (usage.user + usage.system) / 1e6,
      machine: machineBusySeconds(),
    };
  };
}

function cpuDelta(a: CpuWindow, b: CpuWindow): CpuWindow {
  const d = {
    apiserver: b.apiserver - a.apiserver,
    etcd: b.etcd - a.etcd,
    client: b.client - a.client,
    bench: b.bench - a.bench,
  };
  return { ...d, machine: b.machine - a.machine - d.apiserver - d.etcd - d.client - d.bench };
}

async function createNamespace(http: KubeHttp, name: string): Promise<void> {
  await http.call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

/** A child process of the bench (the controller, the baseline patcher), named in its errors. */
interface Child extends ManagedChild {
  readonly name: string;
  readonly pid: number;
}

/** Starts `node args` (the bench's own node), killed with the bench however it ends (test/env/managed-process.ts). */
function spawnNode(
  name: string,
  args: string[],
  options: { cwd: string; logPath: string; pipeStdout?: boolean },
): Child {
  const { logPath, ...launch } = options;
  const managed = launchManaged(process.execPath, args, logPath, launch);
  const pid = managed.child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}; log ${logPath}:\n${logTail(logPath)}`);
  return { ...managed, name, pid };
}

/** Rejects if the child exits before it is ready, so a crash reads as a crash, not a timeout. */
function exitedEarly(child: Child): Promise<never> {
  return child.exited.then(() => {
    throw new Error(
      `${child.name} exited (${exitStatus(child)}) before it was ready; log ${child.logPath}:\n${logTail(child.logPath)}`,
    );
  });
}

async function waitForLine(child: Child, line: string, timeoutMs: number): Promise<void> {
  const stdout = child.child.stdout;
  if (!stdout) throw new Error(`${child.name}: stdout is not piped`);
  const lines = createInterface(stdout);
  const seen = new Promise<void>((resolve) => lines.on("line", (l) => l.trim() === line && resolve()));
  const timeout = sleep(timeoutMs).then(() => {
    throw new Error(
      `${child.name} did not print "${line}" within ${timeoutMs / 1000} s; log ${child.logPath}:\n${logTail(child.logPath)}`,
    );
  });
  await Promise.race([seen, exitedEarly(child), timeout]);
}

async function waitForReadyz(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const early = exitedEarly(child);
  early.catch(() => undefined);
  for (;;) {
    if (exitStatus(child) !== undefined) await early;
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${child.name} was not ready (${url}) within ${timeoutMs / 1000} s; log ${child.logPath}:\n${logTail(child.logPath)}`,
      );
    }
    await sleep(200);
  }
}

function diedCheck(child: Child): () => void {
  return () => {
    const status = exitStatus(child);
    if (status !== undefined)
      throw new Error(
        `${child.name} exited (${status}) during the phase; log ${child.logPath}:\n${logTail(child.logPath)}`,
      );
  };
}

async function runBaseline(
  cp: ControlPlane,
  http: KubeHttp,
  n: number,
  opts: Options,
  logDir: string,
): Promise<PhaseResult> {
  const label = `[N=${n} baseline]`;
  const namespace = `bench-baseline-${n}`;
  await createNamespace(http, namespace);
  const patcher = spawnNode(
    "baseline-patcher",
    [
      "--import",
      "tsx",
      "bench/baseline-patcher.ts",
      "--kubeconfig",
      cp.kubeconfigPath,
      "--class",
      BASELINE_CLASS,
      "--workers",
      String(opts.workers),
    ],
    { cwd: REPO, logPath: join(logDir, `baseline-patcher-${n}.log`), pipeStdout: true },
  );
  const sampler = new ProcSampler(patcher.pid).start();
  try {
    await waitForLine(patcher, "ready", 60_000);
    const ready = readMemory(patcher.pid);
    log(`${label} patcher ready (pid ${patcher.pid}); creating ${n} Services in ${namespace}`);
    const cpu = cpuReader(cp, patcher.pid);
    const requestsBefore = await requestSnapshot(http);
    const cpuBefore = cpu();
    const timings = await runLoad({
      http,
      namespace,
      loadBalancerClass: BASELINE_CLASS,
      n,
      concurrency: opts.concurrency,
      timeoutMs: phaseTimeout(n, opts, label),
      label,
      log,
      check: diedCheck(patcher),
    });
    const cpuAfter = cpu();
    const requests = requestDelta(requestsBefore, await requestSnapshot(http));
    await sleep(3_000);
    const idle = readMemory(patcher.pid);
    sampler.stop();
    return {
      latency: summarize(timings),
      timings,
      maxRssBytes: sampler.maxRssBytes,
      peakRssBytes: sampler.peakRssBytes,
      idleRssBytes: idle?.rssBytes,
      readyRssBytes: ready?.rssBytes,
      ready,
      idle,
      maxFds: sampler.maxFds,
      cpu: cpuDelta(cpuBefore, cpuAfter),
      requests,
    };
  } finally {
    sampler.stop();
    await terminateManaged(patcher, 2_000);
  }
}

/** Events of the namespace by reason. */
interface EventCount {
  /** Events the controller wrote (source.component lb-operator). */
  total: number;
  byReason: Map<string, number>;
  /** Events of other writers in the namespace, by "component: reason" (the apiserver's allocator repair loops). */
  others: Map<string, number>;
}

interface EventLike {
  reason?: string;
  reportingComponent?: string;
  source?: { component?: string };
}

/** The controller's Events in the namespace by reason, and everyone else's. */
async function countEvents(http: KubeHttp, namespace: string): Promise<EventCount> {
  const { items } = await listAll<EventLike>(http, `/api/v1/namespaces/${namespace}/events`);
  const byReason = new Map<string, number>();
  const others = new Map<string, number>();
  let total = 0;
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const e of items) {
    const component = e.source?.component || e.reportingComponent || "?";
    if (component === CONTROLLER_COMPONENT) {
      total++;
      bump(byReason, e.reason ?? "?");
    } else bump(others, `${component}: ${e.reason ?? "?"}`);
  }
  return { total, byReason, others };
}

/**
 * The controller writes Events asynchronously, after the status: wait until `expected` exist, or the count
 * stops moving for 6 s, or `waitMs` passes.
 */
async function waitForEvents(
  http: KubeHttp,
  namespace: string,
  expected: number,
  o: { since: number; waitMs: number; label: string },
) {
  const { since, waitMs, label } = o;
  let last = await countEvents(http, namespace);
  let lastChange = performance.now();
  const deadline = performance.now() + waitMs;
  while (last.total < expected && performance.now() < deadline && performance.now() - lastChange < 6_000) {
    await sleep(1_500);
    const now = await countEvents(http, namespace);
    if (now.total !== last.total) {
      lastChange = performance.now();
      log(`${label} events written: ${now.total}/${expected}`);
    }
    last = now;
  }
  return { ...last, settledAfterS: (lastChange - since) / 1000, complete: last.total >= expected };
}

interface ControllerMemory {
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers, TLS and socket handles count partly). */
  externalBytes: number;
}

/** Reconcile count, mean duration and verdicts, and V8 heap figures, from the controller's /metrics. */
async function controllerMetrics(url: string): Promise<Pick<ControllerExtras, "reconciles" | "memory">> {
  const text = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
  const value = (re: RegExp): number => {
    let sum = 0;
    for (const line of text.split("\n")) if (re.test(line)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    return sum;
  };
  const count = value(/^lb_operator_reconcile_duration_seconds_count /);
  const seconds = value(/^lb_operator_reconcile_duration_seconds_sum /);
  const verdicts = [...text.matchAll(/^lb_operator_reconcile_total\{verdict="(\w+)"\} (\S+)$/gm)]
    .map((m) => `${m[1]} ${m[2]}`)
    .join(", ");
  return {
    reconciles: { count, meanMs: (seconds / count) * 1000, verdicts: verdicts || "none" },
    memory: {
      heapUsedBytes: value(/^nodejs_heap_size_used_bytes /),
      heapTotalBytes: value(/^nodejs_heap_size_total_bytes /),
      externalBytes: value(/^nodejs_external_memory_bytes /),
    },
  };
}

async function runController(
  cp: ControlPlane,
  http: KubeHttp,
  n: number,
  opts: Options,
  logDir: string,
): Promise<SizeResult["controller"]> {
  const label = `[N=${n} controller]`;
  const namespace = `bench-controller-${n}`;
  await createNamespace(http, namespace);
  const port = await freePort("127.0.0.1");
  const controller = spawnNode(
    "controller",
    [
      ...opts.controllerNodeArgs,
      ...(opts.profile
        ? ["--cpu-prof", "--cpu-prof-dir", logDir, "--cpu-prof-name", `controller-${n}.cpuprofile`]
        : []),
      ...(opts.tsx ? ["--import", "tsx", "src/main.ts"] : ["dist/src/main.js"]),
      "run",
      "--provider",
      "baremetal",
      "--kubeconfig",
      cp.kubeconfigPath,
      "--address-pool",
      ADDRESS_POOL,
      "--no-leader-elect",
      "--load-balancer-class",
      CONTROLLER_CLASS,
      "--workers",
      String(opts.workers),
      "--metrics-bind-address",
      `127.0.0.1:${port}`,
      "--log-level",
      "warn",
    ],
    { cwd: REPO, logPath: join(logDir, `controller-${n}.log`) },
  );
  // Sampling starts at spawn: the maximum includes start-up and the initial list.
  const sampler = new ProcSampler(controller.pid).start();
  try {
    await waitForReadyz(controller, `http://127.0.0.1:${port}/readyz`, 60_000);
    const ready = readMemory(controller.pid);
    log(`${label} controller ready (pid ${controller.pid}); creating ${n} Services in ${namespace}`);
    const cpu = cpuReader(cp, controller.pid);
    const requestsBefore = await requestSnapshot(http);
    const cpuBefore = cpu();
    const timings = await runLoad({
      http,
      namespace,
      loadBalancerClass: CONTROLLER_CLASS,
      n,
      concurrency: opts.concurrency,
      timeoutMs: phaseTimeout(n, opts, label),
      label,
      log,
      check: diedCheck(controller),
    });
    const cpuAfterConvergence = cpu();
    const events = await waitForEvents(http, namespace, 2 * n, {
      since: timings.lastStatus,
      waitMs: Math.min(opts.eventWaitMs, Math.max(0, opts.deadline - performance.now() - TEARDOWN_RESERVE_MS)),
      label,
    });
    const cpuAfterEvents = cpu();
    const requests = requestDelta(requestsBefore, await requestSnapshot(http));
    await sleep(3_000);
    const idle = readMemory(controller.pid);
    const { reconciles, memory } = await controllerMetrics(`http://127.0.0.1:${port}/metrics`);
    sampler.stop();
    diedCheck(controller)();
    return {
      latency: summarize(timings),
      timings,
      maxRssBytes: sampler.maxRssBytes,
      peakRssBytes: sampler.peakRssBytes,
      idleRssBytes: idle?.rssBytes,
      readyRssBytes: ready?.rssBytes,
      ready,
      idle,
      maxFds: sampler.maxFds,
      cpu: cpuDelta(cpuBefore, cpuAfterConvergence),
      trailingCpu: cpuDelta(cpuAfterConvergence, cpuAfterEvents),
      requests,
      events,
      reconciles,
      memory,
    };
  } finally {
    sampler.stop();
    await terminateManaged(controller, 10_000);
  }
}

function report(r: SizeResult, opts: Options): string {
  const b = r.baseline;
  const c = r.controller;
  const row = (
    name: string,
    bv: number | undefined,
    cv: number | undefined,
    digits = 0,
    withRatio = true,
  ): string[] => [name, fmt(bv, digits), fmt(cv, digits), withRatio ? ratio(cv, bv) : ""];
  const allKeys = [...new Set([...b.requests.keys(), ...c.requests.keys()])].sort();
  const keys = allKeys.filter(isMutating);
  // Reads of API resources (not /metrics, /healthz and other non-resource paths, which have no resource).
  const readKeys = allKeys.filter((k) => !isMutating(k) && !/ (\?|)$/.test(k));
  const count = (p: PhaseResult, key: string): number => p.requests.get(key)?.count ?? 0;
  const perService = (p: PhaseResult, key: string): number | undefined => {
    const s = p.requests.get(key);
    return s === undefined ? 0 : s.count / r.n;
  };
  const meanMs = (p: PhaseResult, key: string): number | undefined => {
    const s = p.requests.get(key);
    return s === undefined ? undefined : (s.seconds / s.count) * 1000;
  };
  const rows: string[][] = [
    ["", "baseline", "controller", "controller/baseline"],
    row("create -> address p50 (ms)", b.latency.p50Ms, c.latency.p50Ms),
    row("create -> address p90 (ms)", b.latency.p90Ms, c.latency.p90Ms),
    row("create -> address p99 (ms)", b.latency.p99Ms, c.latency.p99Ms),
    row("create -> address max (ms)", b.latency.maxMs, c.latency.maxMs),
    row("convergence, first create -> last address (s)", b.latency.convergenceS, c.latency.convergenceS, 1),
    row("creates finished after (s)", b.latency.createS, c.latency.createS, 1),
    row("create rate (Services/s)", b.latency.createRate, c.latency.createRate),
    row("max RSS, sampled every 250 ms (MB)", mb(b.maxRssBytes), mb(c.maxRssBytes), 1),
    row("peak RSS, VmHWM (MB)", mb(b.peakRssBytes), mb(c.peakRssBytes), 1),
    row("RSS when ready, before the first create (MB)", mb(b.readyRssBytes), mb(c.readyRssBytes), 1),
    row("idle RSS, 3 s after convergence/events (MB)", mb(b.idleRssBytes), mb(c.idleRssBytes), 1),
    row("max open fds", b.maxFds, c.maxFds),
    ["CPU seconds, first create -> convergence", "", "", ""],
    row("  kube-apiserver", b.cpu.apiserver, c.cpu.apiserver, 1),
    row("  etcd", b.cpu.etcd, c.cpu.etcd, 1),
    row("  client (patcher | controller)", b.cpu.client, c.cpu.client, 1),
    row("  bench process (creates + watch)", b.cpu.bench, c.cpu.bench, 1),
    row("  anything else on the machine (noise)", b.cpu.machine, c.cpu.machine, 1, false),
    ["apiserver writes per Service (mean ms)", "", "", ""],
    ...keys.map((k) => [
      `  ${k}`,
      `${fmt(perService(b, k), 2)} (${fmt(meanMs(b, k), 1)})`,
      `${fmt(perService(c, k), 2)} (${fmt(meanMs(c, k), 1)})`,
      "",
    ]),
    ["apiserver reads during the phase (count; LIST events is the bench counting Events)", "", "", ""],
    ...readKeys.map((k) => [`  ${k}`, fmt(count(b, k)), fmt(count(c, k)), ""]),
  ];
  const reasons = [...c.events.byReason].map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  const others = [...c.events.others].map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  const m = c.memory;
  const conv = c.latency.convergenceS / b.latency.convergenceS;
  const rssMb = mb(Math.max(c.maxRssBytes, c.peakRssBytes)) ?? Number.NaN;
  const lines = [
    `== N = ${fmt(r.n)} Services: ${opts.concurrency} concurrent creates; controller --workers ${opts.workers} = baseline patcher concurrency; ${availableParallelism()} CPUs` +
      `${opts.controllerNodeArgs.length > 0 ? `; controller node flags: ${opts.controllerNodeArgs.join(" ")}` : ""} ==`,
    table(rows),
    `After convergence, until the controller's Events settled: controller ${fmt(c.trailingCpu.client, 1)} CPU s, kube-apiserver ${fmt(c.trailingCpu.apiserver, 1)} CPU s` +
      " (writes counted above include these Events)",
    `Controller reconciles: ${fmt(c.reconciles.count)} (${c.reconciles.verdicts}), mean ${fmt(c.reconciles.meanMs, 1)} ms each`,
    `Events written by the controller in ${`bench-controller-${r.n}`}: ${fmt(c.events.total)} of ${fmt(2 * r.n)} expected` +
      ` (${reasons || "none"}); ${c.events.complete ? "all written" : `INCOMPLETE: ${fmt(2 * r.n - c.events.total)} never written (dropped or failed)`}, last one seen ${fmt(c.events.settledAfterS, 1)} s after convergence` +
      (others ? `\n  (other Events in that namespace, not counted: ${others})` : ""),
    `Controller memory when idle: RSS ${fmt(mb(c.idleRssBytes), 1)} MB = anonymous ${fmt(mb(c.idle?.anonBytes), 1)} + files ${fmt(mb(c.idle?.fileBytes), 1)}` +
      ` (when ready: ${fmt(mb(c.ready?.anonBytes), 1)} + ${fmt(mb(c.ready?.fileBytes), 1)});` +
      ` V8 heap used ${fmt(mb(m.heapUsedBytes), 1)} MB of ${fmt(mb(m.heapTotalBytes), 1)} MB, external ${fmt(mb(m.externalBytes), 1)} MB`,
    `Goal: controller convergence within ${CONVERGENCE_GOAL}x of baseline: ${conv <= CONVERGENCE_GOAL ? "MET" : "NOT MET"} (${conv.toFixed(2)}x)`,
    r.n >= RSS_GOAL_SIZE
      ? `Goal: controller RSS < ${RSS_GOAL_MB} MB at ${fmt(RSS_GOAL_SIZE)}: ${rssMb < RSS_GOAL_MB ? "MET" : "NOT MET"} (max ${rssMb.toFixed(1)} MB)`
      : `Goal: controller RSS < ${RSS_GOAL_MB} MB applies at ${fmt(RSS_GOAL_SIZE)}; here max ${rssMb.toFixed(1)} MB`,
  ];
  return lines.join("\n");
}

async function benchSize(n: number, opts: Options, logDir: string): Promise<SizeResult> {
  log(`[N=${n}] starting a fresh kube-apiserver + etcd`);
  const cp = await startControlPlane({
    serviceNodePortRange: "30000-49999",
    extraApiServerArgs: ["--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000"],
  });
  const http = new KubeHttp(loadKubeconfig(cp.kubeconfigPath), { maxSockets: opts.concurrency + 4 });
  try {
    const baseline = await runBaseline(cp, http, n, opts, logDir);
    await deleteServices(http, `bench-baseline-${n}`, opts.concurrency, (line) => log(`[N=${n}] ${line}`));
    const controller = await runController(cp, http, n, opts, logDir);
    return { n, baseline, controller };
  } finally {
    http.close();
    await cp.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions();
  if (!opts.tsx) {
    log("building dist/ (tsc -p tsconfig.build.json)");
    execFileSync(join(REPO, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: REPO, stdio: "inherit" });
  }
  const logDir = mkdtempSync(join(tmpdir(), "lb-operator-bench-"));
  // Ctrl-C: process.exit runs the exit hooks of test/env/managed-process.ts (which SIGKILL the controller and
  // the patcher) and of the control plane (which kill etcd and the apiserver and remove its directory).
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      log(`\n${signal}: stopping the controller, the patcher and the control plane (logs in ${logDir})`);
      process.exit(130);
    });
  }
  const started = performance.now();
  log(`bench: sizes ${opts.sizes.join(", ")}; logs in ${logDir}`);
  const results: SizeResult[] = [];
  try {
    for (const n of opts.sizes) {
      const result = await benchSize(n, opts, logDir);
      results.push(result);
      process.stdout.write(`\n${report(result, opts)}\n`);
    }
  } catch (err) {
    log(`\nbench FAILED: ${err instanceof Error ? err.message : String(err)}\nlogs kept in ${logDir}`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`\ntotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  if (!opts.keepLogs) rmSync(logDir, { recursive: true, force: true });
  else log(`logs kept in ${logDir}`);
}

await main();
// Pooled keep-alive sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
