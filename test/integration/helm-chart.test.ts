import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { apiService } from "../fixtures/api-services.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { ControllerProcess } from "../env/controller-process.js";
import { CHART, Helm, type HelmResult, KUBE_FLOOR, type Manifest, parseManifests } from "../env/helm.js";
import { eventually } from "../../testing/eventually.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const CI_VALUES = readdirSync(join(CHART, "ci"))
  .filter((f) => f.endsWith("-values.yaml"))
  .sort();
const RELEASE = `lbo${process.pid}`;
const NAMESPACE = `helm-${process.pid}`;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
type Labels = Record<string, string>;
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: Record<string, unknown>[];
  securityContext?: Record<string, unknown>;
}
interface PodTemplate {
  metadata: { labels: Labels; annotations?: Record<string, string> };
  spec: {
    serviceAccountName?: string;
    priorityClassName?: string;
    securityContext?: Record<string, unknown>;
    containers: Container[];
    topologySpreadConstraints?: Record<string, unknown>[];
  };
}
interface Workload extends Manifest {
  spec: { selector: { matchLabels: Labels }; template: PodTemplate };
}

let helmCli: Helm;

function helm(args: string[], kubeconfig?: string): Promise<HelmResult> {
  return helmCli.run(args, kubeconfig);
}

async function render(extraArgs: string[], release = RELEASE): Promise<Manifest[]> {
  const r = await helm([
    "template",
    release,
    CHART,
    "--namespace",
    NAMESPACE,
    "--kube-version",
    KUBE_FLOOR,
    ...extraArgs,
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return parseManifests(r.stdout);
}

function find(manifests: Manifest[], kind: string, name: string): Manifest | undefined {
  return manifests.find((m) => m.kind === kind && m.metadata.name === name);
}

/** The one object of a kind (Deployment, DaemonSet) as a workload, whatever its name. */
function workload(manifests: Manifest[], kind: string): Workload {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found.map((m) => m.kind)).toEqual([kind]);
  return found[0] as Workload;
}

/** kind/name of every rendered object, sorted. */
function objectNames(manifests: Manifest[]): string[] {
  return manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
}

/**
 * What a baremetal render with the ServiceMonitor on names its objects, given the fullname (the heartbeat Secret is
 * the chart's own: no speaker.heartbeatSecret).
 */
function namesFor(fullname: string): string[] {
  return [
    `ClusterRole/${fullname}`,
    `ClusterRole/${fullname}-speaker`,
    `ClusterRoleBinding/${fullname}`,
    `ClusterRoleBinding/${fullname}-speaker`,
    `DaemonSet/${fullname}-speaker`,
    `Deployment/${fullname}`,
    `PodDisruptionBudget/${fullname}`,
    `Role/${fullname}-leader-election`,
    `RoleBinding/${fullname}-leader-election`,
    `Secret/${fullname}-heartbeat`,
    `Service/${fullname}-metrics`,
    `ServiceAccount/${fullname}`,
    `ServiceAccount/${fullname}-speaker`,
    `ServiceMonitor/${fullname}`,
    `ValidatingAdmissionPolicy/${fullname}-privileged-annotations`,
    `ValidatingAdmissionPolicyBinding/${fullname}-privileged-annotations`,
  ].sort();
}

/** Every label selector the chart renders, by where it is. */
function selectors(manifests: Manifest[]): Record<string, unknown> {
  const one = (kind: string): Manifest => {
    const found = manifests.filter((m) => m.kind === kind);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const at = (kind: string, path: string): unknown =>
    path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], one(kind));
  return {
    deployment: at("Deployment", "spec.selector"),
    antiAffinity: at("Deployment", "spec.template.spec.affinity.podAntiAffinity"),
    daemonSet: at("DaemonSet", "spec.selector"),
    pdb: at("PodDisruptionBudget", "spec.selector"),
    metricsService: at("Service", "spec.selector"),
    serviceMonitor: at("ServiceMonitor", "spec.selector"),
  };
}

function controllerArgs(manifests: Manifest[]): string[] {
  const deployment = find(manifests, "Deployment", `${RELEASE}-lb-operator`) as
    { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
  return deployment?.spec.template.spec.containers[0]?.args ?? [];
}

// Every knob every chart takes, set at once (the offline render and the apiserver's dry run use the same file).
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const KNOBS = {
  nameOverride: "edge",
  fullnameOverride: "edge-lb",
  image: { repository: "registry.example.com/net/lb-operator", tag: "9.9.9", digest: DIGEST },
  priorityClassName: "lb-controller-critical",
  podAnnotations: { "example.com/scrape": "true", "example.com/on": "yes" },
  podLabels: { team: "network", "app.kubernetes.io/part-of": "edge" },
  extraArgs: ["--workers=9", "--drift-period=1m"],
  extraEnv: [
    { name: "HTTPS_PROXY", value: "http://proxy.example:3128" },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ],
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" },
    {
      maxSkew: 2,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: { tier: "lb" } },
    },
  ],
  speaker: {
    priorityClassName: "system-node-critical",
    podAnnotations: { "example.com/speaker": "on" },
    podLabels: { team: "network-dataplane" },
    extraArgs: ["--probe-interval=2s"],
    extraEnv: [{ name: "UV_THREADPOOL_SIZE", value: "8" }],
    seccompProfile: { type: "Localhost", localhostProfile: "profiles/lb-operator-speaker.json" },
  },
};

/** Writes KNOBS as a values file, quoted for YAML 1.1 ("yes", "on" stay strings for helm's parser). */
function writeKnobs(): string {
  const file = join(helmCli.home, "knobs-values.yaml");
  writeFileSync(file, stringify(KNOBS, { version: "1.1" }));
  return file;
}

beforeAll(async () => {
  helmCli = await Helm.start();
});
afterAll(() => helmCli?.dispose());

describe("helm chart, offline", () => {
  it("passes helm lint --strict with the default values and each ci/*-values.yaml", async () => {
    expect(CI_VALUES).toEqual(["aws-values.yaml", "baremetal-values.yaml", "gce-values.yaml"]);
    for (const args of [[], ...CI_VALUES.map((f) => ["--values", join(CHART, "ci", f)])]) {
      const r = await helm(["lint", "--strict", CHART, "--kube-version", KUBE_FLOOR, ...args]);
      expect(r.stdout, args.join(" ")).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(r.code).toBe(0);
    }
  });

  it("renders the controller with leader election, probes, two replicas and a PDB by default", async () => {
    const manifests = await render([]);
    const deployment = find(manifests, "Deployment", `${RELEASE}-lb-operator`) as
      { spec: { replicas: number } } | undefined;
    expect(deployment?.spec.replicas).toBe(2);
    expect(controllerArgs(manifests)).toEqual(
      expect.arrayContaining([
        "--provider=baremetal",
        "--load-balancer-class=lb-operator.io/baremetal",
        `--leader-election-namespace=${NAMESPACE}`,
        "--metrics-bind-address=0.0.0.0:8080",
        "--lease-duration=15s",
      ]),
    );
    expect(find(manifests, "PodDisruptionBudget", `${RELEASE}-lb-operator`)).toMatchObject({
      spec: { minAvailable: 1 },
    });
    expect(find(manifests, "DaemonSet", `${RELEASE}-lb-operator-speaker`)).toBeDefined();
    expect(manifests.some((m) => m.kind === "ServiceMonitor")).toBe(false);
  });

  it("renders each provider's flags, credentials and optional parts from its ci values", async () => {
    const aws = await render(["--values", join(CHART, "ci", "aws-values.yaml")]);
    expect(controllerArgs(aws)).toEqual(
      expect.arrayContaining(["--provider=aws", "--aws-region=eu-west-1", "--cluster-id=prod-eu"]),
    );
    expect(find(aws, "ServiceAccount", `${RELEASE}-lb-operator`)).toMatchObject({
      metadata: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/lb-operator" } },
    });
    expect(find(aws, "ServiceMonitor", `${RELEASE}-lb-operator`)).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
    });
    expect(aws.some((m) => m.kind === "DaemonSet")).toBe(false);

    const gce = await render(["--values", join(CHART, "ci", "gce-values.yaml")]);
    expect(controllerArgs(gce)).toEqual(
      expect.arrayContaining([
        "--provider=gce",
        "--gce-project=my-project",
        "--gce-region=us-central1",
        "--gce-network=prod",
        "--gce-subnetwork=prod-us-central1",
        "--gce-node-tags=gke-prod-node",
      ]),
    );
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
    [["--set", "podAnnotations=3"], "at '/podAnnotations': got number, want object"],
    [["--set", "extraArgs=x"], "at '/extraArgs': got string, want array"],
    [
      ["--set", "image.digest=latest"],
      "at '/image/digest': 'latest' does not match pattern '^(sha256:[a-f0-9]{64})?$'",
    ],
    [["--set", "priorityClassName=7"], "at '/priorityClassName': got number, want string"],
    [["--set", "speaker.extraEnv[0].value=x"], "at '/speaker/extraEnv/0': missing property 'name'"],
    [
      ["--set", "speaker.seccompProfile.type=Localhost"],
      "at '/speaker/seccompProfile': missing property 'localhostProfile'",
    ],
    [
      ["--set", "speaker.podLabels.app\\.kubernetes\\.io/component=x"],
      "at '/speaker/podLabels/app.kubernetes.io~1component': false schema",
    ],
    [["--set", "nameOverride=Edge"], "at '/nameOverride': 'Edge' does not match pattern"],
    [["--set", "speaker.priorityClass=x"], "at '/speaker': additional properties 'priorityClass' not allowed"],
  ])("rejects %j with a readable schema message", async (args, message) => {
    for (const command of ["template", "lint"]) {
      const common = ["--kube-version", KUBE_FLOOR, ...args];
      const r = await helm(
        command === "template" ? ["template", RELEASE, CHART, ...common] : ["lint", CHART, ...common],
      );
      expect(r.code, `${command} ${args.join(" ")}`).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain(message);
    }
  });

  it("requires Kubernetes 1.30 (the apiserver keeps ipMode only from 1.30): helm refuses 1.29 with the kubeVersion message", async () => {
    const chart = parse(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as { kubeVersion: string };
    expect(chart.kubeVersion).toBe(">=1.30.0-0");
    // helm prints the version as major.minor.patch.
    for (const [version, printed] of [
      ["1.29.0", "v1.29.0"],
      ["1.29.15", "v1.29.15"],
      ["v1.29.4-eks-a737599", "v1.29.4"],
    ] as const) {
      const r = await helm(["template", RELEASE, CHART, "--kube-version", version]);
      expect(r.code, version).not.toBe(0);
      expect(r.stderr).toContain(
        `Error: chart requires kubeVersion: >=1.30.0-0 which is incompatible with Kubernetes ${printed}\n`,
      );
      expect(r.stdout).toBe("");
    }
    // Providers' versions carry a pre-release-like suffix; the "-0" in the range admits them.
    for (const version of ["1.30.0", "v1.30.4-eks-a737599", "1.36.3"]) {
      const r = await helm(["template", RELEASE, CHART, "--kube-version", version]);
      expect(r.stderr, version).toBe("");
      expect(r.code, version).toBe(0);
      expect(parseAllDocuments(r.stdout).some((d) => (d.toJS() as Manifest | null)?.kind === "Deployment")).toBe(true);
    }
  });

  it("by default: the image by tag, RuntimeDefault seccomp for the controller pod and the speaker container, no priority class", async () => {
    const manifests = await render([]);
    const controller = workload(manifests, "Deployment").spec.template;
    const speaker = workload(manifests, "DaemonSet").spec.template;
    for (const pod of [controller, speaker]) {
      expect(pod.spec.containers[0]!.image).toBe("ghcr.io/lb-operator/lb-operator:0.1.0");
      expect(pod.spec.priorityClassName).toBeUndefined();
      expect(pod.metadata.annotations).toBeUndefined();
      expect(pod.spec.topologySpreadConstraints).toBeUndefined();
    }
    expect(controller.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(speaker.spec.containers[0]!.securityContext).toMatchObject({
      seccompProfile: { type: "RuntimeDefault" },
      capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] },
    });
    expect(speaker.spec.containers[0]!.env?.map((e) => e.name)).toEqual(["NODE_NAME", "NODE_IP"]);
    expect(controller.spec.containers[0]!.env).toBeUndefined();
  });

  it("passes lint --strict and renders every new knob at once, from a values file", async () => {
    const file = writeKnobs();
    const lint = await helm(["lint", "--strict", CHART, "--kube-version", KUBE_FLOOR, "--values", file]);
    expect(lint.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(lint.code).toBe(0);

    const manifests = await render(["--values", file, "--set", "metrics.serviceMonitor.enabled=true"]);
    // fullnameOverride wins over nameOverride.
    expect(objectNames(manifests)).toEqual(namesFor("edge-lb"));
    const image = `registry.example.com/net/lb-operator@${DIGEST}`;

    const deployment = workload(manifests, "Deployment");
    const controller = deployment.spec.template;
    expect(deployment.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "lb-operator",
      "app.kubernetes.io/instance": RELEASE,
      "app.kubernetes.io/component": "controller",
    });
    expect(controller.metadata.annotations).toEqual(KNOBS.podAnnotations);
    expect(controller.metadata.labels).toMatchObject({ ...KNOBS.podLabels, ...deployment.spec.selector.matchLabels });
    expect(controller.spec.priorityClassName).toBe("lb-controller-critical");
    const c = controller.spec.containers[0]!;
    expect(c.image).toBe(image);
    expect(c.args.slice(-2)).toEqual(KNOBS.extraArgs);
    expect(c.args).toContain(`--leader-election-id=${RELEASE}-lb-operator`);
    expect(c.env).toEqual(KNOBS.extraEnv);
    expect(controller.spec.topologySpreadConstraints).toEqual([
      { ...KNOBS.topologySpreadConstraints[0], labelSelector: { matchLabels: deployment.spec.selector.matchLabels } },
      KNOBS.topologySpreadConstraints[1],
    ]);
    expect(controller.spec.securityContext).toMatchObject({ seccompProfile: { type: "RuntimeDefault" } });

    const daemonSet = workload(manifests, "DaemonSet");
    const speaker = daemonSet.spec.template;
    expect(daemonSet.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "lb-operator",
      "app.kubernetes.io/instance": RELEASE,
      "app.kubernetes.io/component": "speaker",
    });
    expect(speaker.metadata.annotations).toEqual(KNOBS.speaker.podAnnotations);
    expect(speaker.metadata.labels).toMatchObject({
      ...KNOBS.speaker.podLabels,
      ...daemonSet.spec.selector.matchLabels,
    });
    expect(speaker.spec.priorityClassName).toBe("system-node-critical");
    expect(speaker.spec.serviceAccountName).toBe("edge-lb-speaker");
    const s = speaker.spec.containers[0]!;
    expect(s.image).toBe(image);
    expect(s.args.at(-1)).toBe("--probe-interval=2s");
    expect(s.env?.map((e) => e.name)).toEqual(["NODE_NAME", "NODE_IP", "UV_THREADPOOL_SIZE"]);
    expect(s.env?.at(-1)).toEqual(KNOBS.speaker.extraEnv[0]);
    expect(s.securityContext?.seccompProfile).toEqual(KNOBS.speaker.seccompProfile);
  });

  it("keeps the credentials file's variable next to extraEnv", async () => {
    const gce = await render([
      "--values",
      join(CHART, "ci", "gce-values.yaml"),
      "--set",
      "extraEnv[0].name=NO_PROXY,extraEnv[0].value=.internal",
    ]);
    expect(workload(gce, "Deployment").spec.template.spec.containers[0]!.env).toEqual([
      { name: "GOOGLE_APPLICATION_CREDENTIALS", value: "/var/run/secrets/lb-operator/credentials/key.json" },
      { name: "NO_PROXY", value: ".internal" },
    ]);
  });

  it("names objects by nameOverride and fullnameOverride, within 63 characters, and keeps a release's existing names", async () => {
    const monitor = ["--set", "metrics.serviceMonitor.enabled=true"];
    expect(objectNames(await render(monitor))).toEqual(namesFor(`${RELEASE}-lb-operator`));
    expect(objectNames(await render([...monitor, "--set", "nameOverride=edge"]))).toEqual(namesFor(`${RELEASE}-edge`));
    expect(objectNames(await render([...monitor, "--set", "fullnameOverride=edge-lb"]))).toEqual(namesFor("edge-lb"));
    // Unlike helm create's helper, a release name holding the chart's name is not shortened: upgrading the README's
    // `helm install lb-operator` renames nothing.
    expect(objectNames(await render(monitor, "lb-operator"))).toEqual(namesFor("lb-operator-lb-operator"));

    // Cut to 63 characters, then a trailing "-" dropped; suffixed names cut the fullname so they fit too.
    const long = await render([...monitor, "--set", `fullnameOverride=${"a".repeat(62)}-tail`]);
    expect(workload(long, "Deployment").metadata.name).toBe("a".repeat(62));
    expect(workload(long, "DaemonSet").metadata.name).toBe(`${"a".repeat(55)}-speaker`);
    expect(find(long, "Service", `${"a".repeat(55)}-metrics`)).toBeDefined();
    expect(find(long, "Role", `${"a".repeat(47)}-leader-election`)).toBeDefined();
    for (const m of long)
      expect(m.metadata.name, `${m.kind}/${m.metadata.name}`).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const longName = await render(["--set", `nameOverride=${"b".repeat(70)}`]);
    expect(workload(longName, "Deployment").metadata.name).toBe(`${RELEASE}-${"b".repeat(70)}`.slice(0, 63));
    // The Lease is named after the release alone, so renaming the objects never splits the leadership.
    for (const m of [long, longName]) {
      expect(workload(m, "Deployment").spec.template.spec.containers[0]!.args).toContain(
        `--leader-election-id=${RELEASE}-lb-operator`,
      );
    }
  });

  it("keeps every selector whatever nameOverride, fullnameOverride and podLabels say", async () => {
    const monitor = ["--set", "metrics.serviceMonitor.enabled=true"];
    const base = await render(monitor);
    const expected = selectors(base);
    const controller = {
      "app.kubernetes.io/name": "lb-operator",
      "app.kubernetes.io/instance": RELEASE,
      "app.kubernetes.io/component": "controller",
    };
    expect(expected).toMatchObject({
      deployment: { matchLabels: controller },
      daemonSet: { matchLabels: { ...controller, "app.kubernetes.io/component": "speaker" } },
      pdb: { matchLabels: controller },
      metricsService: controller,
      serviceMonitor: { matchLabels: controller },
    });
    for (const args of [
      ["--set", "nameOverride=edge"],
      ["--set", "fullnameOverride=edge-lb"],
      [
        "--set",
        "podLabels.team=network,speaker.podLabels.team=dataplane,podLabels.app\\.kubernetes\\.io/version=custom",
      ],
      // The schema refuses selector keys in podLabels; past it (--skip-schema-validation) the chart's still win.
      [
        "--skip-schema-validation",
        "--set",
        "podLabels.app\\.kubernetes\\.io/component=x,speaker.podLabels.app\\.kubernetes\\.io/instance=y",
      ],
    ]) {
      const manifests = await render([...monitor, ...args]);
      expect(selectors(manifests), args.join(" ")).toEqual(expected);
      // Each workload's pods still carry its selector's labels.
      for (const kind of ["Deployment", "DaemonSet"]) {
        const w = workload(manifests, kind);
        expect(w.spec.template.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
      }
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
    const poolRules: Rule[] = [
      { apiGroups: ["lb-operator.io"], resources: ["addresspools"], verbs: ["list", "watch"] },
      { apiGroups: ["lb-operator.io"], resources: ["addresspools/status"], verbs: ["patch"] },
      { apiGroups: [""], resources: ["namespaces"], verbs: ["list", "watch"] },
    ];
    expect(rules(baremetal, "ClusterRole", `${RELEASE}-lb-operator`)).toEqual([...controllerRules, ...poolRules]);
    expect(rules(baremetal, "Role", `${RELEASE}-lb-operator-leader-election`)).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
    ]);
    expect(rules(baremetal, "ClusterRole", `${RELEASE}-lb-operator-speaker`)).toEqual([
      { apiGroups: [""], resources: ["services", "nodes"], verbs: ["list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      { apiGroups: ["lb-operator.io"], resources: ["addresspools"], verbs: ["list", "watch"] },
    ]);
    expect(
      baremetal
        .filter((m) => m.kind === "ClusterRole" || m.kind === "Role")
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual([`${RELEASE}-lb-operator`, `${RELEASE}-lb-operator-leader-election`, `${RELEASE}-lb-operator-speaker`]);
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
  // The release's values, for install and upgrade; no speaker.heartbeatSecret, so the chart makes the Secret.
  const releaseArgs = [
    "--namespace",
    namespace,
    "--set",
    "image.pullPolicy=Never",
    "--values",
    join(CHART, "ci", "baremetal-values.yaml"),
    "--set",
    "speaker.heartbeatSecret=",
  ];

  beforeAll(async () => {
    cp = await startControlPlane();
    // No kubelet or controller-manager here: no pod is ever created, so no image is pulled.
    install = await helm(["install", RELEASE, CHART, "--create-namespace", ...releaseArgs], cp.kubeconfigPath);
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
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
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
      ...names("Secret", await core.listNamespacedSecret({ namespace, ...selector })),
      ...names("ValidatingAdmissionPolicy", await admission.listValidatingAdmissionPolicy(selector)),
      ...names("ValidatingAdmissionPolicyBinding", await admission.listValidatingAdmissionPolicyBinding(selector)),
    ].sort();
  }

  it("installs every chart object and prints how to see the first Service's address", async () => {
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    expect(install.stdout).toContain("kubectl get svc -o wide");
    expect(install.stdout).toContain(
      "(for baremetal: named pools, requested addresses, cross-namespace sharing) are refused outside the namespaces\nlisted under admissionPolicy.allow",
    );
    expect(await present()).toEqual([
      `ClusterRole/${name}`,
      `ClusterRole/${name}-speaker`,
      `ClusterRoleBinding/${name}`,
      `ClusterRoleBinding/${name}-speaker`,
      `DaemonSet/${name}-speaker`,
      `Deployment/${name}`,
      `PodDisruptionBudget/${name}`,
      `Role/${name}-leader-election`,
      `RoleBinding/${name}-leader-election`,
      `Secret/${name}-heartbeat`,
      `ServiceAccount/${name}`,
      `ServiceAccount/${name}-speaker`,
      `ValidatingAdmissionPolicy/${name}-privileged-annotations`,
      `ValidatingAdmissionPolicyBinding/${name}-privileged-annotations`,
    ]);
    const crd = await cp
      .kubeConfig()
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: "addresspools.lb-operator.io" });
    expect(crd.spec.group).toBe("lb-operator.io");
  });

  it("runs the controller with the chart's args as its ServiceAccount: the RBAC suffices and is not excessive", async () => {
    const admin = cp.kubeConfig();
    const kube = new KubeTestClient(admin);
    // A bound token from the TokenRequest API, as the kubelet would mount it: the chart's RBAC and nothing else.
    const request = await kube.core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token ?? "";
    expect(token).not.toBe("");
    const saKubeconfig = cp.writeKubeconfig(token, `chart-sa-${process.pid}`);

    const deployment = await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace });
    const args = deployment.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args[0]).toBe("run");
    // ControllerProcess appends its own --metrics-bind-address, which wins over the chart's (last one counts).
    controller = await ControllerProcess.start(
      [...args.slice(1), "--kubeconfig", saKubeconfig],
      cp.dir,
      `chart-sa-${process.pid}`,
    );

    await kube.core.createNamespacedService({
      namespace,
      body: apiService(namespace, "first", "lb-operator.io/baremetal"),
    });
    const ip = await eventually(
      "the Service's address",
      async () => (await kube.service(namespace, "first"))?.status?.loadBalancer?.ingress?.[0]?.ip,
    );
    expect(ip).toMatch(/^192\.0\.2\.(1[01][0-9]|120)$/);
    const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace });
    expect(lease.spec?.holderIdentity).toBeTruthy();

    const sa = cp.kubeConfig(token);
    const saCore = sa.makeApiClient(CoreV1Api);
    const forbidden = { code: 403 };
    await expect(saCore.readNamespacedSecret({ name: "anything", namespace: "kube-system" })).rejects.toMatchObject(
      forbidden,
    );
    await expect(saCore.listSecretForAllNamespaces()).rejects.toMatchObject(forbidden);
    await expect(saCore.listNamespacedSecret({ namespace })).rejects.toMatchObject(forbidden);
    await expect(saCore.deleteNamespacedService({ name: "first", namespace })).rejects.toMatchObject(forbidden);
    await expect(
      sa.makeApiClient(CoordinationV1Api).createNamespacedLease({
        namespace: "default",
        body: { metadata: { name: "intruder" }, spec: {} },
      }),
    ).rejects.toMatchObject(forbidden);

    // Deleting the Service needs the controller to release its address and remove its finalizer, also under RBAC.
    await kube.core.deleteNamespacedService({ name: "first", namespace });
    await eventually("the Service to be gone", async () => (await kube.service(namespace, "first")) === undefined);
    await controller.stop();
    controller = undefined;
  });

  it("keeps the generated heartbeat key across helm upgrade, and the speaker reads it from the Secret", async () => {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const secretName = `${name}-heartbeat`;
    const keyOf = async (): Promise<string> =>
      (await core.readNamespacedSecret({ name: secretName, namespace })).data?.["key"] ?? "";
    const before = await keyOf();
    expect(Buffer.from(before, "base64")).toHaveLength(32);

    const upgrade = await helm(["upgrade", RELEASE, CHART, ...releaseArgs], cp.kubeconfigPath);
    expect(upgrade.stderr).toBe("");
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain("REVISION: 2");
    expect(await keyOf()).toBe(before);

    const pod = (await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: `${name}-speaker`, namespace })).spec
      ?.template.spec;
    expect(pod?.containers[0]?.args).toContain("--heartbeat-secret-file=/etc/lb-operator/heartbeat/key");
    expect(pod?.containers[0]?.volumeMounts).toEqual([
      { name: "heartbeat", mountPath: "/etc/lb-operator/heartbeat", readOnly: true },
    ]);
    expect(pod?.volumes).toMatchObject([{ name: "heartbeat", secret: { secretName } }]);
  });

  it("the apiserver takes every knob: a second release with all of them installs, keeps them, and uninstalls", async () => {
    const release = `${RELEASE}k`;
    const r = await helm(
      ["install", release, CHART, "--namespace", namespace, "--values", writeKnobs()],
      cp.kubeconfigPath,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const apps = cp.kubeConfig().makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: "edge-lb", namespace });
    const pod = deployment.spec?.template;
    expect(pod?.spec?.priorityClassName).toBe(KNOBS.priorityClassName);
    expect(pod?.metadata?.annotations).toEqual(KNOBS.podAnnotations);
    expect(pod?.spec?.topologySpreadConstraints?.map((c) => c.topologyKey)).toEqual([
      "topology.kubernetes.io/zone",
      "kubernetes.io/hostname",
    ]);
    expect(pod?.spec?.containers[0]?.image).toBe(`${KNOBS.image.repository}@${DIGEST}`);
    const daemonSet = await apps.readNamespacedDaemonSet({ name: "edge-lb-speaker", namespace });
    expect(daemonSet.spec?.template.spec?.containers[0]?.securityContext?.seccompProfile).toEqual(
      KNOBS.speaker.seccompProfile,
    );
    expect(daemonSet.spec?.template.spec?.priorityClassName).toBe("system-node-critical");
    const uninstall = await helm(["uninstall", release, "--namespace", namespace, "--wait"], cp.kubeconfigPath);
    expect(uninstall.code, uninstall.stderr).toBe(0);
  });

  it("helm uninstall leaves no chart object behind (the CRD stays, as Helm documents for crds/)", async () => {
    const uninstall = await helm(["uninstall", RELEASE, "--namespace", namespace, "--wait"], cp.kubeconfigPath);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(await present()).toEqual([]);
    // Helm keeps its release records in Secrets of the release namespace; uninstall removes those too.
    const records = await cp
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace, labelSelector: `owner=helm,name=${RELEASE}` });
    expect(records.items).toEqual([]);
  });
});
