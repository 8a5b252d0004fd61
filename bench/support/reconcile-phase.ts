/**
 * One phase of bench/reconcile.ts: one contender (the floor patcher, the upstream controller or ours) alone on the
 * apiserver, N Services created in a fresh namespace, create -> address timed by the bench's own watch, the
 * contender's RSS sampled from spawn on, CPU of every process and the apiserver's request counters read around
 * the load. Its Services are deleted while it still runs (a controller's finalizer needs it) when `cleanUp`.
 */
import type { ControlPlane } from "../../test/env/control-plane.js";
import { terminateManaged } from "../../test/env/managed-process.js";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type RequestSnapshot, requestDelta, requestSnapshot } from "./apiserver-metrics.js";
import { type Child, diedCheck } from "./bench-child.js";
import type { KubeHttp } from "./kube-http.js";
import { type LoadTimings, deleteServices, runLoad } from "./load.js";
import { type ProcMemory, ProcSampler, cpuSeconds, machineBusySeconds, processName, readMemory } from "./proc-stats.js";
import { type SettledEvents, waitForEvents } from "./reconcile-events.js";
import { type ReconcileOptions, budgetLeftMs, phaseTimeout } from "./reconcile-options.js";
import { type LatencySummary, summarize } from "./stats.js";

export interface CpuWindow {
  apiserver: number;
  etcd: number;
  client: number;
  bench: number;
  /** Busy CPU of the whole machine; in a cpuDelta, the part the four above do not explain (other processes). */
  machine: number;
}

/** What only our controller reports, from its /metrics. */
export interface ControllerMetrics {
  reconciles: { count: number; meanMs: number; verdicts: string };
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers, TLS and socket handles count partly). */
  externalBytes: number;
}

export interface Contender {
  /** The column: floor, upstream or ours. */
  readonly column: string;
  readonly namespace: string;
  /** Undefined: class-less Services. */
  readonly loadBalancerClass: string | undefined;
  /** source.component of its Events and how many per Service it writes; undefined: it writes none. */
  readonly events: { component: string; perService: number } | undefined;
  /** Starts the process; sampling starts here, so the maximum includes start-up and the initial list. */
  spawn(logDir: string): Promise<Child>;
  /** Resolves once it is ready to work (caches synced, watch connected). */
  ready(child: Child): Promise<void>;
  /** Read after convergence and the Events, while it still runs. */
  metrics?(): Promise<ControllerMetrics>;
  /** Writes a heap snapshot of the idle process into `logDir` and returns its path (--heap-snapshot). */
  heapSnapshot?(child: Child, logDir: string): Promise<string>;
}

export interface PhaseResult {
  column: string;
  latency: LatencySummary;
  timings: LoadTimings;
  maxRssBytes: number;
  peakRssBytes: number;
  /** RSS once ready, before the first create. */
  ready: ProcMemory | undefined;
  /** 3 s after convergence and the Events. */
  idle: ProcMemory | undefined;
  maxFds: number;
  /** First create -> convergence. */
  cpu: CpuWindow;
  /** Convergence -> the Events settled (includes the bench's own event listing). */
  trailingCpu: CpuWindow;
  /** First create -> the Events settled. */
  requests: RequestSnapshot;
  events: SettledEvents | undefined;
  metrics: ControllerMetrics | undefined;
}

export interface PhaseContext {
  cp: ControlPlane;
  http: KubeHttp;
  n: number;
  opts: ReconcileOptions;
  logDir: string;
  log: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

export async function runPhase(ctx: PhaseContext, contender: Contender, cleanUp: boolean): Promise<PhaseResult> {
  const { cp, http, n, opts, log } = ctx;
  const label = `[N=${n} ${contender.column}]`;
  const { namespace } = contender;
  await http.call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const child = await contender.spawn(ctx.logDir);
  const sampler = new ProcSampler(child.pid).start();
  try {
    await contender.ready(child);
    const ready = readMemory(child.pid);
    log(`${label} ready (pid ${child.pid}); creating ${n} Services in ${namespace}`);
    const cpu = cpuReader(cp, child.pid);
    const requestsBefore = await requestSnapshot(http);
    const cpuBefore = cpu();
    const apiserverProfile = profileApiserver(ctx, contender.column);
    const timings = await runLoad({
      http,
      namespace,
      loadBalancerClass: contender.loadBalancerClass,
      n,
      concurrency: opts.concurrency,
      timeoutMs: phaseTimeout(n, opts, label, log),
      label,
      log,
      check: diedCheck(child),
    });
    const cpuAfterConvergence = cpu();
    const profilePath = await apiserverProfile;
    if (profilePath) log(`${label} kube-apiserver CPU profile: ${profilePath}`);
    const events =
      contender.events &&
      (await waitForEvents(http, namespace, contender.events.component, {
        expected: contender.events.perService * n,
        since: timings.lastStatus,
        waitMs: Math.min(opts.eventWaitMs, budgetLeftMs(opts)),
        label,
        log,
      }));
    const cpuAfterEvents = cpu();
    const requests = requestDelta(requestsBefore, await requestSnapshot(http));
    await sleep(3_000);
    const idle = readMemory(child.pid);
    const metrics = await contender.metrics?.();
    sampler.stop();
    if (opts.heapSnapshot && contender.heapSnapshot) {
      log(`${label} heap snapshot: ${await contender.heapSnapshot(child, ctx.logDir)}`);
    }
    diedCheck(child)();
    if (cleanUp) await deleteServices(http, namespace, opts.concurrency, (line) => log(`${label} ${line}`));
    return {
      column: contender.column,
      latency: summarize(timings),
      timings,
      maxRssBytes: sampler.maxRssBytes,
      peakRssBytes: sampler.peakRssBytes,
      ready,
      idle,
      maxFds: sampler.maxFds,
      cpu: cpuDelta(cpuBefore, cpuAfterConvergence),
      trailingCpu: cpuDelta(cpuAfterConvergence, cpuAfterEvents),
      requests,
      events,
      metrics,
    };
  } finally {
    sampler.stop();
    await terminateManaged(child, 10_000);
  }
}

/**
 * A CPU profile of kube-apiserver (its /debug/pprof/profile, on by default) over the first --apiserver-profile
 * seconds of the creates, written beside the contenders' logs; undefined when not asked for. The apiserver's
 * share of a phase is most of its CPU, so this says where a contender's requests cost it.
 */
async function profileApiserver(ctx: PhaseContext, column: string): Promise<string | undefined> {
  const seconds = ctx.opts.apiserverProfileS;
  if (seconds === 0) return undefined;
  const path = join(ctx.logDir, `apiserver-${column}-${ctx.n}.pprof`);
  const profile = await ctx.http.bytes(
    "GET",
    `/debug/pprof/profile?seconds=${seconds}`,
    undefined,
    undefined,
    (seconds + 30) * 1000,
  );
  await writeFile(path, profile);
  return path;
}
