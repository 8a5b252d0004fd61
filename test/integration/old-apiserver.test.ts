/**
 * The controller against a real kube-apiserver v1.29, which does not keep `status.loadBalancer.ingress[].ipMode`
 * (LoadBalancerIPMode is alpha and off there; on by default from 1.30, which is why the chart requires 1.30). The
 * bare-metal controller writes ipMode Proxy; the server stores the status without it. The controller must write it
 * once, say so once (a Warning event), and never patch it again, drift repair included. Every status patch the
 * server receives is counted from its own audit log.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../../testing/eventually.js";

const OLD_KUBERNETES = "v1.29.15";
const CLASS = "lb-operator.io/baremetal";
const DRIFT_PERIOD = "1s";

let cp: ControlPlane;
let controller: ControllerProcess | undefined;
let auditLog: string;
let policy: string;

beforeAll(async () => {
  policy = join(tmpdir(), `audit-policy-${process.pid}.yaml`);
  writeFileSync(
    policy,
    JSON.stringify({
      apiVersion: "audit.k8s.io/v1",
      kind: "Policy",
      rules: [
        { level: "Metadata", verbs: ["patch", "update"], resources: [{ group: "", resources: ["services/status"] }] },
        { level: "None" },
      ],
    }),
  );
  auditLog = join(tmpdir(), `audit-${process.pid}.log`);
  cp = await startControlPlane({
    kubernetesVersion: OLD_KUBERNETES,
    extraApiServerArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, "--audit-log-mode=blocking"],
  });
  controller = await ControllerProcess.start(
    [
      "--provider",
      "baremetal",
      "--address-pool",
      "old=203.0.113.64/28",
      "--no-leader-elect",
      "--kubeconfig",
      cp.kubeconfigPath,
      "--drift-period",
      DRIFT_PERIOD,
    ],
    cp.dir,
    "controller-on-1.29",
  );
}, 900_000);

afterAll(async () => {
  await controller?.stop("SIGKILL");
  await cp?.stop();
  for (const file of [policy, auditLog]) rmSync(file, { force: true });
});

/** Status writes to default/<name> as the apiserver logged them. */
function statusWrites(name: string): number {
  let text: string;
  try {
    text = readFileSync(auditLog, "utf8");
  } catch {
    return 0;
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stage?: string; objectRef?: { name?: string; subresource?: string } })
    .filter((e) => e.stage === "ResponseComplete" && e.objectRef?.name === name && e.objectRef.subresource === "status")
    .length;
}

describe(`the controller against kube-apiserver ${OLD_KUBERNETES}, which drops ipMode`, () => {
  it("writes the status once, warns once, and does not re-patch on later syncs and drift repairs", async () => {
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedService({
      namespace: "default",
      body: {
        metadata: { name: "web" },
        spec: {
          type: "LoadBalancer",
          loadBalancerClass: CLASS,
          ports: [{ port: 80, targetPort: 8080 }],
          selector: { app: "web" },
        },
      },
    });
    const ingress = await eventually(
      "an address",
      async () => {
        const svc = await core.readNamespacedService({ namespace: "default", name: "web" });
        return svc.status?.loadBalancer?.ingress?.[0];
      },
      { timeoutMs: 30_000 },
    );
    // The server kept the address and dropped what it does not know.
    expect(ingress.ip).toMatch(/^203\.0\.113\./);
    expect(ingress.ipMode).toBeUndefined();

    // Several drift repairs (every 1 s) later.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(statusWrites("web")).toBe(1);
    const events = await core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=web" });
    const dropped = events.items.filter((e) => e.reason === "LoadBalancerStatusFieldsDropped");
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.type).toBe("Warning");
    expect(dropped[0]?.message).toContain("ingress[].ipMode");
    expect(dropped[0]?.count ?? 1).toBe(1);
  });
});
