/**
 * The tables of bench/aws-calls.ts: per kind and size, the two contenders side by side, per Service, reads
 * (Describe*, List*, Get*) and writes apart, first in sum per phase and then by API name.
 */
import { isMutating } from "../../test/env/aws-call-counter.js";
import { RACE_PHASES, type PhaseCount, type RaceBlock, type RacePhase } from "./aws-race.js";
import { fmt, table } from "./stats.js";

const operationOf = (op: string): string => op.slice(op.indexOf(":") + 1);
const sum = (calls: ReadonlyMap<string, number>, writes: boolean): number =>
  [...calls].filter(([op]) => isMutating(operationOf(op)) === writes).reduce((a, [, v]) => a + v, 0);

export interface PhaseTotals {
  readonly reads: number;
  readonly writes: number;
}

/** Reads and writes per Service in one phase. */
export function perService(count: PhaseCount, n: number): PhaseTotals {
  return { reads: sum(count.calls, false) / n, writes: sum(count.calls, true) / n };
}

const ratio = (ours: number, anchor: number): string =>
  anchor === 0 ? (ours === 0 ? "-" : "inf") : `${(ours / anchor).toFixed(2)}x`;

function phaseOf(b: RaceBlock, p: RacePhase): PhaseCount {
  const c = b.phases.get(p);
  if (c === undefined) throw new RangeError(`${b.contender} has no ${p} phase`);
  return c;
}

function summary(cpa: RaceBlock, ours: RaceBlock): string {
  const rows = [
    [
      "phase",
      "CPA reads/Svc",
      "CPA writes/Svc",
      "ours reads/Svc",
      "ours writes/Svc",
      "calls ours/CPA",
      "CPA s",
      "ours s",
      "converged CPA/ours",
    ],
  ];
  for (const p of RACE_PHASES) {
    const [a, o] = [phaseOf(cpa, p), phaseOf(ours, p)];
    const [ta, to] = [perService(a, cpa.n), perService(o, ours.n)];
    rows.push([
      p,
      fmt(ta.reads, 2),
      fmt(ta.writes, 2),
      fmt(to.reads, 2),
      fmt(to.writes, 2),
      ratio(to.reads + to.writes, ta.reads + ta.writes),
      a.seconds.toFixed(1),
      o.seconds.toFixed(1),
      `${a.converged ? "yes" : "NO"}/${o.converged ? "yes" : "NO"}`,
    ]);
  }
  return table(rows);
}

/** Rows: reads first, then writes, each by API and name; columns: CPA and ours per phase. */
function byApi(cpa: RaceBlock, ours: RaceBlock): string {
  const ops = new Set<string>();
  for (const b of [cpa, ours]) for (const p of RACE_PHASES) for (const op of phaseOf(b, p).calls.keys()) ops.add(op);
  const key = (op: string): string => `${isMutating(operationOf(op)) ? "1" : "0"}${op}`;
  const cell = (b: RaceBlock, p: RacePhase, op: string): string => {
    const v = phaseOf(b, p).calls.get(op);
    return v === undefined ? "" : fmt(v / b.n, 2);
  };
  const rows = [["calls per Service", ...RACE_PHASES.flatMap((p) => [`${p} CPA`, `${p} ours`])]];
  for (const op of [...ops].sort((a, b) => key(a).localeCompare(key(b))))
    rows.push([
      `${isMutating(operationOf(op)) ? "W" : "R"} ${op}`,
      ...RACE_PHASES.flatMap((p) => [cell(cpa, p, op), cell(ours, p, op)]),
    ]);
  return table(rows);
}

export function raceReport(cpa: RaceBlock, ours: RaceBlock): string {
  const what = cpa.kind === "nlb" ? "NLB" : "classic ELB";
  return [
    `== ${what}, N = ${cpa.n} Service${cpa.n === 1 ? "" : "s"} (every other one externalTrafficPolicy Local), one TCP port each ==`,
    summary(cpa, ours),
    "",
    byApi(cpa, ours),
  ].join("\n");
}
