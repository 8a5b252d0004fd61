/**
 * Story c: two Services share one address (each implementation's sharing annotation, the same key), on different
 * ports; one is deleted. Does the other keep answering, and does it keep its address?
 *
 * The second Service asks for the first one's address, as MetalLB's documentation has users do; each
 * implementation reads its own spelling (ours also accepts MetalLB's: providers/baremetal/annotations.ts).
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { arpPath, failureSpans, summarizeProbe } from "./failure-story-analysis.js";
import { deployStoryService, observe, type StoryContext, type StoryOutcome } from "./failure-story-context.js";
import { labForwarderOf } from "./failure-story-lab.js";

const PORT_A = 80;
const PORT_B = 81;
const TAIL_MS = 5_000;
const SHARING_KEY = "story-c";

/** MetalLB v0.16 reads `metallb.io/allow-shared-ip` (then the deprecated metallb.universe.tf/ one) and
 *  `metallb.io/loadBalancerIPs` (controller/service.go AnnotationAllowSharedIP, AnnotationLoadBalancerIPs). */
function annotations(impl: StoryContext["impl"], ip?: string): Record<string, string> {
  const [share, ips] =
    impl.name === "metallb"
      ? ["metallb.io/allow-shared-ip", "metallb.io/loadBalancerIPs"]
      : ["lb-operator.io/allow-shared-ip", "lb-operator.io/load-balancer-ips"];
  return { [share]: SHARING_KEY, ...(ip === undefined ? {} : { [ips]: ip }) };
}

export async function sharedIpStory(ctx: StoryContext): Promise<StoryOutcome[]> {
  const [n1, n2] = ctx.lab.nodes.map((n) => n.name);
  const a = await deployStoryService(ctx, "shared-a", {
    port: PORT_A,
    annotations: annotations(ctx.impl),
    nodes: [n1 ?? "node-1"],
  });
  let aDeleted = false;
  try {
    const b = await deployStoryService(ctx, "shared-b", {
      port: PORT_B,
      annotations: annotations(ctx.impl, a.vip),
      nodes: [n2 ?? n1 ?? "node-1"],
    });
    try {
      if (b.vip !== a.vip) return [{ story: STORY, outcome: `not shared: A got ${a.vip}, B got ${b.vip}` }];
      const o = await observe(
        ctx,
        { vip: b.vip, port: PORT_B, tag: "shared" },
        async () => {
          await a.svc.delete();
          aDeleted = true;
          return { deleted: Date.now() };
        },
        { tailMs: TAIL_MS },
      );
      const whole = summarizeProbe(o.samples, { from: o.t0, to: o.end }, labForwarderOf(ctx.lab));
      const core = ctx.lab.kubeConfig().makeApiClient(CoreV1Api);
      const bNow = await core.readNamespacedService({ namespace: ctx.namespace, name: "shared-b" });
      const ips = (bNow.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(",") || "none";
      const aPort = await ctx.lab.client.agent.request("TCP", a.vip, PORT_A, { timeoutMs: 500 });
      return [
        {
          story: STORY,
          outcome:
            `both on ${a.vip} (announced by ${b.announcer}); after deleting A (${((o.marks["deleted"] ?? o.t0) - o.t0) / 1000} s): ` +
            `B ${whole.failed} of ${whole.requests} failed (${failureSpans(o.samples, { from: o.t0, to: o.end }, o.t0)}), longest gap ${whole.longestGapMs} ms, client ARP ${arpPath(o.arp, o.t0)}; ` +
            `B's status ${ips}${ips === a.vip ? " (kept)" : " (CHANGED)"}; A's port ${PORT_A} ${aPort.ok ? "still answers" : `closed (${aPort.error ?? "failed"})`}`,
        },
      ];
    } finally {
      await b.svc.delete();
    }
  } finally {
    if (!aDeleted) await a.svc.delete();
  }
}

const STORY = "c. two Services share an address, one deleted";
