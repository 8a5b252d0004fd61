import type { V1Node, V1Pod, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { CaseContext } from "./cases.js";
import type { DataPathAccess, DataPathResponse } from "./data-path.js";
import { clientIpOf, dataPathCases } from "./data-path-cases.js";
import { NoEligibleNodeError } from "./echo-pods.js";
import { ConformanceTimeoutError } from "../../testing/eventually.js";
import type { ConformanceKubeClient } from "./kube-client.js";

const CLIENT = "192.0.2.10";

const node = (name: string, tweak: (n: V1Node) => void = () => undefined): V1Node => {
  const n: V1Node = {
    metadata: { name, labels: {} },
    spec: {},
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
  tweak(n);
  return n;
};

/** How the fake load balancer misbehaves; the defaults make a correct one. */
interface LbFaults {
  /** Requests this backend would get fail (its process is gone, its node drops them). */
  deadPods?: string[];
  /** Only the first backend ever gets traffic. */
  onlyFirstBackend?: boolean;
  /** Every nth request fails, whatever the backend. */
  failEvery?: number;
  ignoreSourceRanges?: boolean;
  /** Outside the source ranges, every nth request still gets through (a rule on some nodes only). */
  denyLeaksEvery?: number;
  /** What backends see as the source (SNAT); default: the client. */
  sourceSeen?: string;
  /** A deleted pod keeps getting new connections. */
  keepRemoved?: boolean;
  podsNeverReady?: boolean;
}

/**
 * The API the cases use, in memory, and a load balancer in front of it: Services get an address at once, pods are
 * Ready at once, and `get` round-robins over the pods the Service selects, honouring loadBalancerSourceRanges.
 */
function fakeWorld(faults: LbFaults = {}, nodes: V1Node[] = [node("node-b"), node("node-a"), node("node-c")]) {
  const services = new Map<string, V1Service>();
  const pods = new Map<string, V1Pod>();
  const deleted = new Map<string, V1Pod>();
  const rangesSeen: string[][] = [];
  let requests = 0;
  const kube = {
    core: {
      createNamespacedService: async ({ body }: { namespace: string; body: V1Service }) => {
        const svc = structuredClone(body);
        svc.status = { loadBalancer: { ingress: [{ ip: `203.0.113.${100 + services.size}` }] } };
        services.set(svc.metadata!.name!, svc);
        rangesSeen.push([...(svc.spec?.loadBalancerSourceRanges ?? [])]);
        return svc;
      },
      listNode: async () => ({ items: nodes }),
      createNamespacedPod: async ({ body }: { namespace: string; body: V1Pod }) => {
        const pod = structuredClone(body);
        pod.status = { conditions: [{ type: "Ready", status: faults.podsNeverReady ? "False" : "True" }] };
        pods.set(pod.metadata!.name!, pod);
        return pod;
      },
      readNamespacedPod: async ({ name }: { namespace: string; name: string }) => pods.get(name),
      deleteNamespacedPod: async ({ name }: { namespace: string; name: string }) => {
        const pod = pods.get(name);
        if (pod) deleted.set(name, pod);
        pods.delete(name);
      },
    },
    service: async (_ns: string, name: string) => structuredClone(services.get(name)),
    updateService: async (_ns: string, name: string, change: (svc: V1Service) => void) => {
      const svc = services.get(name)!;
      change(svc);
      rangesSeen.push([...(svc.spec?.loadBalancerSourceRanges ?? [])]);
      return svc;
    },
  } as unknown as ConformanceKubeClient;

  const get = async (url: string): Promise<DataPathResponse> => {
    const { hostname, pathname } = new URL(url);
    const svc = [...services.values()].find((s) => s.status?.loadBalancer?.ingress?.[0]?.ip === hostname);
    if (!svc) return { ok: false, error: `connect ECONNREFUSED ${hostname}` };
    const ranges = svc.spec?.loadBalancerSourceRanges ?? [];
    const denied = !faults.ignoreSourceRanges && ranges.length > 0 && !ranges.includes(`${CLIENT}/32`);
    if (denied && !(faults.denyLeaksEvery && requests++ % faults.denyLeaksEvery === 0))
      return { ok: false, error: "no answer within 1000 ms" };
    const selected = (p: V1Pod): boolean =>
      Object.entries(svc.spec?.selector ?? {}).every(([k, v]) => p.metadata?.labels?.[k] === v);
    let backends = [...pods.values(), ...(faults.keepRemoved ? deleted.values() : [])]
      .filter(selected)
      .map((p) => p.metadata!.name!)
      .sort();
    if (faults.onlyFirstBackend) backends = backends.slice(0, 1);
    const n = requests++;
    const backend = backends[n % backends.length];
    if (!backend) return { ok: false, error: "connect ECONNREFUSED (no backends)" };
    if (faults.deadPods?.includes(backend) || (faults.failEvery && n % faults.failEvery === faults.failEvery - 1)) {
      return { ok: false, error: "read ECONNRESET" };
    }
    const body =
      pathname === "/clientip"
        ? `${faults.sourceSeen ?? CLIENT}:${40000 + n}`
        : pathname === "/hostname"
          ? backend
          : "?";
    return { ok: true, status: 200, body };
  };
  const dataPath: DataPathAccess = { clientAddress: CLIENT, echoImage: "example.com/echo:1", get };
  const ctx: CaseContext = {
    kube,
    namespace: "ns",
    loadBalancerClass: "x/y",
    requestableAddress: undefined,
    unavailableAddress: undefined,
    timeoutMs: 400,
    dataPath,
  };
  return { ctx, pods, deleted, rangesSeen };
}

const byName = (fragment: string) => {
  const found = dataPathCases.find((c) => c.name.includes(fragment));
  if (!found) throw new Error(`no data-path case named like "${fragment}"`);
  return found;
};
const reach = byName("should reach every backend");
const sourceRanges = byName("source ranges");
const local = byName("preserve the client address");
const removed = byName("removed backend");

describe("data-path case: reachability through the load balancer", () => {
  it("passes when both backends, on two different nodes, answer every fresh request", async () => {
    const world = fakeWorld();
    await reach.run(world.ctx);
    const pods = [...world.pods.values()];
    expect(pods.map((p) => [p.metadata?.name, p.spec?.nodeName])).toEqual([
      ["reach-0", "node-a"],
      ["reach-1", "node-b"],
    ]);
  });

  it("creates bare backend pods as agreed with the lab", async () => {
    const world = fakeWorld();
    await reach.run(world.ctx);
    expect(world.pods.get("reach-0")).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "reach-0", namespace: "ns", labels: { app: "reach" } },
      spec: {
        nodeName: "node-a",
        containers: [
          {
            name: "echo",
            image: "example.com/echo:1",
            args: ["netexec", "--http-port=8080"],
            ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
            readinessProbe: { httpGet: { path: "/hostname", port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
  });

  it("skips excluded, unschedulable and unready nodes, and puts both pods on the one node left", async () => {
    const world = fakeWorld({}, [
      node(
        "a-excluded",
        (n) => (n.metadata!.labels!["node.kubernetes.io/exclude-from-external-load-balancers"] = "true"),
      ),
      node("b-cordoned", (n) => (n.spec!.unschedulable = true)),
      node("c-notready", (n) => (n.status!.conditions = [{ type: "Ready", status: "False" }])),
      node("d-ok", (n) => (n.metadata!.labels!["node.kubernetes.io/exclude-from-external-load-balancers"] = "false")),
    ]);
    await reach.run(world.ctx);
    expect([...world.pods.values()].map((p) => p.spec?.nodeName)).toEqual(["d-ok", "d-ok"]);
  });

  it("fails when no node can take a backend", async () => {
    const world = fakeWorld({}, [node("cordoned", (n) => (n.spec!.unschedulable = true))]);
    await expect(reach.run(world.ctx)).rejects.toThrow(NoEligibleNodeError);
  });

  it("fails when one backend never answers", async () => {
    const world = fakeWorld({ deadPods: ["reach-1"] });
    const err = await reach.run(world.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConformanceTimeoutError);
    expect((err as Error).message).toMatch(
      /waiting for every backend \(reach-0, reach-1\) to answer.*never answered: reach-1; last round 10 requests: "reach-0" x5, unanswered x5 \(read ECONNRESET\)/,
    );
  });

  it("fails when the load balancer sends everything to one backend", async () => {
    await expect(reach.run(fakeWorld({ onlyFirstBackend: true }).ctx)).rejects.toThrow(/never answered: reach-1/);
  });

  it("fails when, once both answered, a fresh request goes unanswered", async () => {
    await expect(reach.run(fakeWorld({ failEvery: 17 }).ctx)).rejects.toThrow(
      /not every request was answered: 30 requests: "reach-0" x\d+, "reach-1" x\d+, unanswered x2 \(read ECONNRESET\)/,
    );
  });

  it("fails when a backend pod never becomes Ready", async () => {
    await expect(reach.run(fakeWorld({ podsNeverReady: true }).ctx)).rejects.toThrow(
      /pod ns\/reach-0 on node-a to be Ready/,
    );
  });

  it("fails with a clear message when the runner gave no data path", async () => {
    const { ctx } = fakeWorld();
    delete ctx.dataPath;
    await expect(reach.run(ctx)).rejects.toThrow(/the runner gave no data path/);
  });
});

describe("data-path case: loadBalancerSourceRanges allow and deny", () => {
  it("passes when the client is answered, then denied, then answered again", async () => {
    const world = fakeWorld();
    await sourceRanges.run(world.ctx);
    expect(world.rangesSeen).toEqual([[`${CLIENT}/32`], ["203.0.113.1/32"], [`${CLIENT}/32`]]);
  });

  it("fails when the deny phase still answers", async () => {
    const err = await sourceRanges.run(fakeWorld({ ignoreSourceRanges: true }).ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConformanceTimeoutError);
    expect((err as Error).message).toMatch(
      /5 consecutive requests to go unanswered with loadBalancerSourceRanges 203\.0\.113\.1\/32.*still answered: 5 requests: "srcrange-0" x5/,
    );
  });

  it("fails when the deny phase still lets some requests through", async () => {
    await expect(sourceRanges.run(fakeWorld({ denyLeaksEvery: 3 }).ctx)).rejects.toThrow(
      /still answered: 5 requests: (unanswered x\d \(no answer within 1000 ms\), "srcrange-0" x\d|"srcrange-0" x\d, unanswered x\d)/,
    );
  });
});

describe("data-path case: externalTrafficPolicy Local preserves the client address", () => {
  it("passes when the backend sees the client's address", async () => {
    const world = fakeWorld();
    await local.run(world.ctx);
    expect(world.pods.size).toBe(1);
  });

  it("fails when the backend sees another source", async () => {
    await expect(local.run(fakeWorld({ sourceSeen: "10.244.1.1" }).ctx)).rejects.toThrow(
      /saw the request come from 10\.244\.1\.1:\d+, not from the client 192\.0\.2\.10/,
    );
  });

  it("reads agnhost's ip:port answers, IPv6 and IPv4-mapped included", () => {
    expect(clientIpOf("192.0.2.10:43512")).toBe("192.0.2.10");
    expect(clientIpOf("[2001:db8::10]:43512")).toBe("2001:db8::10");
    expect(clientIpOf("::ffff:192.0.2.10:43512")).toBe("192.0.2.10");
  });
});

describe("data-path case: a removed backend stops receiving new connections", () => {
  it("passes when the remaining backend answers every request after the deletion", async () => {
    const world = fakeWorld();
    await removed.run(world.ctx);
    expect([...world.deleted.keys()]).toEqual(["removed-1"]);
    expect([...world.pods.keys()]).toEqual(["removed-0"]);
  });

  it("fails when the deleted pod keeps getting new connections", async () => {
    await expect(removed.run(fakeWorld({ keepRemoved: true }).ctx)).rejects.toThrow(
      /20 consecutive fresh requests all answered by removed-0, none by the deleted removed-1.*"removed-1" x10/,
    );
  });
});
