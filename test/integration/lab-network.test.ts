/**
 * The lab harness itself (test/env/lab), without speakers: real kube-proxy answers NodePorts and health checks on
 * every node, real kube-controller-manager writes EndpointSlices from the Pods the kubelet stand-in runs in their
 * own namespaces, pod addresses route between nodes, the nodes reach the apiserver, and teardown leaves nothing
 * behind. A part that cannot start fails the lab with an error naming it, and leaves nothing either.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DiscoveryV1Api, CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../testing/eventually.js";
import { type DeployedService, type Lab, startLab, sweepStaleLabs } from "../env/lab/lab.js";

const prefix = `lbo${process.pid}-`;
const namespaces = (): string[] =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
const rootLinks = (): string[] =>
  execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .flatMap((l) => /^\d+: ([^:@\s]+)/.exec(l)?.[1] ?? []);
const backendOf = (body: string): string | undefined => /^backend=(\S+) /.exec(body)?.[1];

describe("lab network", () => {
  let lab: Lab;
  let web: DeployedService;
  let local: DeployedService;

  beforeAll(async () => {
    lab = await startLab({ startSpeakers: false });
    web = await lab.deployService({
      name: "web",
      ports: [
        { name: "http", port: 80, targetPort: 8080 },
        { name: "dns", port: 53, protocol: "UDP", targetPort: 5353 },
      ],
      pods: [
        { name: "web-0", node: "node-1" },
        { name: "web-1", node: "node-2" },
      ],
    });
    local = await lab.deployService({
      name: "local",
      namespace: "lab-local",
      ports: [{ name: "http", port: 80, targetPort: 9090 }],
      externalTrafficPolicy: "Local",
      pods: [{ name: "local-0", node: "node-2" }],
    });
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it("builds the documented topology", () => {
    expect(lab.client.ip).toBe("192.0.2.10");
    expect(lab.outsider.ip).toBe("192.0.2.50");
    expect(lab.nodes.map((n) => [n.name, n.ip, n.podSubnet])).toEqual([
      ["node-1", "192.0.2.11", "198.51.100.16/28"],
      ["node-2", "192.0.2.12", "198.51.100.32/28"],
      ["node-3", "192.0.2.13", "198.51.100.48/28"],
    ]);
    expect(lab.network.uplink.rootIp).toMatch(/^203\.0\.113\.\d+$/);
    // One namespace per host and one per pod (web-0, web-1, local-0).
    expect(
      namespaces()
        .filter((n) => n.startsWith(prefix))
        .sort(),
    ).toEqual(
      ["client", "node-1", "node-2", "node-3", "outsider", "p1-2", "p2-2", "p2-3", "switch"].map((n) => prefix + n),
    );
    // The root namespace gets its /30 and nothing for the lab LAN.
    const rootRoutes = execFileSync("ip", ["-4", "route", "show", "dev", lab.network.uplink.rootLink], {
      encoding: "utf8",
    });
    expect(rootRoutes).not.toContain("192.0.2.");
  });

  it("kube-proxy answers every node's NodePort over TCP and UDP from the client, with nothing listening there", async () => {
    const http = web.ports.find((p) => p.name === "http")!;
    const dns = web.ports.find((p) => p.name === "dns")!;
    expect(http.nodePort).toBeGreaterThanOrEqual(30000);
    for (const node of lab.nodes) {
      const seen = new Set<string>();
      // Cluster policy: kube-proxy on any node spreads over every pod, wherever it runs. Its rules follow the
      // EndpointSlices at most once a second (minSyncPeriod), so the second pod may take a sync to appear.
      await eventually(
        `${node.name}'s kube-proxy to send to both pods`,
        async () => {
          const tcp = await lab.client.agent.request("TCP", node.ip, http.nodePort!);
          expect(tcp.ok).toBe(true);
          seen.add(backendOf(tcp.body) ?? "?");
          return seen.size === 2;
        },
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      expect([...seen].sort()).toEqual(["web-0", "web-1"]);
      const udp = await lab.client.agent.request("UDP", node.ip, dns.nodePort!);
      expect(udp.ok).toBe(true);
      expect(backendOf(udp.body)).toMatch(/^web-[01]$/);
      const sockets = (await node.exec("ss", ["-Htuln"])).stdout;
      expect(sockets).not.toContain(`:${http.nodePort} `);
    }
    // A port nobody serves fails quickly instead of answering.
    const closed = await lab.client.agent.request("TCP", lab.nodes[0]!.ip, 1, { timeoutMs: 1_000 });
    expect(closed).toMatchObject({ ok: false, error: "ECONNREFUSED" });
  });

  it("kube-controller-manager writes the EndpointSlice from the Pods the kubelet stand-in runs", async () => {
    const core = lab.kubeConfig().makeApiClient(CoreV1Api);
    const node = await core.readNode({ name: "node-2" });
    expect(node.status?.addresses).toEqual(expect.arrayContaining([{ type: "InternalIP", address: "192.0.2.12" }]));
    const pod = await core.readNamespacedPod({ namespace: "default", name: "web-1" });
    expect(pod.status).toMatchObject({ phase: "Running", podIP: "198.51.100.34", hostIP: "192.0.2.12" });
    const slices = await lab
      .kubeConfig()
      .makeApiClient(DiscoveryV1Api)
      .listNamespacedEndpointSlice({ namespace: "default", labelSelector: "kubernetes.io/service-name=web" });
    expect(slices.items.map((s) => s.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"])).toEqual([
      "endpointslice-controller.k8s.io",
    ]);
    const endpoints = slices.items
      .flatMap((s) => s.endpoints ?? [])
      .sort((a, b) => a.addresses[0]!.localeCompare(b.addresses[0]!));
    expect(endpoints.map((e) => [e.addresses[0], e.nodeName, e.conditions?.ready, e.targetRef?.name])).toEqual([
      ["198.51.100.18", "node-1", true, "web-0"],
      ["198.51.100.34", "node-2", true, "web-1"],
    ]);
  });

  it("kube-proxy answers the Local health check 200 on a node with a ready pod and 503 elsewhere; a crashed server makes the pod unready", async () => {
    const hc = local.healthCheckNodePort!;
    expect(hc).toBeGreaterThan(0);
    const check = (node: string) => lab.client.agent.httpGet(`http://${lab.node(node).ip}:${hc}/healthz`);
    // kube-proxy syncs at most once a second (minSyncPeriod), so the first answers may predate the Service.
    const withPod = await eventually(
      "kube-proxy to count the local endpoint",
      async () => {
        const res = await check("node-2");
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(JSON.parse(withPod.body)).toMatchObject({
      service: { namespace: "lab-local", name: "local" },
      localEndpoints: 1,
    });
    expect((await check("node-1")).status).toBe(503);

    await local.setPodReady("local-0", false);
    await eventually("kube-proxy to see no local endpoint", async () => (await check("node-2")).status === 503, {
      timeoutMs: 10_000,
    });
    await local.setPodReady("local-0", true);
    await eventually("kube-proxy to see the endpoint again", async () => (await check("node-2")).status === 200, {
      timeoutMs: 10_000,
    });

    await lab.stopKubeProxy("node-2");
    expect((await lab.client.agent.httpGet("http://192.0.2.12:10256/healthz", { timeoutMs: 1_000 })).ok).toBe(false);
    await lab.startKubeProxy("node-2");
    expect((await lab.client.agent.httpGet("http://192.0.2.12:10256/healthz")).status).toBe(200);
  });

  it("routes pod addresses between nodes; a removed pod is gone from the slice and the network", async () => {
    const pod = web.pods().find((p) => p.name === "web-1")!;
    expect(pod).toMatchObject({ node: "node-2", ip: "198.51.100.34" });
    const fromNode3 = await lab.node("node-3").agent.request("TCP", pod.ip, 8080);
    expect(fromNode3).toMatchObject({ ok: true });
    expect(fromNode3.body).toMatch(/^backend=web-1 client=192\.0\.2\.13:\d+$/);
    const udp = await lab.node("node-1").agent.request("UDP", pod.ip, 5353);
    expect(udp.body).toMatch(/^backend=web-1 client=192\.0\.2\.11:\d+$/);

    await web.removePod("web-1");
    const gone = await lab.node("node-3").agent.request("TCP", pod.ip, 8080, { timeoutMs: 1_000 });
    expect(gone.ok).toBe(false);
    expect(web.pods().map((p) => p.name)).toEqual(["web-0"]);
    expect(namespaces()).not.toContain(`${prefix}p2-2`);
  });

  it("measures with the loop: the first success after the start time", async () => {
    const node1 = lab.nodes[0]!;
    const startAt = Date.now();
    const loop = lab.client.agent.loop({
      protocol: "TCP",
      ip: node1.ip,
      port: 7000,
      everyMs: 20,
      timeoutMs: 200,
      startAt,
    });
    await new Promise((r) => setTimeout(r, 300));
    const restoredAt = Date.now();
    await node1.agent.serve("TCP", node1.ip, 7000, "node-1");
    const result = await loop;
    await node1.agent.unserve("TCP", node1.ip, 7000);
    expect(result).toMatchObject({ ok: true, body: expect.stringMatching(/^backend=node-1 /) as unknown });
    expect(result.at!).toBeGreaterThanOrEqual(restoredAt);
    expect(result.failuresAfterStart).toBeGreaterThan(0);
  });

  it("kube-controller-manager deletes a namespace, the kubelet stand-in finishing its pods", async () => {
    const core = lab.kubeConfig().makeApiClient(CoreV1Api);
    await lab.deployService({
      name: "doomed",
      namespace: "lab-doomed",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: [{ name: "doomed-0", node: "node-3" }],
    });
    await core.deleteNamespace({ name: "lab-doomed" });
    await eventually(
      "the namespace to be gone",
      async () =>
        core.readNamespace({ name: "lab-doomed" }).then(
          () => false,
          (err: unknown) => (err as { code?: number }).code === 404,
        ),
      { timeoutMs: 60_000 },
    );
    expect(namespaces()).not.toContain(`${prefix}p3-2`);
  });

  it("reaches the apiserver from the node namespaces", async () => {
    const ca = readFileSync(join(lab.cp.dir, "ca.crt"), "utf8");
    for (const node of lab.nodes) {
      const res = await node.agent.httpGet(`${lab.cp.server}/readyz`, { ca, timeoutMs: 5_000 });
      expect(res).toMatchObject({ ok: true, status: 200, body: "ok" });
    }
  });

  it("tears everything down and is idempotent", async () => {
    const pids = [...lab.nodes, lab.client, lab.outsider].map((h) => h.agent.pid!);
    const labPids = lab.network.nodes.flatMap((n) =>
      execFileSync("ip", ["netns", "pids", n.ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean).map(Number),
    );
    expect(labPids.length).toBeGreaterThan(lab.nodes.length);
    const cpPids = lab.cp.processIds();
    const logDir = lab.logDir;
    await lab.teardown();
    await lab.teardown();
    expect(existsSync(logDir)).toBe(false);
    expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(rootLinks().filter((l) => l.startsWith(prefix))).toEqual([]);
    for (const pid of [...pids, ...cpPids, ...labPids]) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("lab parts that fail to start", () => {
  it.each([
    [
      "kube-proxy",
      { kubeProxyBinary: "/bin/false" },
      /kube-proxy \(\/bin\/false\) on node-1 exited before .*healthz answered 200; log \S+kube-proxy-node-1\.log/,
    ],
    [
      "kube-controller-manager",
      { controllerManagerBinary: "/bin/false" },
      /kube-controller-manager \(\/bin\/false\) exited before .*; log \S+kube-controller-manager\.log/,
    ],
  ] as const)(
    "%s: a clear error naming the binary and its log, and nothing left behind",
    async (_part, options, message) => {
      await expect(startLab({ nodes: 1, startSpeakers: false, ...options })).rejects.toThrow(message);
      expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
      expect(rootLinks().filter((l) => l.startsWith(prefix))).toEqual([]);
    },
  );
});

describe("sweepStaleLabs", () => {
  it("removes namespaces and root links of dead runs and leaves live ones", async () => {
    const dead = spawnSync("true").pid;
    const ns = `lbo${dead}-switch`;
    const link = `lbo${dead}-up`;
    const mine = `lbo${process.pid}-sweep`;
    try {
      execFileSync("ip", ["netns", "add", ns]);
      execFileSync("ip", ["netns", "add", mine]);
      execFileSync("ip", ["link", "add", link, "type", "veth", "peer", "name", "uplink", "netns", ns]);
      const logs = mkdtempSync(join(tmpdir(), `lbo${dead}-logs-`));
      const removed = await sweepStaleLabs();
      expect(removed).toEqual(expect.arrayContaining([ns, link, basename(logs)]));
      expect(existsSync(logs)).toBe(false);
      expect(removed).not.toContain(mine);
      expect(namespaces()).not.toContain(ns);
      expect(namespaces()).toContain(mine);
      expect(rootLinks()).not.toContain(link);
    } finally {
      for (const args of [
        ["link", "del", link],
        ["netns", "del", ns],
        ["netns", "del", mine],
      ])
        spawnSync("ip", args);
    }
  });
});
