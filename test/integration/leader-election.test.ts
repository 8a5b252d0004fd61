import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { KubeTestClient } from "../env/controller-harness.js";
import { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../env/eventually.js";
import { apiService } from "../fixtures/api-services.js";

const CLASS = "lb-operator.io/baremetal";
const LEASE = "lb-operator-election";
const LEASE_DURATION_MS = 4_000;

let cp: ControlPlane;
let kube: KubeTestClient;
const procs: ControllerProcess[] = [];

beforeAll(async () => {
  cp = await startControlPlane();
  kube = new KubeTestClient(cp.kubeConfig());
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop("SIGKILL")));
  await cp?.stop();
});

async function startCandidate(identity: string): Promise<ControllerProcess> {
  const args = [
    "--provider", "baremetal", "--kubeconfig", cp.kubeconfigPath, "--address-pool", "le=192.0.2.0/28",
    "--load-balancer-class", CLASS, "--identity", identity, "--leader-election-id", LEASE,
    "--lease-duration", `${LEASE_DURATION_MS}ms`, "--renew-deadline", "3s", "--retry-period", "500ms", "--log-level", "info",
  ];
  const proc = await ControllerProcess.start(args, cp.dir, identity);
  procs.push(proc);
  return proc;
}

async function holder(): Promise<string | undefined> {
  const lease = await cp.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace: "default" });
  return lease.spec?.holderIdentity || undefined;
}

async function reportersOf(ns: string, name: string): Promise<Set<string>> {
  return new Set((await kube.events(ns, name)).map((e) => e.reportingInstance ?? ""));
}

describe("leader election between two controller processes", () => {
  it("only the leader reconciles; a stopped leader hands over within the lease duration; a killed one after it", async () => {
    const a = await startCandidate("alpha");
    const b = await startCandidate("bravo");
    const first = await eventually("a leader", holder, { timeoutMs: 20_000 });
    const [leader, follower] = first === "alpha" ? [a, b] : [b, a];
    const followerId = first === "alpha" ? "bravo" : "alpha";

    const ns = await kube.createNamespace("le");
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "one", CLASS) });
    await eventually("ingress", async () => (await kube.service(ns, "one"))?.status?.loadBalancer?.ingress?.length);
    await eventually("events", async () => (await kube.events(ns, "one")).length >= 2);
    expect(await reportersOf(ns, "one")).toEqual(new Set([first]));
    expect(await leader.metric("lb_operator_leader")).toBe(1);
    expect(await follower.metric("lb_operator_leader")).toBe(0);
    expect(await follower.metric("lb_operator_reconcile_total")).toBe(0);
    expect(await leader.metric("lb_operator_reconcile_total")).toBeGreaterThan(0);

    // Graceful stop releases the Lease: the standby takes over well inside the lease duration.
    const stoppedAt = Date.now();
    await leader.stop("SIGTERM");
    await eventually("the follower to hold the lease", async () => (await holder()) === followerId, { intervalMs: 50 });
    const handover = Date.now() - stoppedAt;
    expect(handover).toBeLessThan(LEASE_DURATION_MS);
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "two", CLASS) });
    await eventually("ingress from the new leader", async () => (await kube.service(ns, "two"))?.status?.loadBalancer?.ingress?.length);
    await eventually("events", async () => (await kube.events(ns, "two")).length >= 2);
    expect(await reportersOf(ns, "two")).toEqual(new Set([followerId]));

    // A killed leader cannot release: a new candidate waits out the lease as it observed it, no more.
    const c = await startCandidate("charlie");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await holder()).toBe(followerId);
    const killedAt = Date.now();
    await follower.stop("SIGKILL");
    await eventually("charlie to hold the lease", async () => (await holder()) === "charlie", { intervalMs: 50, timeoutMs: 20_000 });
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeGreaterThan(1_000);
    expect(takeover).toBeLessThan(LEASE_DURATION_MS + 2_000);
    expect(await c.metric("lb_operator_leader")).toBe(1);
    process.stdout.write(`leader election: graceful handover ${handover} ms, takeover after SIGKILL ${takeover} ms\n`);
  });
});
