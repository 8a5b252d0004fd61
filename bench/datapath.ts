/**
 * bench/datapath.ts: what a VIP costs on the wire, ours against MetalLB's, each against the direct path measured in
 * the same phase of the same run, and a userspace proxy (HAProxy) for reference (see bench/README.md).
 *
 *   npm run bench:datapath -- --seconds 5 --rounds 2 --requests 500
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/datapath.ts   (not the tsx CLI: see bench/README.md, Ctrl-C)
 *
 * One lab (test/env/lab, real kube-proxy, pods in their own namespaces), two phases (ours and MetalLB cannot run in
 * one lab at once; test/env/lab/lab-implementations.ts):
 *  1. lb-operator: our controller and speakers; a pod-mode Service (ClientIP affinity) with an iperf3 port (5201)
 *     and a request/response port (80 -> 8080); its one pod on a node that does NOT announce the VIP, so VIP traffic
 *     takes the forwarding hop a real cluster has: client -> announcer (our nftables DNAT + masquerade) -> backend
 *     node -> pod veth. Paths: direct (client -> pod IP via the backend node), vip, haproxy (TCP mode on the
 *     announcer's node IP -> pod IP).
 *  2. MetalLB: ours stopped and its Service deleted (the pod and its iperf3 stay); MetalLB started; the same Service
 *     of MetalLB's class on the same address, announced from the same node (bench/support/datapath-setup.ts), so
 *     traffic goes client -> announcer (kube-proxy's rules for the LB IP) -> backend node -> the same pod. Paths:
 *     direct, vip.
 * Each round measures every path of the phase (iperf3 -J, receiver's total; then sequential requests on fresh
 * connections, timed inside the client namespace by the lab agent) in a fixed interleaved order. Ratios are per
 * phase and per run; timings are never asserted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { type LabImplementation, startImplementation } from "../test/env/lab/lab-implementations.js";
import { type Lab, startLab } from "../test/env/lab/lab.js";
import {
  compare,
  comparisonLine,
  datapathChartSpec,
  datapathRows,
  meanBps,
  type PathMeasurement,
  perRoundRatios,
} from "./support/datapath-report.js";
import {
  deleteServiceKeepPod,
  type PathSpec,
  REQUEST_TIMEOUT_MS,
  setUpMetalLb,
  setUpOurs,
} from "./support/datapath-setup.js";
import { runIperf } from "./support/iperf.js";
import { machineBusySeconds } from "./support/proc-stats.js";
import { fmt, percentile, table } from "./support/stats.js";
import { writeSvgChart } from "./support/svg-chart.js";

const THROUGHPUT_GOAL = 0.9;
/** How long the machine's own load is sampled before the lab starts. */
const IDLE_SAMPLE_MS = 2_000;
const DEFAULT_CHART = "bench/results/datapath.svg";

interface Options {
  seconds: number;
  rounds: number;
  requests: number;
  keepLogs: boolean;
  chart: string;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value.replaceAll("_", ""));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function parseOptions(argv: string[]): Options {
  const program = new Command("datapath")
    .description(
      "iperf3 throughput and request latency: direct vs our VIP vs MetalLB's VIP vs HAProxy, in the bare-metal lab",
    )
    .option("--seconds <n>", "iperf3 test length per path and round", integer(1, 300), 5)
    .option("--rounds <n>", "rounds per phase; each measures every path of the phase once", integer(1, 20), 2)
    .option("--requests <n>", "sequential requests per path and round for latency", integer(10, 100_000), 500)
    .option("--chart <path>", "where the SVG chart goes", DEFAULT_CHART)
    .option("--keep-logs", "keep the log directory (lab, speakers, controllers, haproxy, iperf3, nft table)", false)
    .showHelpAfterError();
  program.parse(argv);
  return program.opts<Options>();
}

async function measure(lab: Lab, phase: string, paths: readonly PathSpec[], opts: Options): Promise<PathMeasurement[]> {
  const results = paths.map((p) => ({
    spec: p,
    m: {
      label: p.label,
      phase,
      kind: p.kind,
      runs: [] as PathMeasurement["runs"][number][],
      latencyMs: [] as number[],
      failedRequests: 0,
    },
  }));
  for (let round = 1; round <= opts.rounds; round++) {
    const tag = `[${phase} round ${round}/${opts.rounds}]`;
    for (const { spec, m } of results) {
      const run = await runIperf(lab.client, spec.iperf, opts.seconds);
      m.runs.push(run);
      log(
        `${tag} ${spec.label}: ${fmt(run.receivedBitsPerSecond / 1e9, 2)} Gbit/s, ${run.retransmits ?? "?"} retransmits`,
      );
    }
    for (const { spec, m } of results) {
      const before = { samples: m.latencyMs.length, failed: m.failedRequests };
      await sampleLatency(lab, spec, opts.requests, m);
      const got = m.latencyMs.slice(before.samples);
      log(
        `${tag} ${spec.label}: ${got.length} requests, p50 ${fmt(percentile(got, 50), 3)} ms, ${m.failedRequests - before.failed} failed`,
      );
    }
  }
  return results.map((r) => r.m);
}

/** Most requests a latency series may lose before the bench gives up on the path. */
const MAX_FAILED_REQUESTS = 10;

/**
 * `count` answered requests on fresh connections. The agent stops a series at its first unanswered request; that
 * one is counted as failed and the series goes on, so one lost SYN does not end the run.
 */
async function sampleLatency(
  lab: Lab,
  spec: PathSpec,
  count: number,
  m: { latencyMs: number[]; failedRequests: number },
): Promise<void> {
  let missing = count;
  while (missing > 0) {
    const r = await lab.client.agent.latency(spec.echo.ip, spec.echo.port, {
      count: missing,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    m.latencyMs.push(...r.samplesMs);
    missing -= r.samplesMs.length;
    if (r.error === undefined) continue;
    m.failedRequests++;
    log(`${spec.label}: ${r.error}`);
    if (m.failedRequests > MAX_FAILED_REQUESTS)
      throw new Error(`${spec.label} latency: ${m.failedRequests} requests failed`);
  }
}

/** Busy CPUs (from /proc/stat) over `ms`: what other jobs on the machine were doing before the lab started. */
async function busyCpus(ms: number): Promise<number> {
  const before = machineBusySeconds();
  await new Promise((r) => setTimeout(r, ms));
  return (machineBusySeconds() - before) / (ms / 1000);
}

interface Run {
  all: PathMeasurement[];
  described: string[];
  ours: PathMeasurement;
  theirs: PathMeasurement;
}

function report(run: Run, opts: Options, load: { busy: number; before: number; after: number }): string {
  const { all, ours, theirs } = run;
  const vip = meanBps(ours) / meanBps(all.find((m) => m.kind === "direct" && m.phase === ours.phase) ?? ours);
  return [
    `Data path: ${opts.rounds} round(s) per phase, iperf3 -t ${opts.seconds} (receiver's total), ${opts.requests} sequential requests per path and round`,
    ...run.described,
    "",
    table(datapathRows(all)),
    "",
    `per-round throughput vs the phase's direct: ${all
      .filter((m) => m.kind !== "direct")
      .map((m) => `${m.label} ${perRoundRatios(all, m)}`)
      .join("; ")}`,
    comparisonLine(compare(all, ours, theirs), ours.label.replace(/ vip$/, ""), theirs.label.replace(/ vip$/, "")),
    `other load: ${load.busy.toFixed(2)} of ${availableParallelism()} CPUs busy in the ${IDLE_SAMPLE_MS / 1000} s before the lab started;` +
      ` load average ${load.before.toFixed(2)} then, ${load.after.toFixed(2)} after the runs`,
    `Goal: our VIP throughput >= ${THROUGHPUT_GOAL}x direct: ${vip >= THROUGHPUT_GOAL ? "MET" : "NOT MET"} (${vip.toFixed(2)}x)`,
  ].join("\n");
}

/** Both phases on one lab; every implementation started here is stopped here, also on failure. */
async function runPhases(lab: Lab, opts: Options, logDir: string): Promise<Run> {
  const describe = (phase: string, paths: readonly PathSpec[]): string[] =>
    paths.map(
      (p) => `  [${phase}] ${p.label.padEnd(24)} ${p.iperf.ip}:${p.iperf.port} (requests :${p.echo.port}): ${p.what}`,
    );
  let impl: LabImplementation | undefined;
  try {
    impl = await startImplementation(lab, "lb-operator");
    const base = await setUpOurs(lab, impl, logDir);
    const first = await measure(lab, impl.label, base.paths, opts);
    const described = describe(impl.label, base.paths);
    await deleteServiceKeepPod(lab);
    await impl.stop();
    impl = await startImplementation(lab, "metallb");
    const paths = await setUpMetalLb(lab, impl, base);
    const second = await measure(lab, impl.label, paths, opts);
    described.push(...describe(impl.label, paths));
    await deleteServiceKeepPod(lab);
    const ours = first.find((m) => m.kind === "vip");
    const theirs = second.find((m) => m.kind === "vip");
    if (!ours || !theirs) throw new Error("a phase measured no VIP path");
    // Rows in the order direct, direct, ours, MetalLB, haproxy: the pairs to compare sit together.
    const order = (m: PathMeasurement): number => ["direct", "vip", "haproxy"].indexOf(m.kind);
    const all = [...first, ...second].sort((a, b) => order(a) - order(b));
    return { all, described, ours, theirs };
  } finally {
    await impl?.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv);
  const logDir = mkdtempSync(join(tmpdir(), "lb-operator-bench-datapath-"));
  const busy = await busyCpus(IDLE_SAMPLE_MS);
  const loadBefore = loadavg()[0] ?? Number.NaN;
  log(
    `bench: data path, 2 phases x ${opts.rounds} round(s) of ${opts.seconds} s + ${opts.requests} requests per path; logs in ${logDir}`,
  );
  let lab: Lab | undefined;
  let ok = false;
  // Ctrl-C: process.exit runs the 'exit' hooks of the lab (namespaces, agents, speakers, iperf3, HAProxy), the
  // controllers (ours and MetalLB's, managed processes) and the control plane, all synchronous. Without this
  // listener the lab's own signal handler re-raises the signal and the process dies without 'exit' hooks.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      log(`\n${signal}: tearing the lab down (logs in ${logDir})`);
      process.exit(130);
    });
  }
  try {
    lab = await startLab({ logDir, startSpeakers: false });
    const run = await runPhases(lab, opts, logDir);
    const load = { busy, before: loadBefore, after: loadavg()[0] ?? Number.NaN };
    process.stdout.write(`\n${report(run, opts, load)}\n`);
    const chart = await writeSvgChart(
      opts.chart,
      datapathChartSpec(`Data path: ${opts.rounds} round(s) per phase, iperf3 -t ${opts.seconds}`, run.all),
    );
    process.stdout.write(`chart: ${chart}\n`);
    ok = true;
  } catch (err) {
    log(`\nbench FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    await lab?.teardown();
    if (ok && !opts.keepLogs) rmSync(logDir, { recursive: true, force: true });
    else log(`logs kept in ${logDir}`);
  }
}

await main();
// Agents' IPC channels and pooled sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
