/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `bench/reconcile.ts --profile`): the functions
 * with the most self time, and the most inclusive time per package or source directory.
 *
 *   tsx bench/cpuprofile-top.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  options: { top: { type: "string", default: "25" } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  process.stderr.write("usage: tsx bench/cpuprofile-top.ts <file.cpuprofile> [--top N]\n");
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

/** node_modules/<pkg> or the repo directory (src/kube, providers/baremetal, ...) or "(node)" / "(native)". */
function area(url: string): string {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return "(node core)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const repo =
    /\/work\/[^/]+\/(.+)\/[^/]+$/.exec(url) ?? /^file:\/\/.*?\/((?:src|providers|bench|test)(?:\/[^/]+)?)\//.exec(url);
  return repo ? repo[1]! : url;
}

const label = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where =
    url === ""
      ? ""
      : ` ${url.replace(/^file:\/\/.*?node_modules\//, "").replace(/^file:\/\/\/work\/[^/]+\//, "")}:${lineNumber + 1}`;
  return `${functionName || "(anonymous)"}${where}`;
};

const selfByLabel = new Map<string, number>();
const inclusiveByArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + us);
  // Inclusive per area: count each sample once per distinct area on its stack.
  const areas = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (n && n.callFrame.url !== "") areas.add(area(n.callFrame.url));
  }
  for (const a of areas) inclusiveByArea.set(a, (inclusiveByArea.get(a) ?? 0) + us);
}

const pct = (us: number): string =>
  `${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms`;
const idle = [...selfUs]
  .filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)")
  .reduce((s, [, us]) => s + us, 0);
process.stdout.write(
  `profile: ${(totalUs / 1e6).toFixed(1)} s wall, ${((totalUs - idle) / 1e6).toFixed(1)} s busy\n\n`,
);
process.stdout.write(`top ${top} functions by self time:\n`);
for (const [name, us] of [...selfByLabel].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${pct(us)}  ${name}\n`);
process.stdout.write(`\ninclusive time by package / directory:\n`);
for (const [name, us] of [...inclusiveByArea].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${pct(us)}  ${name}\n`);
