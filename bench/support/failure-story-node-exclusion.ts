/**
 * Story b: the node announcing a VIP is cordoned (spec.unschedulable=true), and separately labelled
 * node.kubernetes.io/exclude-from-external-load-balancers. Does the announcement move off it, and does traffic
 * drain from it? One pod per node and Cluster policy, so the node that forwards (the source address the pods
 * see) is the one the client sends to. The node is restored after each part.
 */
import { EXCLUDE_FROM_LOAD_BALANCERS_LABEL } from "../../src/model/annotations.js";
import { arpPath, counts, failureSpans, summarizeProbe } from "./failure-story-analysis.js";
import {
  deployStoryService,
  HTTP_PORT,
  observe,
  type StoryContext,
  type StoryOutcome,
  type StoryService,
} from "./failure-story-context.js";
import { labForwarderOf, patchNode } from "./failure-story-lab.js";

/** How long the node stays changed, and how long the client goes on after it is restored. */
const CHANGED_MS = 6_000;
const RESTORED_MS = 3_000;
/** The steady state after the change: the last part of the changed window. */
const STEADY_MS = 2_000;

interface Part {
  readonly story: string;
  readonly tag: string;
  readonly change: object;
  readonly restore: object;
}

const PARTS: readonly Part[] = [
  {
    story: "b1. announcing node cordoned",
    tag: "cordon",
    change: { spec: { unschedulable: true } },
    restore: { spec: { unschedulable: null } },
  },
  {
    story: "b2. announcing node labelled exclude-from-external-load-balancers",
    tag: "exclude",
    change: { metadata: { labels: { [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: "true" } } },
    restore: { metadata: { labels: { [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: null } } },
  },
];

export async function nodeExclusionStory(ctx: StoryContext): Promise<StoryOutcome[]> {
  const s = await deployStoryService(ctx, "drain");
  try {
    const out: StoryOutcome[] = [];
    for (const part of PARTS) out.push(await runPart(ctx, s, part));
    return out;
  } finally {
    await s.svc.delete();
  }
}

async function runPart(ctx: StoryContext, s: StoryService, part: Part): Promise<StoryOutcome> {
  const node = s.announcer;
  let changed = false;
  try {
    const o = await observe(
      ctx,
      { vip: s.vip, port: HTTP_PORT, tag: part.tag },
      async () => {
        await patchNode(ctx.lab, node, part.change);
        changed = true;
        await new Promise((r) => setTimeout(r, CHANGED_MS));
        const restored = Date.now();
        await patchNode(ctx.lab, node, part.restore);
        changed = false;
        return { restored };
      },
      { tailMs: RESTORED_MS },
    );
    const via = labForwarderOf(ctx.lab);
    const restored = o.marks["restored"] ?? o.end;
    const during = summarizeProbe(o.samples, { from: o.t0, to: restored }, via);
    const steady = summarizeProbe(o.samples, { from: restored - STEADY_MS, to: restored }, via);
    const after = summarizeProbe(o.samples, { from: restored, to: o.end }, via);
    const podThere = `${s.svc.name}-${ctx.lab.nodes.findIndex((n) => n.name === node)}`;
    return {
      story: part.story,
      outcome:
        `${node} announced; client ARP ${arpPath(o.arp, o.t0)} (restored at +${((restored - o.t0) / 1000).toFixed(2)} s); ` +
        `last ${STEADY_MS / 1000} s before restoring: forwarded by ${counts(steady.forwardedBy)}, ` +
        `${steady.backends.get(podThere) ?? 0} of ${steady.requests - steady.failed} to the pod on ${node}; ` +
        `${during.failed} of ${during.requests} failed while changed (longest gap ${during.longestGapMs} ms), ` +
        `${after.failed} of ${after.requests} after restoring (longest gap ${after.longestGapMs} ms); ` +
        `failures ${failureSpans(o.samples, { from: o.t0, to: o.end }, o.t0)}`,
    };
  } finally {
    if (changed) await patchNode(ctx.lab, node, part.restore);
  }
}
