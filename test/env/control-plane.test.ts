import { existsSync } from "node:fs";
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Service,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "./control-plane.js";

const namespace = "cp-harness";
const viewerToken = "no-rights-token";

function lbService(name: string): V1Service {
  return {
    metadata: { name, namespace },
    spec: {
      type: "LoadBalancer",
      selector: { app: name },
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("control plane harness", () => {
  let cp: ControlPlane;
  let core: CoreV1Api;

  beforeAll(async () => {
    cp = await startControlPlane({
      serviceNodePortRange: "31000-31999",
      extraTokens: [{ token: viewerToken, user: "nobody", uid: "nobody-uid", groups: [] }],
    });
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it("verifies TLS against the generated CA and authorizes with RBAC", async () => {
    const cluster = cp.kubeConfig().getCurrentCluster();
    expect(cluster?.skipTLSVerify).toBeFalsy();
    expect(cluster?.caData).toBeTruthy();

    const stranger = cp.kubeConfig(viewerToken).makeApiClient(CoreV1Api);
    const err: unknown = await stranger.listNamespace().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect(err).toMatchObject({ code: 403 });
  });

  it("creates and reads a Namespace and a LoadBalancer Service", async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    expect((await core.readNamespace({ name: namespace })).metadata?.name).toBe(namespace);

    await core.createNamespacedService({ namespace, body: lbService("web") });
    const svc = await core.readNamespacedService({ name: "web", namespace });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\./);
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    expect(nodePort).toBeGreaterThanOrEqual(31000);
    expect(nodePort).toBeLessThanOrEqual(31999);
  });

  it("round-trips status.loadBalancer.ingress[].ipMode through the status subresource", async () => {
    await core.patchNamespacedServiceStatus(
      {
        name: "web",
        namespace,
        body: { status: { loadBalancer: { ingress: [{ ip: "192.0.2.10", ipMode: "Proxy" }] } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const svc = await core.readNamespacedService({ name: "web", namespace });
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: "192.0.2.10", ipMode: "Proxy" }]);
  });

  it("restarts the apiserver on the same port over the same etcd; an extra apiserver serves meanwhile", async () => {
    await cp.stopApiServer();
    await expect(core.readNamespacedService({ name: "web", namespace })).rejects.toThrow();

    const extra = await cp.startExtraApiServer();
    expect(extra.server).not.toBe(cp.server);
    const kc = new KubeConfig();
    kc.loadFromFile(extra.kubeconfigPath);
    await kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace, body: lbService("made-while-down") });
    await extra.stop();

    await cp.startApiServer();
    const names = (await core.listNamespacedService({ namespace })).items.map((s) => s.metadata?.name).sort();
    expect(names).toEqual(["made-while-down", "web"]);
    const web = await core.readNamespacedService({ name: "web", namespace });
    expect(web.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe("Proxy");
  });

  it("stop() kills every process and removes the directory, and is idempotent", async () => {
    const pids = cp.processIds();
    expect(pids.length).toBe(2); // etcd + the restarted apiserver; the extra one already stopped
    await cp.stop();
    await cp.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(cp.processIds()).toEqual([]);
    expect(existsSync(cp.dir)).toBe(false);
  });
});
