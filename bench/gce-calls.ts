/**
 * bench/gce-calls.ts: Compute API calls per reconcile of the GCE provider (issue 5) for create, no-op and node churn
 * at 1, 50 and 500 Services, against the per-reconcile call pattern of the anchor (cloud-provider-gcp's legacy
 * internal LB), which bench/support/gce-anchor-model.ts writes out call by call from ../shared/reference/gce.md
 * sections 1 and 3 and the anchor's source, and replays over the same sequence of reconciles.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/gce-calls.ts --sizes 1,50,500
 *
 * Per size N, on a fresh fake Compute API (test/env/fake-compute: one project, region us-central1 with zones a/b/c,
 * --nodes-per-zone instances in each) and the production provider (gceProviderFor over the real
 * @google-cloud/compute clients), one Service at a time so every call is attributed to exactly one Service:
 *  1. create: N Services (one TCP port; even-numbered ones externalTrafficPolicy Local, with their own health check
 *     and firewall; odd ones Cluster, on the shared kube-proxy check), each ensured once.
 *  2. no-op: each ensured again with the same spec (a resync, or every Service after a controller restart).
 *  3. node churn: one VM added in zone a and one deleted in zone b (Compute drops a deleted VM from its instance
 *     groups itself), every spec re-derived, each ensured. The anchor's column is UpdateLoadBalancer, which is what
 *     the service controller calls on a node change.
 *  4. delete: each deleted; then the project is listed for anything whose description still names the cluster.
 * Operations are DONE in the mutating call's answer (operationPolls 0) for speed; one extra run of --poll-size
 * Services with operations that need --polls waits each shows what polling costs.
 *
 * Columns: requests = reads + mutating + operation polls (operations get/wait). With operations DONE at once ours
 * never polls while the anchor's pollOperation still gets once per operation, so the fair ratio there is
 * reads+mutating; the polling run compares requests with both sides polling the same number of times.
 *
 * What it does not say: the fake answers in about a millisecond, so ms/Svc is the client's and the fake's, not
 * Compute's. Our counts are exact for this code; the anchor's are a model. Nothing is asserted.
 */
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { gceProviderFor } from "../providers/gce/create-gce-provider.js";
import { errorMessage } from "../src/errors.js";
import { gceClientsFor, startFakeCompute } from "../test/env/fake-compute/index.js";
import { AnchorModel, type AnchorCall } from "./support/gce-anchor-model.js";
import {
  MAX_SERVICES,
  ZONES,
  benchLocation,
  benchServices,
  benchSpec,
  describeLeftovers,
  initialNodes,
  leftovers,
  seedOf,
  type BenchNode,
  type BenchService,
  type Leftovers,
} from "./support/gce-bench-world.js";
import { parseBenchOptions } from "./support/bench-options.js";
import { fmt, ratio, table } from "./support/stats.js";

const HELP = `usage: node --import tsx bench/gce-calls.ts [options]
  --sizes LIST          Service counts, each on a fresh fake (default 1,50,500; at most ${MAX_SERVICES})
  --nodes-per-zone N    instances in each of the 3 zones (default 2, at least 2 so churn keeps every zone)
  --poll-size N         Services of the extra run whose operations need --polls waits (default 10; 0 skips it)
  --polls P             waits an operation needs in that run (default 2)
  --top K               methods listed per size, most frequent first (default 25: all of them, in practice)
  -h, --help`;

interface Options {
  readonly sizes: number[];
  readonly perZone: number;
  readonly pollSize: number;
  readonly polls: number;
  readonly top: number;
}

function parseOptions(): Options {
  const o = parseBenchOptions(HELP, {
    sizes: "1,50,500",
    "nodes-per-zone": "2",
    "poll-size": "10",
    polls: "2",
    top: "25",
  });
  return {
    sizes: o.ints("sizes", 1, MAX_SERVICES),
    perZone: o.int("nodes-per-zone", 2, 300),
    pollSize: o.int("poll-size", 0, MAX_SERVICES),
    polls: o.int("polls", 1, 20),
    top: o.int("top", 1, 100),
  };
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

type Phase = "create" | "no-op" | "node churn" | "delete";
const PHASES: readonly Phase[] = ["create", "no-op", "node churn", "delete"];
type Policy = "Cluster" | "Local";

interface Tally {
  services: number;
  reads: number;
  mutating: number;
  polls: number;
  errors: number;
  firstError: string | undefined;
  ms: number;
  byMethod: Map<string, number>;
}

const emptyTally = (): Tally => ({
  services: 0,
  reads: 0,
  mutating: 0,
  polls: 0,
  errors: 0,
  firstError: undefined,
  ms: 0,
  byMethod: new Map(),
});
const total = (t: Tally): number => t.reads + t.mutating + t.polls;
/** Operation polls: the scope's operations get (the anchor) or wait (ours). */
const isPoll = (method: string): boolean => /Operations\.(get|wait)$/.test(method);

function count(t: Tally, calls: readonly AnchorCall[]): void {
  for (const c of calls) {
    const poll = isPoll(c.method);
    if (poll) t.polls++;
    else if (c.mutating) t.mutating++;
    else t.reads++;
    // Ours waits, the anchor gets: one row per scope either way.
    const method = poll ? `${c.method.slice(0, c.method.indexOf("."))} poll` : c.method;
    t.byMethod.set(method, (t.byMethod.get(method) ?? 0) + 1);
  }
}

function merge(a: Tally, b: Tally): Tally {
  const byMethod = new Map(a.byMethod);
  for (const [m, v] of b.byMethod) byMethod.set(m, (byMethod.get(m) ?? 0) + v);
  return {
    services: a.services + b.services,
    reads: a.reads + b.reads,
    mutating: a.mutating + b.mutating,
    polls: a.polls + b.polls,
    errors: a.errors + b.errors,
    firstError: a.firstError ?? b.firstError,
    ms: a.ms + b.ms,
    byMethod,
  };
}

interface PhaseStats {
  readonly ours: Record<Policy, Tally>;
  readonly anchor: Record<Policy, Tally>;
}

interface SizeResult {
  readonly n: number;
  readonly polls: number;
  readonly nodes: number;
  readonly phases: ReadonlyMap<Phase, PhaseStats>;
  readonly leftovers: Leftovers;
  readonly seconds: number;
}

async function benchSize(n: number, opts: Options, polls: number): Promise<SizeResult> {
  const started = performance.now();
  let nodes: BenchNode[] = initialNodes(opts.perZone);
  const fake = await startFakeCompute({ instances: nodes.map(seedOf), operationPolls: polls });
  try {
    const logger = pino({ level: "warn" }, pino.destination({ dest: 2, sync: true }));
    const provider = gceProviderFor(gceClientsFor(fake), benchLocation(), logger, {
      minPollIntervalMs: 0,
      minRetryDelayMs: 1,
    });
    const model = new AnchorModel(ZONES, polls);
    const signal = new AbortController().signal;
    const services = benchServices(n);
    const phases = new Map<Phase, PhaseStats>();
    const anchorSvc = (s: BenchService) => ({ key: s.key, local: s.local, nodes });

    const runPhase = async (
      phase: Phase,
      ours: (s: BenchService) => Promise<unknown>,
      anchor: (s: BenchService) => AnchorCall[],
    ): Promise<void> => {
      const st: PhaseStats = {
        ours: { Cluster: emptyTally(), Local: emptyTally() },
        anchor: { Cluster: emptyTally(), Local: emptyTally() },
      };
      const t0 = performance.now();
      for (const s of services) {
        const policy: Policy = s.local ? "Local" : "Cluster";
        const o = st.ours[policy];
        fake.clearCalls();
        const t = performance.now();
        try {
          await ours(s);
        } catch (err) {
          o.errors++;
          o.firstError ??= errorMessage(err);
        }
        o.ms += performance.now() - t;
        o.services++;
        count(o, fake.calls());
        st.anchor[policy].services++;
        count(st.anchor[policy], anchor(s));
        if ((s.index + 1) % 100 === 0)
          log(`[N=${n} ${phase}] ${s.index + 1}/${n} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
      const all = merge(st.ours.Cluster, st.ours.Local);
      log(
        `[N=${n} P=${polls} ${phase}] ${((performance.now() - t0) / 1000).toFixed(1)} s; ${fmt(total(all) / all.services, 2)} calls/Svc, ${all.errors} errors`,
      );
      phases.set(phase, st);
    };

    await runPhase(
      "create",
      (s) => provider.ensure(benchSpec(s, nodes), signal),
      (s) => model.ensure(anchorSvc(s)),
    );
    await runPhase(
      "no-op",
      (s) => provider.ensure(benchSpec(s, nodes), signal),
      (s) => model.ensure(anchorSvc(s)),
    );
    const added: BenchNode = { name: `node-a-${opts.perZone}`, zone: ZONES[0]! };
    const removed = nodes.find((x) => x.zone === ZONES[1])!;
    fake.addInstance(seedOf(added));
    fake.removeInstance(removed.zone, removed.name);
    model.removeVm(removed.zone, removed.name);
    nodes = [...nodes.filter((x) => x !== removed), added];
    await runPhase(
      "node churn",
      (s) => provider.ensure(benchSpec(s, nodes), signal),
      (s) => model.update(anchorSvc(s)),
    );
    await runPhase(
      "delete",
      (s) => provider.delete(benchSpec(s, nodes).id, signal),
      (s) => model.delete(s.key),
    );
    return {
      n,
      polls,
      nodes: opts.perZone * ZONES.length,
      phases,
      leftovers: leftovers(fake),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await fake.stop();
  }
}

const per = (v: number, t: Tally): string => fmt(v / t.services, 2);

function summaryRows(r: SizeResult): string[][] {
  const rows: string[][] = [
    [
      "phase",
      "ETP",
      "Svcs",
      "requests",
      "requests/Svc",
      "reads/Svc",
      "mutating/Svc",
      "polls/Svc",
      "anchor requests/Svc",
      "anchor reads/Svc",
      "anchor mutating/Svc",
      "anchor polls/Svc",
      "reads+mutating ours/anchor",
      "mutating ours/anchor",
      "requests ours/anchor",
      "errors",
      "ms/Svc",
    ],
  ];
  for (const phase of PHASES) {
    const st = r.phases.get(phase)!;
    const classes: [string, Tally, Tally][] = [];
    for (const p of ["Cluster", "Local"] as const)
      if (st.ours[p].services > 0) classes.push([p, st.ours[p], st.anchor[p]]);
    if (classes.length > 1)
      classes.push(["all", merge(st.ours.Cluster, st.ours.Local), merge(st.anchor.Cluster, st.anchor.Local)]);
    for (const [name, o, a] of classes) {
      rows.push([
        phase,
        name,
        fmt(o.services),
        fmt(total(o)),
        per(total(o), o),
        per(o.reads, o),
        per(o.mutating, o),
        per(o.polls, o),
        per(total(a), a),
        per(a.reads, a),
        per(a.mutating, a),
        per(a.polls, a),
        ratio(o.reads + o.mutating, a.reads + a.mutating),
        ratio(o.mutating, a.mutating),
        ratio(total(o), total(a)),
        fmt(o.errors),
        fmt(o.ms / o.services, 2),
      ]);
    }
  }
  return rows;
}

/** Calls per Service by method over all Services of the size, the `top` most frequent (ours + anchor). */
function methodRows(r: SizeResult, top: number): string[][] {
  const all = (which: "ours" | "anchor", p: Phase): Tally => {
    const st = r.phases.get(p)!;
    return merge(st[which].Cluster, st[which].Local);
  };
  const sums = new Map<string, number>();
  for (const p of PHASES) {
    for (const which of ["ours", "anchor"] as const)
      for (const [m, v] of all(which, p).byMethod) sums.set(m, (sums.get(m) ?? 0) + v);
  }
  const methods = [...sums].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([m]) => m);
  const rows: string[][] = [
    ["method (per Service)", ...PHASES.map((p) => `ours ${p}`), ...PHASES.map((p) => `anchor ${p}`)],
  ];
  const cell = (t: Tally, m: string): string => {
    const v = t.byMethod.get(m);
    return v === undefined ? "" : per(v, t);
  };
  for (const m of methods.slice(0, top)) {
    rows.push([
      `  ${m}`,
      ...PHASES.map((p) => cell(all("ours", p), m)),
      ...PHASES.map((p) => cell(all("anchor", p), m)),
    ]);
  }
  if (methods.length > top) rows.push([`  (${methods.length - top} more methods)`, ...PHASES.flatMap(() => ["", ""])]);
  return rows;
}

function report(r: SizeResult, top: number, title: string): string {
  const create = r.phases.get("create")!.ours;
  const errors = PHASES.flatMap((p) =>
    (["Cluster", "Local"] as const).flatMap((c) => {
      const t = r.phases.get(p)!.ours[c];
      return t.errors > 0 ? [`  ${p} ${c}: ${t.errors} failed, first: ${t.firstError ?? "?"}`] : [];
    }),
  );
  return [
    `== ${title}: N = ${fmt(r.n)} Services (${create.Local.services} Local, ${create.Cluster.services} Cluster), one TCP port each, ` +
      `${r.nodes} nodes in ${ZONES.length} zones; operations need ${r.polls} polls; ${r.seconds.toFixed(1)} s ==`,
    table(summaryRows(r)),
    "",
    table(methodRows(r, top)),
    "",
    `after delete: ${describeLeftovers(r.leftovers)}`,
    ...(errors.length > 0 ? ["errors:", ...errors] : []),
  ].join("\n");
}

/** What polling adds per Service: the poll run against the plain run of the same size (run right before it). */
function pollingRows(plain: SizeResult, polled: SizeResult): string[][] {
  const rows: string[][] = [
    [
      "phase",
      "ours polls/Svc",
      `ours requests/Svc at ${polled.polls} polls`,
      "at 0 polls",
      "ms/Svc",
      "ms/Svc at 0",
      "anchor polls/Svc",
      "anchor requests/Svc",
    ],
  ];
  for (const p of PHASES) {
    const all = (r: SizeResult, which: "ours" | "anchor"): Tally =>
      merge(r.phases.get(p)![which].Cluster, r.phases.get(p)![which].Local);
    const o = all(polled, "ours");
    const o0 = all(plain, "ours");
    const a = all(polled, "anchor");
    rows.push([
      p,
      per(o.polls, o),
      per(total(o), o),
      per(total(o0), o0),
      fmt(o.ms / o.services, 2),
      fmt(o0.ms / o0.services, 2),
      per(a.polls, a),
      per(total(a), a),
    ]);
  }
  return rows;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const started = performance.now();
  try {
    for (const n of opts.sizes)
      process.stdout.write(`\n${report(await benchSize(n, opts, 0), opts.top, "operations DONE at once")}\n`);
    if (opts.pollSize > 0) {
      const plain = await benchSize(opts.pollSize, opts, 0);
      const polled = await benchSize(opts.pollSize, opts, opts.polls);
      process.stdout.write(`\n${report(polled, opts.top, `polling run (operationPolls ${opts.polls})`)}\n\n`);
      process.stdout.write(
        `polling cost, N = ${polled.n}: the same Services with operations DONE at once and with ${polled.polls} polls each\n${table(pollingRows(plain, polled))}\n`,
      );
    }
  } catch (err) {
    log(`\nbench FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  }
  process.stdout.write(
    `\nanchor = cloud-provider-gcp legacy ILB as modelled in bench/support/gce-anchor-model.ts (../shared/reference/gce.md sections 1 and 3);` +
      ` its node-churn column is UpdateLoadBalancer, its polls are Operations.get, at least one per operation\n` +
      `requests = reads + mutating + operation polls; with operations DONE at once ours poll 0 times while the anchor still gets once per` +
      ` operation, so compare reads+mutating there and requests in the polling run\n` +
      `total bench time ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

await main();
// The clients' keep-alive sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
