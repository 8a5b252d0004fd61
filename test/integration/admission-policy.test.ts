/**
 * The chart's ValidatingAdmissionPolicy (templates/admission-policy.yaml), rendered by `helm template` and enforced
 * by the real kube-apiserver: every privileged annotation is refused outside the allowed namespaces with a message
 * naming it and the values key that allows it, and allowed inside them; harmless Services pass.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Service,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { apiService } from "../fixtures/api-services.js";
import { type ServiceTweak, tweakAnnotation } from "../fixtures/services.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { Helm, type Manifest, parseManifests } from "../env/helm.js";
import { eventually } from "../../testing/eventually.js";

const PROVIDERS = ["aws", "gce", "baremetal"] as const;
type Provider = (typeof PROVIDERS)[number];
/** A privileged setting: the key the message must name (an annotation or spec.loadBalancerIP) and its value. */
interface Privileged {
  readonly provider: Provider;
  readonly key: string;
  readonly value: string;
  readonly allow: (typeof ALLOW_KEYS)[number];
}
const ALLOW_KEYS = [
  "securityGroups",
  "eipAllocations",
  "internetFacing",
  "allowAllSources",
  "globalAccess",
  "addressPool",
  "requestedAddresses",
  "sharedAddresses",
] as const;
const DENIED = `vap-denied-${process.pid}`;
const ALLOWED = `vap-allowed-${process.pid}`;
const AWS = "service.beta.kubernetes.io/aws-load-balancer-";
const GLOBAL_ACCESS = "networking.gke.io/internal-load-balancer-allow-global-access";
const LB_IP = "spec.loadBalancerIP";

const PRIVILEGED: readonly Privileged[] = [
  { provider: "aws", key: `${AWS}security-groups`, value: "sg-0123456789abcdef0", allow: "securityGroups" },
  { provider: "aws", key: `${AWS}extra-security-groups`, value: "sg-1", allow: "securityGroups" },
  { provider: "aws", key: `${AWS}eip-allocations`, value: "eipalloc-0a1b", allow: "eipAllocations" },
  { provider: "aws", key: `${AWS}internal`, value: "false", allow: "internetFacing" },
  // Go's ParseBool forms, trimmed as the provider reads them.
  { provider: "aws", key: `${AWS}internal`, value: " F ", allow: "internetFacing" },
  { provider: "aws", key: `${AWS}scheme`, value: "internet-facing", allow: "internetFacing" },
  { provider: "gce", key: "lb-operator.io/gce-allow-all-sources", value: "true", allow: "allowAllSources" },
  { provider: "gce", key: GLOBAL_ACCESS, value: "True", allow: "globalAccess" },
  ...["lb-operator.io", "metallb.io", "metallb.universe.tf"].flatMap((prefix): Privileged[] => [
    { provider: "baremetal", key: `${prefix}/address-pool`, value: "reserved", allow: "addressPool" },
    { provider: "baremetal", key: `${prefix}/allow-shared-ip`, value: "team", allow: "sharedAddresses" },
  ]),
  // A key naming another namespace could match that namespace's Services.
  { provider: "baremetal", key: "lb-operator.io/allow-shared-ip", value: `${ALLOWED}/x`, allow: "sharedAddresses" },
  { provider: "baremetal", key: "lb-operator.io/load-balancer-ips", value: "192.0.2.10", allow: "requestedAddresses" },
  { provider: "baremetal", key: LB_IP, value: "192.0.2.11", allow: "requestedAddresses" },
];
/** Values of the same keys that grant nothing. */
const HARMLESS: readonly [Provider, string, string][] = [
  ["aws", `${AWS}internal`, "true"],
  ["aws", `${AWS}scheme`, "internal"],
  ["aws", `${AWS}security-groups`, "  "],
  ["gce", GLOBAL_ACCESS, "false"],
  ["gce", "lb-operator.io/gce-allow-all-sources", "0"],
  ["baremetal", "lb-operator.io/allow-shared-ip", `${DENIED}/team`],
];

const classOf = (provider: Provider): string => `lb-operator.io/${provider}`;

function service(namespace: string, name: string, provider: Provider, key?: string, value = ""): V1Service {
  const tweaks: ServiceTweak[] = [];
  if (key === LB_IP) tweaks.push((svc) => void (svc.spec!.loadBalancerIP = value));
  else if (key !== undefined) tweaks.push(tweakAnnotation(key, value));
  return apiService(namespace, name, classOf(provider), ...tweaks);
}

let helm: Helm;
beforeAll(async () => {
  helm = await Helm.start();
});
afterAll(() => helm?.dispose());

/** The policy objects `helm template` renders for a provider, with every allow list holding ALLOWED. */
async function renderPolicy(provider: Provider, extra: readonly string[] = []): Promise<Manifest[]> {
  const values = join(helm.home, "allow-values.yaml");
  const allow = Object.fromEntries(ALLOW_KEYS.map((k) => [k, [ALLOWED]]));
  writeFileSync(values, stringify({ provider, gce: { region: "us-central1" }, admissionPolicy: { allow } }));
  const r = await helm.template(`vap-${provider}`, "lb-operator", ["--values", values, ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return parseManifests(r.stdout).filter((m) => m.kind.startsWith("ValidatingAdmissionPolicy"));
}

describe("the admission policy, rendered", () => {
  it("helm template renders the policy and its binding by default, and neither when disabled", async () => {
    for (const provider of PROVIDERS) {
      const name = `vap-${provider}-lb-operator-privileged-annotations`;
      const rendered = await renderPolicy(provider);
      expect(rendered.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
        `ValidatingAdmissionPolicy/${name}`,
        `ValidatingAdmissionPolicyBinding/${name}`,
      ]);
      expect(rendered[1]).toMatchObject({ spec: { policyName: name, validationActions: ["Deny"] } });
      expect(await renderPolicy(provider, ["--set", "admissionPolicy.enabled=false"])).toEqual([]);
    }
  });

  it("the schema refuses a namespace that is no DNS label and Deny with Warn", async () => {
    for (const [args, message] of [
      [["--set", "admissionPolicy.allow.addressPool[0]=Team_A"], "at '/admissionPolicy/allow/addressPool/0'"],
      [["--set", "admissionPolicy.validationActions={Deny,Warn}"], "at '/admissionPolicy/validationActions'"],
    ] as const) {
      const r = await helm.template("vap", "lb-operator", args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
  });
});

describe("the admission policy on the test apiserver", () => {
  let cp: ControlPlane;
  let core: CoreV1Api;

  /** The apiserver's refusal message, or undefined when the Service was created (it is then deleted again). */
  async function refusal(svc: V1Service): Promise<string | undefined> {
    const namespace = svc.metadata?.namespace ?? "";
    try {
      await core.createNamespacedService({ namespace, body: svc });
    } catch (err) {
      const e = err as { code?: number; body?: string };
      expect(e.code, String(e.body)).toBe(403);
      return (JSON.parse(e.body ?? "{}") as { message?: string }).message;
    }
    await core.deleteNamespacedService({ namespace, name: svc.metadata?.name ?? "" });
    return undefined;
  }

  beforeAll(async () => {
    cp = await startControlPlane();
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    for (const name of [DENIED, ALLOWED]) await core.createNamespace({ body: { metadata: { name } } });
    // Admitted before the policy: keeps its value through later updates (ratcheting).
    await core.createNamespacedService({
      namespace: DENIED,
      body: service(DENIED, "before", "baremetal", LB_IP, "192.0.2.5"),
    });
    const admission = cp.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    // All three at once: each checks only its provider's class, so they do not meet.
    for (const provider of PROVIDERS) {
      const [policy, binding] = await renderPolicy(provider);
      await admission.createValidatingAdmissionPolicy({ body: policy as unknown as V1ValidatingAdmissionPolicy });
      await admission.createValidatingAdmissionPolicyBinding({
        body: binding as unknown as V1ValidatingAdmissionPolicyBinding,
      });
    }
    // A new policy takes effect once the apiserver's informer has it: wait until each provider's refuses.
    for (const provider of PROVIDERS) {
      const first = PRIVILEGED.find((p) => p.provider === provider)!;
      await eventually(`the ${provider} policy to take effect`, () =>
        refusal(service(DENIED, "probe", provider, first.key, first.value)),
      );
    }
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it("the apiserver stored each policy whole (it refuses one whose expressions do not compile)", async () => {
    // status.typeChecking comes from kube-controller-manager, which this control plane does not run; the CEL cost
    // budget is enforced per evaluation, which the 200 KiB test exercises.
    const admission = cp.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    for (const provider of PROVIDERS) {
      const name = `vap-${provider}-lb-operator-privileged-annotations`;
      const stored = await admission.readValidatingAdmissionPolicy({ name });
      const keys = new Set(PRIVILEGED.filter((p) => p.provider === provider).map((p) => p.key));
      expect(stored.spec?.validations?.length, name).toBe(keys.size);
      expect(stored.spec?.failurePolicy).toBe("Fail");
    }
  });

  it.each(PRIVILEGED.map((p) => [p.key, p.value, p] as const))(
    "refuses %s: %j outside the allowed namespaces, naming it and the values key; allows it inside them",
    async (key, value, p) => {
      const message = (await refusal(service(DENIED, "svc", p.provider, key, value))) ?? "(admitted)";
      expect(message).toContain(`${key} `);
      expect(message).toContain(
        `refused in namespace ${DENIED}; to allow it, set the lb-operator chart value admissionPolicy.allow.${p.allow} to include ${DENIED}`,
      );
      expect(await refusal(service(ALLOWED, "svc", p.provider, key, value))).toBeUndefined();
    },
  );

  it("allows Services without privileged settings, harmless values, and other classes' Services", async () => {
    for (const provider of PROVIDERS) expect(await refusal(service(DENIED, "plain", provider))).toBeUndefined();
    for (const [provider, key, value] of HARMLESS) {
      expect(await refusal(service(DENIED, "harmless", provider, key, value)), `${key}: ${value}`).toBeUndefined();
    }
    // Other controllers' Services are none of this policy's business.
    const other = apiService(DENIED, "other", "example.com/other", tweakAnnotation(`${AWS}security-groups`, "sg-1"));
    expect(await refusal(other)).toBeUndefined();
  });

  it("keeps a value a Service already had, and refuses a new one and a switch into the class", async () => {
    const patch = (name: string, body: object): Promise<V1Service> =>
      core.patchNamespacedService(
        { name, namespace: DENIED, body },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    await patch("before", { metadata: { labels: { touched: "yes" } } });
    await expect(patch("before", { spec: { loadBalancerIP: "192.0.2.6" } })).rejects.toMatchObject({ code: 403 });

    // Outside the scope (ClusterIP) the annotation passes; turning the Service into ours is then refused.
    const pool = "lb-operator.io/address-pool";
    const clusterIP: ServiceTweak = (s) => {
      s.spec!.type = "ClusterIP";
      delete s.spec!.externalTrafficPolicy;
    };
    const svc = apiService(DENIED, "later", undefined, clusterIP, tweakAnnotation(pool, "reserved"));
    await core.createNamespacedService({ namespace: DENIED, body: svc });
    const err = await patch("later", { spec: { type: "LoadBalancer", loadBalancerClass: classOf("baremetal") } }).catch(
      (e: unknown) => e as { code?: number; body?: string },
    );
    expect(err).toMatchObject({ code: 403 });
    expect(String((err as { body?: string }).body)).toContain(`admissionPolicy.allow.addressPool to include ${DENIED}`);
  });

  it("costs the same for a 200 KiB value: refused with its message, or allowed when harmless", async () => {
    const big = "sg-1,".repeat(40 * 1024);
    const message = await refusal(service(DENIED, "big", "aws", `${AWS}security-groups`, big));
    expect(message).toContain("admissionPolicy.allow.securityGroups");
    expect(message?.length).toBeLessThan(1024);
    expect(await refusal(service(DENIED, "big", "aws", "example.com/notes", big))).toBeUndefined();
  });
});
