/**
 * bench/failover.ts: how long clients lose a VIP when its announcing node dies, with our speaker's defaults and,
 * in the same run and the same lab, with heartbeat settings like memberlist's LAN defaults (what MetalLB detects
 * with: probe interval 1 s, a few seconds to declare a member dead; ../shared/reference/baremetal.md section 3).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH tsx bench/failover.ts --trials 30 --baseline-trials 10
 *
 * One trial (test/env/lab/failover-trial.ts): the client opens a fresh TCP connection to the VIP every 10 ms
 * (100 ms timeout each); the announcing node's speaker is SIGKILLed and its switch port goes down at the same
 * moment; the time from the kill to the first answered request is the failover time. The node then comes back
 * and settles before the next trial. Goal (issue 3): p99 under 1 s.
 */
import { parseArgs } from "node:util";
import type { ControllerProcess } from "../test/env/controller-process.js";
import { type FailoverTrial, failoverTrial } from "../test/env/lab/failover-trial.js";
import { type Lab, startLab } from "../test/env/lab/lab.js";
import { startLabController, waitForAddress } from "../test/env/lab/lab-controller.js";
import { reachable } from "../test/env/lab/speaker-checks.js";
import { fmt, percentile, ratio, table } from "./support/stats.js";

const NODES = ["node-1", "node-2", "node-3"];
/** memberlist DefaultLANConfig: ProbeInterval 1 s; suspicion keeps a failed member for a few more seconds. */
const MEMBERLIST_LIKE = ["--heartbeat-interval", "1s", "--peer-timeout", "3s"];

interface Phase {
  readonly name: string;
  readonly args: string[];
  readonly trials: FailoverTrial[];
}

async function runPhase(lab: Lab, vip: string, name: string, args: string[], count: number): Promise<Phase> {
  await Promise.all(NODES.map((n) => lab.stopSpeaker(n)));
  await Promise.all(NODES.map((n) => lab.startSpeaker(n, args)));
  await reachable(lab, vip, 80);
  const trials: FailoverTrial[] = [];
  for (let i = 0; i < count; i++) {
    const t = await failoverTrial(lab, vip, 80, { speakerArgs: args, deadlineMs: 30_000 });
    trials.push(t);
    process.stderr.write(
      `${name} trial ${i + 1}/${count}: ${t.victim} -> ${t.successor ?? "?"} in ${t.failoverMs} ms\n`,
    );
  }
  return { name, args, trials };
}

/** One table row; `baseline` is the phase the p99 is compared with (none for the baseline itself). */
function row(p: Phase, baseline?: Phase): string[] {
  const ms = p.trials.map((t) => t.failoverMs);
  const p99 = percentile(ms, 99);
  const baselineP99 = baseline
    ? percentile(
        baseline.trials.map((t) => t.failoverMs),
        99,
      )
    : undefined;
  return [
    p.name,
    p.args.join(" ") || "(defaults)",
    String(ms.length),
    fmt(percentile(ms, 50)),
    fmt(p99),
    fmt(Math.max(...ms)),
    fmt(p.trials.reduce((s, t) => s + t.failedRequests, 0) / Math.max(1, p.trials.length), 1),
    baseline ? ratio(p99, baselineP99) : "1.00x",
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: "string", default: "30" },
      "baseline-trials": { type: "string", default: "10" },
    },
  });
  const trials = Number(values.trials);
  const baselineTrials = Number(values["baseline-trials"]);
  let lab: Lab | undefined;
  let controller: ControllerProcess | undefined;
  try {
    lab = await startLab();
    controller = await startLabController(lab);
    await lab.deployService({
      name: "web",
      namespace: "bench",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: NODES.map((node, i) => ({ name: `web-${i}`, node })),
    });
    const vip = (await waitForAddress(lab, "bench", "web")).ip;
    const ours = await runPhase(lab, vip, "lb-operator defaults", [], trials);
    const baseline =
      baselineTrials > 0
        ? await runPhase(lab, vip, "memberlist-like baseline", MEMBERLIST_LIKE, baselineTrials)
        : undefined;
    const header = [
      "phase",
      "speaker flags",
      "trials",
      "p50 ms",
      "p99 ms",
      "max ms",
      "failed req/trial",
      "p99 vs baseline",
    ];
    const rows = baseline ? [header, row(baseline), row(ours, baseline)] : [header, row(ours)];
    process.stdout.write(`\n${table(rows)}\n\n`);
    const p99 = percentile(
      ours.trials.map((t) => t.failoverMs),
      99,
    );
    process.stdout.write(`goal p99 < 1000 ms: ${p99 < 1000 ? "met" : "NOT met"} (p99 ${fmt(p99)} ms)\n`);
  } finally {
    await controller?.stop();
    await lab?.teardown();
  }
}

await main();
