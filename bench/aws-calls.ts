/**
 * bench/aws-calls.ts: AWS API calls per reconcile of the AWS provider (issue 4) for create, no-op and
 * one-node-added, against the per-reconcile call pattern of cloud-provider-aws documented in
 * ../shared/reference/aws.md section 3 (bench/support/legacy-aws-calls.ts writes that model out call by call).
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/aws-calls.ts --sizes 1,50,500
 *
 * One moto server (test/env/moto.ts) and one world (test/env/aws-world.ts: cluster "bench", a VPC, tagged
 * subnets in two zones, a node security group, --nodes instances). The provider is the production one
 * (awsProviderFor) over SDK clients wrapped by the call counter (test/env/aws-call-counter.ts), which counts every
 * attempt, failed ones included. Per size N, in order:
 *  1. create: N Services (one TCP port, instance targets, every other one externalTrafficPolicy Local), each
 *     ensured once, one after the other, so each call is attributed to exactly one Service.
 *  2. no-op: each ensured again with the same spec (what the controller's periodic resync or a restart costs).
 *  3. node-added: one more instance and Node; every spec re-derived (one more backend) and ensured.
 *  4. delete: each deleted, then the account is listed by ownership tags to show nothing per-Service remains.
 * Then, with --clb-size > 0, the same four phases once for classic ELBs.
 *
 * What it does not say: moto answers in milliseconds, so wall times are moto's, not AWS's. Counts are exact for
 * this code; the legacy column is a model, not a measurement. Nothing is asserted: the numbers are printed.
 */
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { awsProviderFor } from "../providers/aws/create-aws-provider.js";
import type { AwsProvider } from "../providers/aws/aws-provider.js";
import { errorMessage } from "../src/errors.js";
import { countCalls, type CallCounter } from "../test/env/aws-call-counter.js";
import { createAwsWorld, type AwsWorld } from "../test/env/aws-world.js";
import { startMoto, type MotoServer } from "../test/env/moto.js";
import type { AwsClients } from "../providers/aws/aws-types.js";
import {
  MAX_SERVICES,
  benchServices,
  benchSpecs,
  describeLeftovers,
  leftovers,
  type BenchKind,
  type BenchService,
  type Leftovers,
} from "./support/aws-bench-services.js";
import { legacyCalls, type BenchPhase, type LegacyEstimate } from "./support/legacy-aws-calls.js";
import { parseBenchOptions } from "./support/bench-options.js";
import { fmt, table } from "./support/stats.js";

const CLUSTER_ID = "bench";

const HELP = `usage: node --import tsx bench/aws-calls.ts [options]
  --sizes LIST     Service counts, run in order (default 1,50,500; at most ${MAX_SERVICES})
  --nodes N        instances (Nodes) the world starts with (default 3); each size adds one more
  --clb-size N     classic ELB Services for one extra block of the same phases (default 50; 0 skips it)
  --sample K       measure no-op and node-added on K evenly spread Services when N > K (default 0: all);
                   create and delete always cover all N. For large N on moto, whose filtered
                   DescribeSecurityGroups scans every tag in the account for every group (see bench/README.md)
  -h, --help`;

interface Options {
  readonly sizes: number[];
  readonly nodes: number;
  readonly clbSize: number;
  /** 0: every Service in every phase. */
  readonly sample: number;
}

function parseOptions(): Options {
  const o = parseBenchOptions(HELP, { sizes: "1,50,500", nodes: "3", "clb-size": "50", sample: "0" });
  return {
    sizes: o.ints("sizes", 1, MAX_SERVICES),
    nodes: o.int("nodes", 1, 50),
    clbSize: o.int("clb-size", 0, MAX_SERVICES),
    sample: o.int("sample", 0, MAX_SERVICES),
  };
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

type Phase = BenchPhase | "delete";
const PHASES: readonly Phase[] = ["create", "no-op", "node-added", "delete"];
type Policy = "Cluster" | "Local";

interface ClassStats {
  services: number;
  calls: number;
  describes: number;
  mutating: number;
  errors: number;
  firstError: string | undefined;
  ms: number;
  /** "api:Operation" -> calls. */
  byOp: Map<string, number>;
}

type PhaseStats = Record<Policy, ClassStats>;

const emptyClass = (): ClassStats => ({
  services: 0,
  calls: 0,
  describes: 0,
  mutating: 0,
  errors: 0,
  firstError: undefined,
  ms: 0,
  byOp: new Map(),
});

interface Bench {
  readonly clients: AwsClients;
  readonly world: AwsWorld;
  readonly counter: CallCounter;
  readonly provider: AwsProvider;
  readonly signal: AbortSignal;
}

/** Runs one step per Service, one at a time, and attributes the calls each step made to its Service's class. */
async function runPhase(
  b: Bench,
  label: string,
  steps: readonly { local: boolean; run: () => Promise<unknown> }[],
): Promise<PhaseStats> {
  const stats: PhaseStats = { Cluster: emptyClass(), Local: emptyClass() };
  const started = performance.now();
  for (const [i, step] of steps.entries()) {
    const s = stats[step.local ? "Local" : "Cluster"];
    b.counter.reset();
    const t0 = performance.now();
    try {
      await step.run();
    } catch (err) {
      s.errors++;
      s.firstError ??= errorMessage(err);
    }
    s.ms += performance.now() - t0;
    s.services++;
    for (const c of b.counter.calls()) {
      const op = `${c.api}:${c.operation}`;
      s.calls++;
      if (c.mutating) s.mutating++;
      else s.describes++;
      s.byOp.set(op, (s.byOp.get(op) ?? 0) + 1);
    }
    if ((i + 1) % 100 === 0)
      log(`${label} ${i + 1}/${steps.length} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  const all = merge(stats.Cluster, stats.Local);
  log(
    `${label} done: ${steps.length} in ${((performance.now() - started) / 1000).toFixed(1)} s; per Service ${fmt(all.calls / all.services, 2)} calls` +
      ` (${fmt(all.describes / all.services, 2)} describes, ${fmt(all.mutating / all.services, 2)} mutating), ${all.errors} errors`,
  );
  return stats;
}

interface SizeResult {
  readonly kind: BenchKind;
  readonly n: number;
  readonly nodesBefore: number;
  /** Services measured in no-op and node-added. */
  readonly sampled: number;
  readonly phases: ReadonlyMap<Phase, PhaseStats>;
  readonly leftovers: Leftovers;
  readonly seconds: number;
}

/** K indices spread evenly over 0..n-1 (all of them when k is 0 or at least n); even and odd ones alternate. */
function sampleIndices(n: number, k: number): number[] {
  if (k === 0 || k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, j) => Math.floor((j * n) / k));
}

async function benchSize(b: Bench, kind: BenchKind, n: number, sample: number): Promise<SizeResult> {
  const started = performance.now();
  const label = (phase: Phase): string => `[${kind} N=${n} ${phase}]`;
  const services = benchServices(kind, n);
  const nodesBefore = b.world.nodes().length;
  const ensureAll = (specs: ReturnType<typeof benchSpecs>, which: readonly number[] = services.map((_, i) => i)) =>
    which.map((i) => ({ local: services[i]!.local, run: () => b.provider.ensure(specs[i]!, b.signal) }));
  const sampled = sampleIndices(n, sample);
  const phases = new Map<Phase, PhaseStats>();

  const specs = benchSpecs(services, b.world.nodes(), CLUSTER_ID);
  phases.set("create", await runPhase(b, label("create"), ensureAll(specs)));
  phases.set("no-op", await runPhase(b, label("no-op"), ensureAll(specs, sampled)));
  await b.world.addNodes(1);
  const grown = benchSpecs(services, b.world.nodes(), CLUSTER_ID);
  phases.set("node-added", await runPhase(b, label("node-added"), ensureAll(grown, sampled)));
  phases.set(
    "delete",
    await runPhase(
      b,
      label("delete"),
      services.map((s: BenchService, i) => ({ local: s.local, run: () => b.provider.delete(grown[i]!.id, b.signal) })),
    ),
  );
  const left = await leftovers(b.clients, CLUSTER_ID);
  return {
    kind,
    n,
    nodesBefore,
    sampled: sampled.length,
    phases,
    leftovers: left,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Legacy calls per Service for a class mix, weighted by how many Services each class has. */
function legacyFor(kind: BenchKind, phase: Phase, classes: readonly [Policy, number][]): LegacyEstimate | undefined {
  if (phase === "delete") return undefined;
  const total = classes.reduce((a, [, k]) => a + k, 0);
  const parts = classes
    .filter(([, k]) => k > 0)
    .map(([p, k]) => ({ k, e: legacyCalls({ kind, phase, local: p === "Local", targetGroups: 1 }) }));
  if (total === 0 || parts.some((p) => p.e === undefined)) return undefined;
  const ops = new Map<string, number>();
  let describes = 0;
  let mutating = 0;
  for (const { k, e } of parts) {
    describes += (e!.describes * k) / total;
    mutating += (e!.mutating * k) / total;
    for (const c of e!.calls) ops.set(c.op, (ops.get(c.op) ?? 0) + (c.count * k) / total);
  }
  return {
    calls: [...ops].map(([op, count]) => ({ op, count })),
    describes,
    mutating,
    lowerBound: parts.some((p) => p.e!.lowerBound),
  };
}

function merge(a: ClassStats, b: ClassStats): ClassStats {
  const byOp = new Map(a.byOp);
  for (const [op, v] of b.byOp) byOp.set(op, (byOp.get(op) ?? 0) + v);
  return {
    services: a.services + b.services,
    calls: a.calls + b.calls,
    describes: a.describes + b.describes,
    mutating: a.mutating + b.mutating,
    errors: a.errors + b.errors,
    firstError: a.firstError ?? b.firstError,
    ms: a.ms + b.ms,
    byOp,
  };
}

const perSvc = (v: number, s: ClassStats): string => fmt(v / s.services, 2);
/** "≥" marks a lower-bound legacy figure; a ratio against it is then an upper bound ("≤"). */
const legacyCell = (v: number | undefined, e: LegacyEstimate | undefined): string =>
  v === undefined || e === undefined ? "-" : `${e.lowerBound ? "≥" : ""}${fmt(v, 2)}`;
function ratioCell(ours: number, legacy: number | undefined, e: LegacyEstimate | undefined): string {
  if (legacy === undefined || e === undefined || legacy === 0) return "-";
  return `${e.lowerBound ? "≤" : ""}${(ours / legacy).toFixed(2)}x`;
}

function summaryRows(r: SizeResult): string[][] {
  const rows: string[][] = [
    [
      "phase",
      "ETP",
      "Services",
      "calls",
      "calls/Svc",
      "describes/Svc",
      "mutating/Svc",
      "legacy calls/Svc",
      "legacy describes/Svc",
      "legacy mutating/Svc",
      "calls ours/legacy",
      "describes ours/legacy",
      "errors",
      "ms/Svc",
    ],
  ];
  for (const phase of PHASES) {
    const st = r.phases.get(phase)!;
    const classes: [string, ClassStats, [Policy, number][]][] = [];
    for (const p of ["Cluster", "Local"] as const)
      if (st[p].services > 0) classes.push([p, st[p], [[p, st[p].services]]]);
    if (classes.length > 1)
      classes.push([
        "all",
        merge(st.Cluster, st.Local),
        [
          ["Cluster", st.Cluster.services],
          ["Local", st.Local.services],
        ],
      ]);
    for (const [name, s, mix] of classes) {
      const e = legacyFor(r.kind, phase, mix);
      const legacyTotal = e === undefined ? undefined : e.describes + e.mutating;
      rows.push([
        phase,
        name,
        fmt(s.services),
        fmt(s.calls),
        perSvc(s.calls, s),
        perSvc(s.describes, s),
        perSvc(s.mutating, s),
        legacyCell(legacyTotal, e),
        legacyCell(e?.describes, e),
        legacyCell(e?.mutating, e),
        ratioCell(s.calls / s.services, legacyTotal, e),
        ratioCell(s.describes / s.services, e?.describes, e),
        fmt(s.errors),
        fmt(s.ms / s.services, 1),
      ]);
    }
  }
  return rows;
}

/** Calls per Service by operation, ours per phase next to the legacy model's, all Services of the size. */
function operationRows(r: SizeResult): string[][] {
  const ours = new Map(
    PHASES.map((p) => {
      const st = r.phases.get(p)!;
      return [p, merge(st.Cluster, st.Local)] as const;
    }),
  );
  const legacy = new Map(
    PHASES.map((p) => {
      const st = r.phases.get(p)!;
      return [
        p,
        legacyFor(r.kind, p, [
          ["Cluster", st.Cluster.services],
          ["Local", st.Local.services],
        ]),
      ] as const;
    }),
  );
  const legacyOps = (p: Phase): Map<string, number> =>
    new Map((legacy.get(p)?.calls ?? []).map((c) => [c.op, c.count]));
  const ops = new Set<string>();
  for (const p of PHASES) {
    for (const op of ours.get(p)!.byOp.keys()) ops.add(op);
    for (const op of legacyOps(p).keys()) ops.add(op);
  }
  const modelled: readonly BenchPhase[] = ["create", "no-op", "node-added"];
  const rows: string[][] = [
    ["operation (per Service)", ...PHASES.map((p) => `ours ${p}`), ...modelled.map((p) => `legacy ${p}`)],
  ];
  const key = (op: string): string => `${op.replace(/^\w+:(Describe|List|Get)/, "0$&")}`;
  for (const op of [...ops].sort((a, b) => key(a).localeCompare(key(b)))) {
    rows.push([
      `  ${op}`,
      ...PHASES.map((p) => {
        const s = ours.get(p)!;
        const v = s.byOp.get(op);
        return v === undefined ? "" : fmt(v / s.services, 2);
      }),
      ...modelled.map((p) => {
        const v = legacyOps(p).get(op);
        return v === undefined ? "" : legacyCell(v, legacy.get(p));
      }),
    ]);
  }
  return rows;
}

function report(r: SizeResult): string {
  const st = r.phases.get("create")!;
  const errors = PHASES.flatMap((p) =>
    (["Cluster", "Local"] as const).flatMap((c) => {
      const s = r.phases.get(p)![c];
      return s.errors > 0 ? [`  ${p} ${c}: ${s.errors} failed, first: ${s.firstError ?? "?"}`] : [];
    }),
  );
  return [
    `== ${r.kind === "nlb" ? "NLB" : "classic ELB"}, N = ${fmt(r.n)} Services (${st.Local.services} externalTrafficPolicy Local, ${st.Cluster.services} Cluster), ` +
      `one TCP port each, instance targets on ${r.nodesBefore} nodes (${r.nodesBefore + 1} after node-added); ${r.seconds.toFixed(0)} s on moto ==` +
      (r.sampled < r.n
        ? `\n   no-op and node-added measured on ${r.sampled} of the ${fmt(r.n)} Services (--sample); the others exist and are not reconciled then`
        : ""),
    table(summaryRows(r)),
    "",
    table(operationRows(r)),
    "",
    `after delete: ${describeLeftovers(r.leftovers)}`,
    ...(errors.length > 0 ? ["errors:", ...errors] : []),
  ].join("\n");
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const started = performance.now();
  let moto: MotoServer | undefined;
  try {
    moto = await startMoto();
    const clients = moto.clients();
    const world = await createAwsWorld(clients, { clusterId: CLUSTER_ID, nodes: opts.nodes });
    const counter = countCalls(moto.clients());
    const logger = pino({ level: "warn" }, pino.destination({ dest: 2, sync: true }));
    const bench: Bench = {
      clients,
      world,
      counter,
      provider: awsProviderFor(counter.clients, logger),
      signal: new AbortController().signal,
    };
    log(
      `bench: moto on ${moto.endpoint}; NLB sizes ${opts.sizes.join(", ")}; classic ELB size ${opts.clbSize || "none"}`,
    );
    const runs: [BenchKind, number][] = [
      ...opts.sizes.map((n): [BenchKind, number] => ["nlb", n]),
      ...(opts.clbSize > 0 ? [["clb", opts.clbSize] as [BenchKind, number]] : []),
    ];
    for (const [kind, n] of runs) process.stdout.write(`\n${report(await benchSize(bench, kind, n, opts.sample))}\n`);
  } catch (err) {
    log(
      `\nbench FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${moto ? `\nmoto log: ${moto.logPath}` : ""}`,
    );
    process.exitCode = 1;
  } finally {
    await moto?.stop();
  }
  process.stdout.write(
    `\nlegacy = cloud-provider-aws as modelled in bench/support/legacy-aws-calls.ts from ../shared/reference/aws.md sections 2-3` +
      ` ("≥": only the calls the reference names; create is a lower bound)\ntotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

await main();
// The SDK's keep-alive sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
