/**
 * Issue 14, part 3: no Service waits behind a hung cloud call. The real `lb-operator run --provider aws` (a child
 * process, leader election on) against a real kube-apiserver and moto behind the fault proxy. One Service's
 * CreateLoadBalancer hangs forever while 20 others are created at the same moment: the 20 get addresses, the hung one
 * gets a Warning naming the reconcile timeout and backs off, its HTTP request is cancelled (the proxy sees the client
 * close it), it converges once the proxy lets calls through, and the controller's Lease is renewed all along.
 *
 * Run with `--reconcile-timeout 10s` so the test is fast, and the default `--workers 5`: the hung Service holds one
 * worker for at most 10 s per attempt, the other four serve everyone else.
 */
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsFaultProxy, startAwsFaultProxy } from "../env/aws-fault-proxy.js";
import { createAwsWorld } from "../env/aws-world.js";
import { useTestCluster } from "../env/controller-harness.js";
import { ControllerProcess } from "../env/controller-process.js";
import { type MotoServer, startMoto } from "../env/moto.js";
import { apiService } from "../fixtures/api-services.js";
import { eventually } from "../../testing/eventually.js";

const CLASS = "lb-operator.io/aws";
const CLUSTER = "hung-cluster";
const LEASE = "lb-operator-hung";
const IDENTITY = "hung-call-test";
const LEASE_DURATION_MS = 4_000;
const OTHERS = 20;

const cluster = useTestCluster();
let moto: MotoServer;
let proxy: AwsFaultProxy;
let controller: ControllerProcess;

/** Starts the controller with moto's static credentials in its environment (only the child sees them). */
async function startAwsController(): Promise<ControllerProcess> {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  try {
    return await ControllerProcess.start(
      [
        ...["--provider", "aws", "--kubeconfig", cluster.cp.kubeconfigPath, "--cluster-id", CLUSTER],
        ...["--load-balancer-class", CLASS, "--aws-endpoint", proxy.endpoint, "--aws-region", moto.region],
        ...["--reconcile-timeout", "10s", "--workers", "5"],
        ...["--identity", IDENTITY, "--leader-election-id", LEASE, "--lease-duration", `${LEASE_DURATION_MS}ms`],
        ...["--renew-deadline", "3s", "--retry-period", "500ms", "--log-level", "info"],
      ],
      cluster.cp.dir,
      "hung-call",
    );
  } finally {
    restoreEnv("AWS_ACCESS_KEY_ID", saved.id);
    restoreEnv("AWS_SECRET_ACCESS_KEY", saved.secret);
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startAwsFaultProxy(moto.endpoint);
  const world = await createAwsWorld(moto.clients(), { clusterId: CLUSTER, nodes: 3 });
  for (const node of world.nodes()) {
    const created = await cluster.kube.core.createNode({ body: { metadata: node.metadata, spec: node.spec } });
    await cluster.kube.core.replaceNodeStatus({
      name: created.metadata!.name!,
      body: { ...created, status: node.status },
    });
  }
  controller = await startAwsController();
});

afterAll(async () => {
  await controller?.stop("SIGKILL");
  await proxy?.stop();
  await moto?.stop();
});

interface LeaseSample {
  readonly at: number;
  readonly holder: string | undefined;
  readonly renewTime: number | undefined;
}

/** Reads the Lease every 250 ms until stopped. */
function watchLease(): { stop: () => Promise<LeaseSample[]> } {
  const coordination = cluster.cp.kubeConfig().makeApiClient(CoordinationV1Api);
  const samples: LeaseSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const lease = await coordination.readNamespacedLease({ name: LEASE, namespace: "default" });
      const renew = lease.spec?.renewTime;
      samples.push({
        at: Date.now(),
        holder: lease.spec?.holderIdentity,
        renewTime: renew === undefined ? undefined : new Date(renew).getTime(),
      });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

describe("a hung AWS call under the controller", () => {
  it("holds up no other Service, ends in a Warning naming the timeout, converges after, and the Lease stays", async () => {
    const { kube } = cluster;
    await eventually("the controller to lead", async () => (await controller.metric("lb_operator_leader")) === 1, {
      timeoutMs: 20_000,
    });
    const ns = await kube.createNamespace("hung");
    proxy.inject("CreateLoadBalancer", "hang", {
      times: Infinity,
      match: (params) => [...params.values()].includes(`${ns}/hung`),
    });
    const lease = watchLease();
    const names = Array.from({ length: OTHERS }, (_, i) => `svc-${i}`);

    const t0 = Date.now();
    const since = (): number => (Date.now() - t0) / 1_000;
    await Promise.all(
      ["hung", ...names].map((name) =>
        kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, name, CLASS) }),
      ),
    );

    const ready = async (): Promise<Set<string>> => {
      const list = await kube.core.listNamespacedService({ namespace: ns });
      return new Set(
        list.items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.hostname).map((s) => s.metadata?.name ?? ""),
      );
    };
    await eventually(`${OTHERS} Services with an address`, async () => (await ready()).size >= OTHERS, {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const othersDone = since();
    expect([...(await ready())].sort()).toEqual([...names].sort());

    const warning = await eventually(
      "a Warning on the hung Service",
      async () => (await kube.events(ns, "hung")).find((e) => e.type === "Warning"),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const warned = since();
    expect(warning.reason).toBe("SyncLoadBalancerFailed");
    expect(warning.message).toMatch(/timed out after 10s/);
    // Nothing else was lost: the finalizer stays, no address was made up.
    const hung = await kube.service(ns, "hung");
    expect(hung?.metadata?.finalizers).toContain("service.kubernetes.io/load-balancer-cleanup");
    expect(hung?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    // The HTTP request was cancelled, not abandoned: the controller closed it and moto never saw it.
    await eventually("the hung request closed by the client", () =>
      proxy.seen().some((r) => r.operation === "CreateLoadBalancer" && r.fault === "hang" && !r.forwarded),
    );
    for (const name of names) {
      expect((await kube.events(ns, name)).filter((e) => e.type === "Warning")).toEqual([]);
    }

    proxy.releaseHung();
    const released = since();
    await eventually(
      "an address for the hung Service",
      async () => (await kube.service(ns, "hung"))?.status?.loadBalancer?.ingress?.[0]?.hostname,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const converged = since();
    const samples = await lease.stop();

    console.log(
      `aws-hung-call: ${OTHERS} others addressed at ${othersDone.toFixed(1)} s, Warning at ${warned.toFixed(1)} s ` +
        `(${JSON.stringify(warning.message)}), released at ${released.toFixed(1)} s, converged at ` +
        `${converged.toFixed(1)} s; ${samples.length} Lease reads`,
    );
    expect(othersDone).toBeLessThan(60);
    expect((await kube.events(ns, "hung")).at(-1)?.reason).toBe("EnsuredLoadBalancer");

    // The Lease: always ours, renewed throughout (never a gap near the lease duration), the process still leading.
    expect(new Set(samples.map((s) => s.holder))).toEqual(new Set([IDENTITY]));
    const renewals = [...new Set(samples.map((s) => s.renewTime ?? 0))].sort((a, b) => a - b);
    expect(renewals.length).toBeGreaterThanOrEqual(Math.floor(converged));
    const gaps = renewals.slice(1).map((t, i) => t - (renewals[i] ?? t));
    expect(Math.max(...gaps)).toBeLessThan(LEASE_DURATION_MS);
    expect(controller.child.exitCode).toBeNull();
    expect(await controller.metric("lb_operator_leader")).toBe(1);
  });
});
