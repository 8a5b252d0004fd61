/**
 * bench/datapath.ts: what our VIP costs on the wire, against the direct path and a userspace proxy measured in
 * the same run, in the same lab (see bench/README.md).
 *
 *   npm run bench:datapath -- --seconds 5 --rounds 2 --requests 500
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/datapath.ts   (not the tsx CLI: see bench/README.md, Ctrl-C)
 *
 * Setup (test/env/lab, real kube-proxy and pods in their own namespaces): 3 nodes with our speaker, the real
 * controller with the lab pool, and one pod-mode Service (ClientIP affinity) with an iperf3 port (5201) and a
 * request/response port (80 -> 8080). Once the controller has written the VIP, the pod is added on a node that
 * does NOT announce it, so VIP traffic takes the forwarding hop a real cluster has: client -> announcer
 * (nftables DNAT + masquerade) -> backend node -> pod veth. In the pod, `iperf3 -s` answers 5201 and the lab's
 * pod echo answers 8080. Three paths, same client namespace, same servers in the same pod:
 *  - direct:  client -> pod IP, routed by the backend node (the client gets a route to the pod subnet via the
 *             backend node for this): the path without a load balancer, the ceiling;
 *  - vip:     client -> VIP:port, forwarded by the announcer's speaker;
 *  - haproxy: client -> HAProxy (TCP mode) on the announcer's node IP -> pod IP: the same hop through a
 *             userspace relay, the alternative the issue compares against.
 * Each round measures every path's throughput (iperf3 -J, receiver's total) then its latency (sequential
 * requests, a new connection each, timed inside the client namespace by the lab agent), in a fixed
 * interleaved order, so drift in the machine's load spreads over all three. Ratios are per run; timings are
 * never asserted.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { electAnnouncer } from "../speaker/announcer-election.js";
import type { ControllerProcess } from "../test/env/controller-process.js";
import { eventually } from "../testing/eventually.js";
import { type Lab, type LabNodeHandle, startLab } from "../test/env/lab/lab.js";
import { startLabController, waitForAddress } from "../test/env/lab/lab-controller.js";
import { startHaproxy } from "./support/haproxy.js";
import { type IperfResult, runIperf } from "./support/iperf.js";
import { machineBusySeconds } from "./support/proc-stats.js";
import { fmt, percentile, ratio, table } from "./support/stats.js";

const IPERF_PORT = 5201;
const ECHO_SERVICE_PORT = 80;
const ECHO_TARGET_PORT = 8080;
const HAPROXY_IPERF_PORT = 15201;
const HAPROXY_ECHO_PORT = 18080;
const NAMESPACE = "bench-datapath";
const SERVICE = "datapath";
const POD = "datapath-0";
const THROUGHPUT_GOAL = 0.9;
const REQUEST_TIMEOUT_MS = 2_000;
/** How long the machine's own load is sampled before the lab starts. */
const IDLE_SAMPLE_MS = 2_000;

interface Options {
  seconds: number;
  rounds: number;
  requests: number;
  keepLogs: boolean;
}

type PathName = "direct" | "vip" | "haproxy";
interface Endpoint {
  ip: string;
  port: number;
}
interface PathSpec {
  name: PathName;
  what: string;
  iperf: Endpoint;
  echo: Endpoint;
}
interface PathResult {
  runs: IperfResult[];
  latencyMs: number[];
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
    .description("iperf3 throughput and request latency: direct vs our VIP vs HAProxy, in the bare-metal lab")
    .option("--seconds <n>", "iperf3 test length per path and round", integer(1, 300), 5)
    .option("--rounds <n>", "rounds; each measures every path once, interleaved", integer(1, 20), 2)
    .option("--requests <n>", "sequential requests per path and round for latency", integer(10, 100_000), 500)
    .option("--keep-logs", "keep the log directory (lab, speakers, controller, haproxy, iperf3, nft table)", false)
    .showHelpAfterError();
  program.parse(argv);
  return program.opts<Options>();
}

interface Setup {
  paths: PathSpec[];
  vip: string;
  announcer: LabNodeHandle;
  backend: LabNodeHandle;
  podIp: string;
}

/** Deploys the Service, places the pod off the announcer, starts iperf3 and HAProxy, and waits for all three paths. */
async function setUp(lab: Lab, logDir: string): Promise<Setup> {
  const svc = await lab.deployService({
    name: SERVICE,
    namespace: NAMESPACE,
    podMode: true,
    sessionAffinity: "ClientIP",
    pods: [],
    ports: [
      { name: "iperf", port: IPERF_PORT, targetPort: IPERF_PORT, echo: false },
      { name: "echo", port: ECHO_SERVICE_PORT, targetPort: ECHO_TARGET_PORT },
    ],
  });
  const { ip: vip } = await waitForAddress(lab, NAMESPACE, SERVICE);
  // Every speaker is live and the policy is Cluster, so every node is a candidate (desired-data-plan.ts).
  const announcerName = electAnnouncer(
    vip,
    lab.nodes.map((n) => n.name),
  );
  const announcer = lab.nodes.find((n) => n.name === announcerName);
  const backend = lab.nodes.find((n) => n.name !== announcerName);
  if (!announcer || !backend)
    throw new Error(`cannot pick an announcer and another node from ${lab.nodes.map((n) => n.name).join(", ")}`);
  log(`VIP ${vip}: announcer ${announcer.name} (${announcer.ip}), backend pod on ${backend.name} (${backend.ip})`);

  // The pod's echo leaves 5201 free (echo: false); iperf3 serves it inside the pod.
  const pod = await svc.addPod({ name: POD, node: backend.name });
  lab
    .podHost(NAMESPACE, POD)
    .spawn("iperf3", ["-s", "-4", "-p", String(IPERF_PORT)], { logPath: join(logDir, "iperf3-server.log") });
  await lab.client.exec("ip", ["route", "add", backend.podSubnet, "via", backend.ip]);
  await startHaproxy(
    announcer,
    [
      {
        name: "iperf",
        listen: { ip: announcer.ip, port: HAPROXY_IPERF_PORT },
        server: { ip: pod.ip, port: IPERF_PORT },
      },
      {
        name: "echo",
        listen: { ip: announcer.ip, port: HAPROXY_ECHO_PORT },
        server: { ip: pod.ip, port: ECHO_TARGET_PORT },
      },
    ],
    { configPath: join(logDir, "haproxy.cfg"), logPath: join(logDir, "haproxy.log") },
  );

  const paths: PathSpec[] = [
    {
      name: "direct",
      what: `pod ${pod.ip} routed by ${backend.name}`,
      iperf: { ip: pod.ip, port: IPERF_PORT },
      echo: { ip: pod.ip, port: ECHO_TARGET_PORT },
    },
    {
      name: "vip",
      what: `VIP via ${announcer.name} (nftables) to pod ${pod.ip} on ${backend.name}`,
      iperf: { ip: vip, port: IPERF_PORT },
      echo: { ip: vip, port: ECHO_SERVICE_PORT },
    },
    {
      name: "haproxy",
      what: `HAProxy on ${announcer.name} to pod ${pod.ip} on ${backend.name}`,
      iperf: { ip: announcer.ip, port: HAPROXY_IPERF_PORT },
      echo: { ip: announcer.ip, port: HAPROXY_ECHO_PORT },
    },
  ];
  await waitForPaths(lab, { paths, vip, announcer, backend, podIp: pod.ip }, logDir);
  return { paths, vip, announcer, backend, podIp: pod.ip };
}

/**
 * Every path answers a request and a 1 s iperf3 test (which also warms ARP, conntrack and the servers), the VIP
 * path reaches the pod, the client resolved the VIP to the announcer's MAC, and the announcer's nftables table
 * DNATs to the pod: otherwise the "vip" row would measure something other than our forwarding hop.
 */
async function waitForPaths(lab: Lab, s: Setup, logDir: string): Promise<void> {
  const client = lab.client;
  for (const path of s.paths) {
    const body = await eventually(
      `a reply on the ${path.name} path (${path.echo.ip}:${path.echo.port})`,
      async () => {
        const r = await client.agent.request("TCP", path.echo.ip, path.echo.port, { timeoutMs: REQUEST_TIMEOUT_MS });
        return r.ok && r.body.includes(`backend=${POD}`) ? r.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    log(`${path.name}: ${body}`);
  }
  const mac = await client.arpLookup(s.vip);
  if (mac !== s.announcer.mac) {
    throw new Error(
      `the client resolved ${s.vip} to ${mac ?? "nothing"}, not to the expected announcer ${s.announcer.name} (${s.announcer.mac})`,
    );
  }
  const nft = await eventually(
    `a DNAT to ${s.podIp}:${IPERF_PORT} in ${s.announcer.name}'s lb-operator table`,
    async () => {
      const { stdout } = await s.announcer.exec("nft", ["list", "table", "ip", "lb-operator"], { check: false });
      return stdout.includes(`${s.podIp}:${IPERF_PORT}`) ? stdout : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  writeFileSync(join(logDir, `nft-${s.announcer.name}.txt`), nft);
  for (const path of s.paths) {
    await eventually(`a 1 s iperf3 test on the ${path.name} path`, () => runIperf(client, path.iperf, 1), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  }
}

async function measure(lab: Lab, paths: readonly PathSpec[], opts: Options): Promise<Map<PathName, PathResult>> {
  const results = new Map<PathName, PathResult>(paths.map((p) => [p.name, { runs: [], latencyMs: [] }]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const path of paths) {
      const run = await runIperf(lab.client, path.iperf, opts.seconds);
      results.get(path.name)!.runs.push(run);
      log(
        `[round ${round}/${opts.rounds}] ${path.name}: ${gbit(run.receivedBitsPerSecond)} Gbit/s, ${run.retransmits ?? "?"} retransmits`,
      );
    }
    for (const path of paths) {
      const r = await lab.client.agent.latency(path.echo.ip, path.echo.port, {
        count: opts.requests,
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      if (r.error !== undefined) throw new Error(`${path.name} latency: ${r.error}`);
      results.get(path.name)!.latencyMs.push(...r.samplesMs);
      log(
        `[round ${round}/${opts.rounds}] ${path.name}: ${r.samplesMs.length} requests, p50 ${fmt(percentile(r.samplesMs, 50), 3)} ms`,
      );
    }
  }
  return results;
}

const gbit = (bps: number): string => fmt(bps / 1e9, 2);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanBps = (r: PathResult): number => mean(r.runs.map((x) => x.receivedBitsPerSecond));

/** What other jobs on the machine were doing before the lab started: busy CPUs (from /proc/stat) and load average. */
interface MachineLoad {
  busyCpus: number;
  loadBefore: number;
  loadAfter: number;
}

async function busyCpus(ms: number): Promise<number> {
  const before = machineBusySeconds();
  await new Promise((r) => setTimeout(r, ms));
  return (machineBusySeconds() - before) / (ms / 1000);
}

function report(s: Setup, results: Map<PathName, PathResult>, opts: Options, load: MachineLoad): string {
  const get = (name: PathName): PathResult => results.get(name)!;
  const direct = get("direct");
  const directP50 = percentile(direct.latencyMs, 50);
  const rows = [
    ["path", "Gbit/s per round", "mean Gbit/s", "vs direct", "retransmits", "p50 ms", "p99 ms", "p50 vs direct"],
  ];
  for (const path of s.paths) {
    const r = get(path.name);
    const p50 = percentile(r.latencyMs, 50);
    rows.push([
      path.name,
      r.runs.map((x) => gbit(x.receivedBitsPerSecond)).join(" / "),
      gbit(meanBps(r)),
      ratio(meanBps(r), meanBps(direct)),
      r.runs.map((x) => fmt(x.retransmits)).join(" / "),
      fmt(p50, 3),
      fmt(percentile(r.latencyMs, 99), 3),
      ratio(p50, directP50),
    ]);
  }
  const perRound = (name: PathName): string =>
    get(name)
      .runs.map((x, i) => ratio(x.receivedBitsPerSecond, direct.runs[i]?.receivedBitsPerSecond))
      .join(", ");
  const vip = meanBps(get("vip")) / meanBps(direct);
  const haproxy = meanBps(get("haproxy")) / meanBps(direct);
  return [
    `Data path: ${opts.rounds} round(s), iperf3 -t ${opts.seconds} (receiver's total), ${opts.requests} sequential requests per path and round`,
    ...s.paths.map((p) => `  ${p.name.padEnd(8)} ${p.iperf.ip}:${p.iperf.port} (requests :${p.echo.port}): ${p.what}`),
    "",
    table(rows),
    "",
    `per-round throughput vs direct: vip ${perRound("vip")}; haproxy ${perRound("haproxy")}`,
    `other load: ${load.busyCpus.toFixed(2)} of ${availableParallelism()} CPUs busy in the ${IDLE_SAMPLE_MS / 1000} s before the lab started;` +
      ` load average ${load.loadBefore.toFixed(2)} then, ${load.loadAfter.toFixed(2)} after the runs`,
    `Goal: VIP throughput >= ${THROUGHPUT_GOAL}x direct: ${vip >= THROUGHPUT_GOAL ? "MET" : "NOT MET"} (${vip.toFixed(2)}x; HAProxy, the userspace proxy, ${haproxy.toFixed(2)}x)`,
  ].join("\n");
}

async function stopController(controller: ControllerProcess): Promise<void> {
  const timer = setTimeout(() => void controller.stop("SIGKILL"), 10_000);
  try {
    await controller.stop();
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv);
  const logDir = mkdtempSync(join(tmpdir(), "lb-operator-bench-datapath-"));
  const busy = await busyCpus(IDLE_SAMPLE_MS);
  const loadBefore = loadavg()[0] ?? Number.NaN;
  log(
    `bench: data path, ${opts.rounds} round(s) of ${opts.seconds} s + ${opts.requests} requests per path; logs in ${logDir}`,
  );
  let lab: Lab | undefined;
  let controller: ControllerProcess | undefined;
  let ok = false;
  // Ctrl-C: process.exit runs the 'exit' hooks of the lab (namespaces, agents, speakers, iperf3, HAProxy), the
  // controller process and the control plane, all synchronous. Without this listener the lab's own signal
  // handler re-raises the signal and the process dies without 'exit' hooks, leaving the controller running.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      log(`\n${signal}: tearing the lab down (logs in ${logDir})`);
      process.exit(130);
    });
  }
  try {
    lab = await startLab({ logDir });
    controller = await startLabController(lab);
    const setup = await setUp(lab, logDir);
    const results = await measure(lab, setup.paths, opts);
    process.stdout.write(
      `\n${report(setup, results, opts, { busyCpus: busy, loadBefore, loadAfter: loadavg()[0] ?? Number.NaN })}\n`,
    );
    ok = true;
  } catch (err) {
    log(`\nbench FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    if (controller) await stopController(controller);
    await lab?.teardown();
    if (ok && !opts.keepLogs) rmSync(logDir, { recursive: true, force: true });
    else log(`logs kept in ${logDir}`);
  }
}

await main();
// Agents' IPC channels and pooled sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
