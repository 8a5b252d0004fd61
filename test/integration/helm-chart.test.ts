import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ApiextensionsV1Api, AppsV1Api, CoordinationV1Api, CoreV1Api, PolicyV1Api, RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { apiService } from "../fixtures/api-services.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { KubeTestClient } from "../env/controller-harness.js";
import { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../env/eventually.js";
import { printsExistingPath, runInstallScript } from "../env/managed-process.js";


const CHART = fileURLToPath(new URL("../../charts/lb-operator", import.meta.url));
const CI_VALUES = readdirSync(join(CHART, "ci")).filter((f) => f.endsWith("-values.yaml")).sort();
const RELEASE = `lbo${process.pid}`;
const NAMESPACE = `helm-${process.pid}`;

interface HelmResult { code: number; stdout: string; stderr: string }
interface Manifest { kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown }
interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }

/** Runs scripts/install-helm.sh (builds helm from the Go module proxy on first use) and returns the binary. */
const resolveHelm = (): Promise<string> => runInstallScript("install-helm.sh", printsExistingPath);

let helmBin = "";
// helm's cache, config and data dirs live in a temp dir, so runs never touch ~/.config/helm or each other.
const helmHome = mkdtempSync(join(tmpdir(), "lb-operator-helm-"));

function helm(args: string[], kubeconfig?: string): Promise<HelmResult> {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, "cache"),
    HELM_CONFIG_HOME: join(helmHome, "config"),
    HELM_DATA_HOME: join(helmHome, "data"),
    ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }),
  };
  return new Promise((resolve) => {
    execFile(helmBin, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function render(extraArgs: string[]): Promise<Manifest[]> {
  const r = await helm(["template", RELEASE, CHART, "--namespace", NAMESPACE, ...extraArgs]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
}

function find(manifests: Manifest[], kind: string, name: string): Manifest | undefined {
  return manifests.find((m) => m.kind === kind && m.metadata.name === name);
}

function controllerArgs(manifests: Manifest[]): string[] {
  const deployment = find(manifests, "Deployment", `${RELEASE}-lb-operator`) as
    { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
  return deployment?.spec.template.spec.containers[0]?.args ?? [];
}

beforeAll(async () => {
  helmBin = await resolveHelm();
});
afterAll(() => rmSync(helmHome, { recursive: true, force: true }));

describe("helm chart, offline", () => {
  it("passes helm lint --strict with the default values and each ci/*-values.yaml", async () => {
    expect(CI_VALUES).toEqual(["aws-values.yaml", "baremetal-values.yaml", "gce-values.yaml"]);
    for (const args of [[], ...CI_VALUES.map((f) => ["--values", join(CHART, "ci", f)])]) {
      const r = await helm(["lint", "--strict", CHART, ...args]);
      expect(r.stdout, args.join(" ")).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(r.code).toBe(0);
    }
  });

  it("renders the controller with leader election, probes, two replicas and a PDB by default", async () => {
    const manifests = await render([]);
    const deployment = find(manifests, "Deployment", `${RELEASE}-lb-operator`) as { spec: { replicas: number } } | undefined;
    expect(deployment?.spec.replicas).toBe(2);
    expect(controllerArgs(manifests)).toEqual(expect.arrayContaining([
      "--provider=baremetal", "--load-balancer-class=lb-operator.io/baremetal", `--leader-election-namespace=${NAMESPACE}`,
      "--metrics-bind-address=0.0.0.0:8080", "--lease-duration=15s",
    ]));
    expect(find(manifests, "PodDisruptionBudget", `${RELEASE}-lb-operator`)).toMatchObject({ spec: { minAvailable: 1 } });
    expect(find(manifests, "DaemonSet", `${RELEASE}-lb-operator-speaker`)).toBeDefined();
    expect(manifests.some((m) => m.kind === "ServiceMonitor")).toBe(false);
  });

  it("renders each provider's flags, credentials and optional parts from its ci values", async () => {
    const aws = await render(["--values", join(CHART, "ci", "aws-values.yaml")]);
    expect(controllerArgs(aws)).toEqual(expect.arrayContaining(["--provider=aws", "--aws-region=eu-west-1", "--cluster-id=prod-eu"]));
    expect(find(aws, "ServiceAccount", `${RELEASE}-lb-operator`)).toMatchObject({
      metadata: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/lb-operator" } },
    });
    expect(find(aws, "ServiceMonitor", `${RELEASE}-lb-operator`)).toMatchObject({ apiVersion: "monitoring.coreos.com/v1" });
    expect(aws.some((m) => m.kind === "DaemonSet")).toBe(false);

    const gce = await render(["--values", join(CHART, "ci", "gce-values.yaml")]);
    expect(controllerArgs(gce)).toEqual(expect.arrayContaining([
      "--provider=gce", "--gce-project=my-project", "--gce-region=us-central1", "--gce-network=prod",
      "--gce-subnetwork=prod-us-central1", "--gce-node-tags=gke-prod-node",
    ]));
    expect(JSON.stringify(find(gce, "Deployment", `${RELEASE}-lb-operator`))).toContain(
      '{"name":"GOOGLE_APPLICATION_CREDENTIALS","value":"/var/run/secrets/lb-operator/credentials/key.json"}',
    );
    // One replica: a minAvailable 1 budget would block every drain, so none is rendered.
    expect(gce.some((m) => m.kind === "PodDisruptionBudget" || m.kind === "DaemonSet")).toBe(false);
  });

  it.each([
    [["--set", "provider=nope"], "at '/provider': value must be one of 'baremetal', 'aws', 'gce'"],
    [["--set", "replicas=-1"], "at '/replicas': minimum: got -1, want 0"],
    [["--set", "driftPeriod=ten minutes"], "at '/driftPeriod'"],
    [["--set", "provider=gce"], "at '/gce/region': minLength: got 0, want 1"],
  ])("rejects %j with a readable schema message", async (args, message) => {
    for (const command of ["template", "lint"]) {
      const r = await helm(command === "template" ? ["template", RELEASE, CHART, ...args] : ["lint", CHART, ...args]);
      expect(r.code, `${command} ${args.join(" ")}`).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain(message);
    }
  });

  it("grants bare metal exactly the verbs the code uses, and AddressPools to bare metal only", async () => {
    const rules = (manifests: Manifest[], kind: string, name: string): Rule[] =>
      (find(manifests, kind, name) as { rules?: Rule[] } | undefined)?.rules ?? [];
    const baremetal = await render(["--values", join(CHART, "ci", "baremetal-values.yaml")]);
    const controllerRules: Rule[] = [
      { apiGroups: [""], resources: ["services"], verbs: ["list", "watch", "patch"] },
      { apiGroups: [""], resources: ["services/status"], verbs: ["patch"] },
      { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    ];
    const poolRule: Rule = { apiGroups: ["lb-operator.io"], resources: ["addresspools"], verbs: ["list", "watch"] };
    expect(rules(baremetal, "ClusterRole", `${RELEASE}-lb-operator`)).toEqual([...controllerRules, poolRule]);
    expect(rules(baremetal, "Role", `${RELEASE}-lb-operator-leader-election`)).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
    ]);
    expect(rules(baremetal, "ClusterRole", `${RELEASE}-lb-operator-speaker`)).toEqual([
      { apiGroups: [""], resources: ["services", "nodes"], verbs: ["list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    ]);
    expect(baremetal.filter((m) => m.kind === "ClusterRole" || m.kind === "Role").map((m) => m.metadata.name).sort()).toEqual([
      `${RELEASE}-lb-operator`, `${RELEASE}-lb-operator-leader-election`, `${RELEASE}-lb-operator-speaker`,
    ]);
    const aws = await render(["--values", join(CHART, "ci", "aws-values.yaml")]);
    expect(rules(aws, "ClusterRole", `${RELEASE}-lb-operator`)).toEqual(controllerRules);
  });
});

describe("helm chart on the test control plane", () => {
  const name = `${RELEASE}-lb-operator`;
  const namespace = NAMESPACE;
  let cp: ControlPlane;
  let controller: ControllerProcess | undefined;
  let install: HelmResult;

  beforeAll(async () => {
    cp = await startControlPlane();
    // No kubelet or controller-manager here: no pod is ever created, so no image is pulled.
    install = await helm([
      "install", RELEASE, CHART, "--namespace", namespace, "--create-namespace", "--set", "image.pullPolicy=Never",
      "--values", join(CHART, "ci", "baremetal-values.yaml"), "--set", "speaker.heartbeatSecret=",
    ], cp.kubeconfigPath);
  });
  afterAll(async () => {
    await controller?.stop("SIGKILL");
    await cp?.stop();
  });

  /** Every namespaced and cluster-scoped object of the release's kinds, found by the chart's instance label. */
  async function present(): Promise<string[]> {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    const selector = { labelSelector: `app.kubernetes.io/instance=${RELEASE}` };
    const names = (kind: string, list: { items: { metadata?: { name?: string } }[] }): string[] =>
      list.items.map((o) => `${kind}/${o.metadata?.name ?? ""}`);
    return [
      ...names("Deployment", await apps.listNamespacedDeployment({ namespace, ...selector })),
      ...names("DaemonSet", await apps.listNamespacedDaemonSet({ namespace, ...selector })),
      ...names("ServiceAccount", await core.listNamespacedServiceAccount({ namespace, ...selector })),
      ...names("ClusterRole", await rbac.listClusterRole(selector)),
      ...names("ClusterRoleBinding", await rbac.listClusterRoleBinding(selector)),
      ...names("Role", await rbac.listNamespacedRole({ namespace, ...selector })),
      ...names("RoleBinding", await rbac.listNamespacedRoleBinding({ namespace, ...selector })),
      ...names("PodDisruptionBudget", await policy.listNamespacedPodDisruptionBudget({ namespace, ...selector })),
    ].sort();
  }

  it("installs every chart object and prints how to see the first Service's address", async () => {
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    expect(install.stdout).toContain("kubectl get svc -o wide");
    expect(await present()).toEqual([
      `ClusterRole/${name}`, `ClusterRole/${name}-speaker`, `ClusterRoleBinding/${name}`, `ClusterRoleBinding/${name}-speaker`,
      `DaemonSet/${name}-speaker`, `Deployment/${name}`, `PodDisruptionBudget/${name}`,
      `Role/${name}-leader-election`, `RoleBinding/${name}-leader-election`,
      `ServiceAccount/${name}`, `ServiceAccount/${name}-speaker`,
    ]);
    const crd = await cp.kubeConfig().makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: "addresspools.lb-operator.io" });
    expect(crd.spec.group).toBe("lb-operator.io");
  });

  it("runs the controller with the chart's args as its ServiceAccount: the RBAC suffices and is not excessive", async () => {
    const admin = cp.kubeConfig();
    const kube = new KubeTestClient(admin);
    // A bound token from the TokenRequest API, as the kubelet would mount it: the chart's RBAC and nothing else.
    const request = await kube.core.createNamespacedServiceAccountToken({
      name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token ?? "";
    expect(token).not.toBe("");
    const saKubeconfig = cp.writeKubeconfig(token, `chart-sa-${process.pid}`);

    const deployment = await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
    const args = deployment.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args[0]).toBe("run");
    // ControllerProcess appends its own --metrics-bind-address, which wins over the chart's (last one counts).
    controller = await ControllerProcess.start([...args.slice(1), "--kubeconfig", saKubeconfig], cp.dir, `chart-sa-${process.pid}`);

    await kube.core.createNamespacedService({ namespace, body: apiService(namespace, "first", "lb-operator.io/baremetal") });
    const ip = await eventually("the Service's address", async () => (await kube.service(namespace, "first"))?.status?.loadBalancer?.ingress?.[0]?.ip);
    expect(ip).toMatch(/^192\.0\.2\.(1[01][0-9]|120)$/);
    const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace });
    expect(lease.spec?.holderIdentity).toBeTruthy();

    const sa = cp.kubeConfig(token);
    const saCore = sa.makeApiClient(CoreV1Api);
    const forbidden = { code: 403 };
    await expect(saCore.readNamespacedSecret({ name: "anything", namespace: "kube-system" })).rejects.toMatchObject(forbidden);
    await expect(saCore.listSecretForAllNamespaces()).rejects.toMatchObject(forbidden);
    await expect(saCore.listNamespacedSecret({ namespace })).rejects.toMatchObject(forbidden);
    await expect(saCore.deleteNamespacedService({ name: "first", namespace })).rejects.toMatchObject(forbidden);
    await expect(sa.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace: "default", body: { metadata: { name: "intruder" }, spec: {} },
    })).rejects.toMatchObject(forbidden);

    // Deleting the Service needs the controller to release its address and remove its finalizer, also under RBAC.
    await kube.core.deleteNamespacedService({ name: "first", namespace });
    await eventually("the Service to be gone", async () => (await kube.service(namespace, "first")) === undefined);
    await controller.stop();
    controller = undefined;
  });

  it("helm uninstall leaves no chart object behind (the CRD stays, as Helm documents for crds/)", async () => {
    const uninstall = await helm(["uninstall", RELEASE, "--namespace", namespace, "--wait"], cp.kubeconfigPath);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(await present()).toEqual([]);
    // Helm keeps its release records in Secrets of the release namespace; uninstall removes those too.
    const records = await cp.kubeConfig().makeApiClient(CoreV1Api).listNamespacedSecret({ namespace, labelSelector: `owner=helm,name=${RELEASE}` });
    expect(records.items).toEqual([]);
  });
});
