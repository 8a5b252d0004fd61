/**
 * bench/allocation.ts: how long a new LoadBalancer Service waits for its address and for its first answered
 * request through the VIP, ours against MetalLB in the same lab and the same run, 100 Services created at once.
 *
 *   npm run bench:allocation -- --services 100
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/allocation.ts --services 100 --only metallb
 *
 * Per implementation (bench/support/allocation-race.ts): N Services of its class, all selecting the same pods
 * (one per node, already running), created concurrently; per Service, create returned -> ingress seen in a watch,
 * and create returned -> first request from the lab's client answered through the VIP (fresh TCP connection every
 * 20 ms, 100 ms timeout each). Then the Services are deleted and gone, the implementation stopped and the client's
 * neighbour table flushed before the other one starts.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Lab, startLab } from "../test/env/lab/lab.js";
import { SERVICE_LABEL } from "../test/env/lab/lab-cluster.js";
import { IMPLEMENTATIONS, type ImplementationName, startImplementation } from "../test/env/lab/lab-implementations.js";
import { deleteServicesAndWait, flushClientNeighbours } from "./support/allocation-lab.js";
import { ALLOCATION_LABEL, raceAllocation, type ServiceTiming } from "./support/allocation-race.js";
import { fmt, percentile, ratio, table } from "./support/stats.js";
import { distributionChart, writeSvgChart } from "./support/svg-chart.js";

const NAMESPACE = "allocation";
const BACKENDS = "echo";
/** A class nobody serves: the backends' own Service only exists to run the pods every bench Service selects. */
const UNSERVED_CLASS = "bench.lb-operator.io/unserved";

interface Phase {
  readonly name: ImplementationName;
  readonly label: string;
  readonly timings: ServiceTiming[];
}

async function runPhase(lab: Lab, name: ImplementationName, opts: PhaseOptions): Promise<Phase> {
  const implementation = await startImplementation(lab, name);
  try {
    const timings = await raceAllocation(lab, {
      namespace: NAMESPACE,
      implementation: name,
      loadBalancerClass: implementation.loadBalancerClass,
      selector: { [SERVICE_LABEL]: BACKENDS },
      services: opts.services,
      probeConcurrency: opts.probeConcurrency,
      timeoutMs: opts.timeoutMs,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return { name, label: implementation.label, timings };
  } finally {
    await deleteServicesAndWait(lab, NAMESPACE, `${ALLOCATION_LABEL}=${name}`);
    await implementation.stop();
    await flushClientNeighbours(lab);
  }
}

interface PhaseOptions {
  readonly services: number;
  readonly probeConcurrency: number;
  readonly timeoutMs: number;
}

const values = (p: Phase, key: "ingressMs" | "answeredMs"): number[] => p.timings.flatMap((t) => t[key] ?? []);

function summary(p: Phase): (number | undefined)[] {
  const ingress = values(p, "ingressMs");
  const answered = values(p, "answeredMs");
  const max = (v: number[]): number | undefined => (v.length > 0 ? Math.max(...v) : undefined);
  return [
    percentile(ingress, 50),
    percentile(ingress, 99),
    max(ingress),
    percentile(answered, 50),
    percentile(answered, 99),
    max(answered),
  ];
}

function render(phases: readonly Phase[]): string {
  const header = [
    "implementation",
    "services",
    "ingress p50 ms",
    "ingress p99 ms",
    "ingress max ms",
    "answered p50 ms",
    "answered p99 ms",
    "answered max ms",
    "not answered",
  ];
  const rows = phases.map((p) => [
    p.label,
    String(p.timings.length),
    ...summary(p).map((v) => fmt(v)),
    String(p.timings.length - values(p, "answeredMs").length),
  ]);
  const ours = phases.find((p) => p.name === "lb-operator");
  const metallb = phases.find((p) => p.name === "metallb");
  if (ours && metallb) {
    const theirs = summary(metallb);
    rows.push(["ours / MetalLB", "", ...summary(ours).map((v, i) => ratio(v, theirs[i])), ""]);
  }
  return table([header, ...rows]);
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      services: { type: "string", default: "100" },
      only: { type: "string" },
      "probe-concurrency": { type: "string", default: "100" },
      "timeout-ms": { type: "string", default: "120000" },
      "keep-logs": { type: "boolean", default: false },
      "timings-json": { type: "string" },
      chart: { type: "string", default: "bench/results/allocation.svg" },
    },
  });
  const only = IMPLEMENTATIONS.find((i) => i === args.only);
  if (args.only !== undefined && only === undefined)
    throw new Error(`--only must be one of ${IMPLEMENTATIONS.join(", ")}, not ${args.only}`);
  const opts: PhaseOptions = {
    services: Number(args.services),
    probeConcurrency: Number(args["probe-concurrency"]),
    timeoutMs: Number(args["timeout-ms"]),
  };
  const phases: Phase[] = [];
  let lab: Lab | undefined;
  try {
    lab = await startLab({ startSpeakers: false, keepLogs: args["keep-logs"] });
    if (args["keep-logs"]) process.stderr.write(`lab logs (kept): ${lab.logDir}\n`);
    await lab.deployService({
      name: BACKENDS,
      namespace: NAMESPACE,
      loadBalancerClass: UNSERVED_CLASS,
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: lab.nodes.map((n, i) => ({ name: `${BACKENDS}-${i}`, node: n.name })),
    });
    for (const name of only ? [only] : IMPLEMENTATIONS) phases.push(await runPhase(lab, name, opts));
  } finally {
    await lab?.teardown();
  }
  if (args["timings-json"]) writeFileSync(args["timings-json"], JSON.stringify(phases, null, 1));
  process.stdout.write(`\n${render(phases)}\n\n`);
  const waited = phases.flatMap((p) => p.timings.flatMap((t) => t.probeWaitMs ?? []));
  process.stdout.write(
    `probe slots: ${opts.probeConcurrency}; longest wait for a slot ${fmt(Math.max(0, ...waited))} ms\n`,
  );
  const rows = phases.flatMap((p) => [
    ...values(p, "ingressMs").map((ms) => ({ implementation: `${p.label}: create -> ingress`, ms })),
    ...values(p, "answeredMs").map((ms) => ({ implementation: `${p.label}: create -> answered`, ms })),
  ]);
  const chart = await writeSvgChart(
    args.chart,
    distributionChart(`Allocation: ${opts.services} Services created at once (one tick per Service)`, rows),
  );
  process.stdout.write(`chart: ${chart}\n`);
}

await main();
