/**
 * bench/reconcile.ts: how fast three contenders give N LoadBalancer Services an address, measured in the same run
 * on the same apiserver (see bench/README.md):
 *
 *   PATH=$PWD/node_modules/.bin:$PATH tsx bench/reconcile.ts --sizes 1000,5000,10000 --workers 5
 *
 * Per size, on a fresh real kube-apiserver + etcd (test/env/control-plane.ts) holding three Nodes, one contender
 * at a time (bench/support/reconcile-contenders.ts):
 *  1. floor: bench/baseline-patcher.ts, one status merge patch per Service (the least work that gives an address);
 *  2. upstream: the k8s.io/cloud-provider service controller over a fake cloud that answers at once
 *     (bench/upstream-service-controller/main.go; scripts/install-upstream-service-controller.sh builds it once);
 *  3. ours: `lb-operator run --provider baremetal --default-class`.
 * Each phase (bench/support/reconcile-phase.ts) creates N Services in a namespace of its own, times create ->
 * first address seen by the bench's own watch, samples the contender's RSS from spawn on, and reads the
 * apiserver's request counters around the load; then deletes its Services while the contender still runs (the
 * controllers' finalizers need it) and stops it.
 *
 * Fairness:
 *  - A fresh control plane per size, so a size never runs on an etcd grown by the previous one. Within a size the
 *    phases share the apiserver, in the order above, and each phase's Services are deleted (and their ClusterIPs
 *    released) before the next starts. Keeping them would not be neutral: the apiserver's ClusterIP allocator
 *    (IPAddress objects, default since 1.33) walks every allocated address on each allocation
 *    (ipallocator.(*Allocator).Used -> cache.ListAll is 30-40% of apiserver CPU in a pprof of these creates), so
 *    each create gets slower with every Service that exists.
 *  - Every contender is a child process with its own event loop or runtime; none rate-limits itself (the upstream
 *    controller's client QPS limit is off, see its main.go); all run --workers at once.
 *  - The Nodes exist so the upstream controller does not write an UnAvailableLoadBalancer Warning per Service,
 *    which it does with no Nodes (controllers/service/controller.go ensureLoadBalancer).
 *  - API Priority and Fairness puts the admin token (system:masters) in the exempt level, so no phase is
 *    throttled; the in-flight limits are raised anyway.
 *  - On this kind of 2-core machine a column varies by up to ~25% from run to run with no other load: compare the
 *    columns of one run, not runs with each other. The "noise" row shows CPU used by other processes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startControlPlane } from "../test/env/control-plane.js";
import { printsExistingPath, runInstallScript } from "../test/env/managed-process.js";
import { KubeHttp, loadKubeconfig } from "./support/kube-http.js";
import {
  type ContenderSetup,
  floorContender,
  oursContender,
  upstreamContender,
} from "./support/reconcile-contenders.js";
import { type ReconcileOptions, parseReconcileOptions } from "./support/reconcile-options.js";
import { type PhaseContext, runPhase } from "./support/reconcile-phase.js";
import { type SizeResult, report } from "./support/reconcile-report.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const NODES = 3;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Node objects only (no kubelet): both controllers list Nodes to pick load-balancer targets. */
async function createNodes(http: KubeHttp): Promise<void> {
  for (let i = 1; i <= NODES; i++) {
    await http.call("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: `bench-node-${i}`, labels: { "kubernetes.io/hostname": `bench-node-${i}` } },
      spec: { providerID: `bench://bench-node-${i}` },
    });
  }
}

async function benchSize(
  n: number,
  opts: ReconcileOptions,
  logDir: string,
  upstreamBinDir: string,
): Promise<SizeResult> {
  log(`[N=${n}] starting a fresh kube-apiserver + etcd`);
  const cp = await startControlPlane({
    serviceNodePortRange: "30000-49999",
    extraApiServerArgs: [
      "--max-requests-inflight=2000",
      "--max-mutating-requests-inflight=1000",
      // test/env turns profiling off; the last flag wins.
      ...(opts.apiserverProfileS > 0 ? ["--profiling=true"] : []),
    ],
  });
  const http = new KubeHttp(loadKubeconfig(cp.kubeconfigPath), { maxSockets: opts.concurrency + 4 });
  try {
    await createNodes(http);
    const ctx: PhaseContext = { cp, http, n, opts, logDir, log };
    const setup: ContenderSetup = { repo: REPO, kubeconfigPath: cp.kubeconfigPath, n, opts, upstreamBinDir };
    const floor = await runPhase(ctx, floorContender(setup), true);
    const upstream = await runPhase(ctx, upstreamContender(setup), true);
    // The last phase: its Services go with the control plane.
    const ours = await runPhase(ctx, await oursContender(setup), false);
    return { n, floor, upstream, ours };
  } finally {
    http.close();
    await cp.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseReconcileOptions();
  if (!opts.tsx) {
    log("building dist/ (tsc -p tsconfig.build.json)");
    execFileSync(join(REPO, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: REPO, stdio: "inherit" });
  }
  // Built once into the cache (its first build logs its time on stderr), reused afterwards.
  const buildStarted = performance.now();
  const upstreamBinDir = await runInstallScript("install-upstream-service-controller.sh", printsExistingPath);
  log(`upstream service controller: ${upstreamBinDir} (${((performance.now() - buildStarted) / 1000).toFixed(1)} s)`);
  const logDir = mkdtempSync(join(tmpdir(), "lb-operator-bench-"));
  // Ctrl-C: process.exit runs the exit hooks of test/env/managed-process.ts (which SIGKILL the contenders) and of
  // the control plane (which kill etcd and the apiserver and remove its directory).
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      log(`\n${signal}: stopping the contenders and the control plane (logs in ${logDir})`);
      process.exit(130);
    });
  }
  const started = performance.now();
  log(`bench: sizes ${opts.sizes.join(", ")}; logs in ${logDir}`);
  try {
    for (const n of opts.sizes) {
      const result = await benchSize(n, opts, logDir, upstreamBinDir);
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
