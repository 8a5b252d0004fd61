/**
 * bench/failover.ts: how long clients lose a VIP when its announcing node dies, ours against MetalLB in the same
 * lab and the same run (MetalLB detects the death through memberlist: ../shared/reference/baremetal.md section 3).
 *
 *   npm run bench:failover -- --trials 20
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/failover.ts --trials 20 --only metallb
 *
 * One trial (test/env/lab/failover-trial.ts): the client opens a fresh TCP connection to the VIP every 10 ms
 * (100 ms timeout each); the announcing node's speaker is SIGKILLed and its switch port goes down at the same
 * moment; the time from the kill to the first answered request is the failover time. The node then comes back
 * (for MetalLB: until memberlist has rejoined it everywhere) and settles before the next trial. A trial with no
 * answer before the deadline counts as not recovered. Goal (issue 13): our p99 at most 1/3 of MetalLB's, and
 * under 1 s.
 */
import { parseArgs } from "node:util";
import { type FailoverTrial, failoverTrial } from "../test/env/lab/failover-trial.js";
import { type Lab, startLab } from "../test/env/lab/lab.js";
import { waitForAddress } from "../test/env/lab/lab-controller.js";
import { IMPLEMENTATIONS, type ImplementationName, startImplementation } from "../test/env/lab/lab-implementations.js";
import { reachable } from "../test/env/lab/speaker-checks.js";
import { deleteServicesAndWait, flushClientNeighbours } from "./support/allocation-lab.js";
import { fmt, percentile, ratio, table } from "./support/stats.js";
import { distributionChart, writeSvgChart } from "./support/svg-chart.js";

const GOAL_RATIO = 1 / 3;
const GOAL_P99_MS = 1_000;

interface Phase {
  readonly name: ImplementationName;
  readonly label: string;
  readonly trials: FailoverTrial[];
}

const recoveredMs = (p: Phase): number[] => p.trials.flatMap((t) => t.failoverMs ?? []);

async function runPhase(lab: Lab, name: ImplementationName, count: number, deadlineMs: number): Promise<Phase> {
  const implementation = await startImplementation(lab, name);
  const namespace = `failover-${name}`;
  const trials: FailoverTrial[] = [];
  try {
    await lab.deployService({
      name: "web",
      namespace,
      loadBalancerClass: implementation.loadBalancerClass,
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: lab.nodes.map((n, i) => ({ name: `web-${i}`, node: n.name })),
    });
    const vip = (await waitForAddress(lab, namespace, "web")).ip;
    await reachable(lab, vip, 80);
    for (let i = 0; i < count; i++) {
      const started = Date.now();
      const t = await failoverTrial(lab, implementation, vip, 80, { deadlineMs });
      trials.push(t);
      const outcome = t.failoverMs === undefined ? `NOT recovered within ${deadlineMs} ms` : `in ${t.failoverMs} ms`;
      process.stderr.write(
        `${implementation.label} trial ${i + 1}/${count}: ${t.victim} -> ${t.successor ?? "?"} ${outcome}` +
          ` (${t.failedRequests} failed requests; trial with recovery took ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
      );
    }
  } finally {
    await deleteServicesAndWait(lab, namespace);
    await implementation.stop();
    await flushClientNeighbours(lab);
  }
  return { name, label: implementation.label, trials };
}

function row(p: Phase, baseline: Phase | undefined): string[] {
  const ms = recoveredMs(p);
  return [
    p.label,
    String(p.trials.length),
    String(p.trials.length - ms.length),
    fmt(percentile(ms, 50)),
    fmt(percentile(ms, 99)),
    fmt(ms.length > 0 ? Math.max(...ms) : undefined),
    fmt(p.trials.reduce((s, t) => s + t.failedRequests, 0) / Math.max(1, p.trials.length), 1),
    baseline && baseline !== p ? ratio(percentile(ms, 99), percentile(recoveredMs(baseline), 99)) : "-",
  ];
}

function goalLines(ours: Phase | undefined, metallb: Phase | undefined): string[] {
  if (!ours) return [];
  const p99 = percentile(recoveredMs(ours), 99);
  const allRecovered = recoveredMs(ours).length === ours.trials.length;
  const lines = [
    `goal: our p99 under ${GOAL_P99_MS} ms: ${allRecovered && p99 < GOAL_P99_MS ? "met" : "NOT met"} (p99 ${fmt(p99)} ms)`,
  ];
  if (metallb) {
    const theirs = percentile(recoveredMs(metallb), 99);
    const met = allRecovered && p99 <= theirs * GOAL_RATIO;
    lines.push(
      `goal: our p99 at most 1/3 of MetalLB's: ${met ? "met" : "NOT met"} (${ratio(p99, theirs)}; ` +
        `MetalLB trials not recovered: ${metallb.trials.length - recoveredMs(metallb).length})`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: "string", default: "20" },
      only: { type: "string" },
      "deadline-ms": { type: "string", default: "60000" },
      "keep-logs": { type: "boolean", default: false },
      chart: { type: "string", default: "bench/results/failover.svg" },
    },
  });
  const trials = Number(values.trials);
  const deadlineMs = Number(values["deadline-ms"]);
  const only = IMPLEMENTATIONS.find((i) => i === values.only);
  if (values.only !== undefined && only === undefined)
    throw new Error(`--only must be one of ${IMPLEMENTATIONS.join(", ")}, not ${values.only}`);
  const phases: Phase[] = [];
  let lab: Lab | undefined;
  try {
    lab = await startLab({ startSpeakers: false, keepLogs: values["keep-logs"] });
    if (values["keep-logs"]) process.stderr.write(`lab logs (kept): ${lab.logDir}\n`);
    for (const name of only ? [only] : IMPLEMENTATIONS) phases.push(await runPhase(lab, name, trials, deadlineMs));
  } finally {
    await lab?.teardown();
  }
  const ours = phases.find((p) => p.name === "lb-operator");
  const metallb = phases.find((p) => p.name === "metallb");
  const header = [
    "implementation",
    "trials",
    "not recovered",
    "p50 ms",
    "p99 ms",
    "max ms",
    "failed req/trial",
    "p99 vs MetalLB",
  ];
  process.stdout.write(`\n${table([header, ...phases.map((p) => row(p, metallb))])}\n\n`);
  process.stdout.write(`${goalLines(ours, metallb).join("\n")}\n`);
  const rows = phases.flatMap((p) => recoveredMs(p).map((ms) => ({ implementation: p.label, ms })));
  const chart = await writeSvgChart(
    values.chart,
    distributionChart(
      `Failover: announcing node killed -> first answered connection (${trials} trials each)`,
      rows,
      "milliseconds (log scale)",
      "log",
    ),
  );
  process.stdout.write(`chart: ${chart}\n`);
}

await main();
