/**
 * Summarizes a V8 heap snapshot (from `bench/reconcile.ts --heap-snapshot`, or any .heapsnapshot): self size and
 * count by node type and constructor name, the largest first. Self sizes only (no dominator tree): enough to say
 * what kind of object the heap is made of, e.g. whole API objects in a cache, strings, closures.
 *
 *   tsx bench/heapsnapshot-top.ts <file.heapsnapshot> [--top 30]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: "string", default: "30" } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  process.stderr.write("usage: tsx bench/heapsnapshot-top.ts <file.heapsnapshot> [--top N]\n");
  process.exit(2);
}
const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const stride = fields.length;
const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
if (typeAt === undefined || nameAt === undefined || sizeAt === undefined || Math.min(typeAt, nameAt, sizeAt) < 0) {
  throw new Error(`${file}: node_fields ${JSON.stringify(fields)} lack type, name or self_size`);
}

const groups = new Map<string, { bytes: number; count: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += stride) {
  const type = types[snap.nodes[i + typeAt] ?? 0] ?? "?";
  const raw = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? "?";
  // Strings are grouped by type alone (their name is their content); objects by constructor.
  const name = type === "string" || type === "concatenated string" || type === "sliced string" ? "" : raw;
  const key = `${type} ${name.slice(0, 60)}`;
  const bytes = snap.nodes[i + sizeAt] ?? 0;
  total += bytes;
  const g = groups.get(key) ?? { bytes: 0, count: 0 };
  g.bytes += bytes;
  g.count += 1;
  groups.set(key, g);
}

const mb = (b: number): string => (b / 1e6).toFixed(1).padStart(8);
process.stdout.write(`${file}: ${mb(total).trim()} MB in ${snap.nodes.length / stride} nodes\n`);
process.stdout.write(`${"self MB".padStart(8)}  ${"count".padStart(9)}  type and constructor\n`);
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
  process.stdout.write(`${mb(g.bytes)}  ${String(g.count).padStart(9)}  ${key}\n`);
}
