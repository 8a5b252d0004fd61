import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { ControllerProcess } from "../env/controller-process.js";
import { useTestCluster } from "../env/controller-harness.js";
import { eventually } from "../../testing/eventually.js";
import { apiService } from "../fixtures/api-services.js";

const CLASS = "lb-operator.io/baremetal";
const LEASE = "lb-operator-election";
const LEASE_DURATION_MS = 4_000;

const cluster = useTestCluster();
const procs: ControllerProcess[] = [];

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop("SIGKILL")));
});

async function startCandidate(identity: string): Promise<ControllerProcess> {
  const args = [
    "--provider",
    "baremetal",
    "--kubeconfig",
    cluster.cp.kubeconfigPath,
    "--address-pool",
    "le=192.0.2.0/28",
    "--load-balancer-class",
    CLASS,
    "--identity",
    identity,
    "--leader-election-id",
    LEASE,
    "--lease-duration",
    `${LEASE_DURATION_MS}ms`,
    "--renew-deadline",
    "3s",
    "--retry-period",
    "500ms",
    "--log-level",
    "info",
  ];
  const proc = await ControllerProcess.start(args, cluster.cp.dir, identity);
  procs.push(proc);
  return proc;
}

async function holder(): Promise<string | undefined> {
  const lease = await cluster.cp
    .kubeConfig()
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: LEASE, namespace: "default" });
  return lease.spec?.holderIdentity || undefined;
}

async function reportersOf(ns: string, name: string): Promise<Set<string>> {
  return new Set((await cluster.kube.events(ns, name)).map((e) => e.reportingInstance ?? ""));
}

describe("leader election between two controller processes", () => {
  it("only the leader reconciles; a stopped leader hands over within the lease duration; a killed one after it", async () => {
    const a = await startCandidate("alpha");
    const b = await startCandidate("bravo");
    const first = await eventually("a leader", holder, { timeoutMs: 20_000 });
    const [leader, follower] = first === "alpha" ? [a, b] : [b, a];
    const followerId = first === "alpha" ? "bravo" : "alpha";

    const ns = await cluster.kube.createNamespace("le");
    await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "one", CLASS) });
    await eventually(
      "ingress",
      async () => (await cluster.kube.service(ns, "one"))?.status?.loadBalancer?.ingress?.length,
    );
    // EnsuredLoadBalancer (EnsuringLoadBalancer only for an ensure still running after a second).
    await eventually("events", async () => (await cluster.kube.events(ns, "one")).length >= 1);
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
    await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "two", CLASS) });
    await eventually(
      "ingress from the new leader",
      async () => (await cluster.kube.service(ns, "two"))?.status?.loadBalancer?.ingress?.length,
    );
    // EnsuredLoadBalancer (EnsuringLoadBalancer only for an ensure still running after a second).
    await eventually("events", async () => (await cluster.kube.events(ns, "two")).length >= 1);
    expect(await reportersOf(ns, "two")).toEqual(new Set([followerId]));

    // A killed leader cannot release: a new candidate waits out the lease as it observed it, no more.
    const c = await startCandidate("charlie");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await holder()).toBe(followerId);
    const killedAt = Date.now();
    await follower.stop("SIGKILL");
    await eventually("charlie to hold the lease", async () => (await holder()) === "charlie", {
      intervalMs: 50,
      timeoutMs: 20_000,
    });
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeGreaterThan(1_000);
    expect(takeover).toBeLessThan(LEASE_DURATION_MS + 2_000);
    expect(await c.metric("lb_operator_leader")).toBe(1);
    process.stdout.write(`leader election: graceful handover ${handover} ms, takeover after SIGKILL ${takeover} ms\n`);
  });
});
