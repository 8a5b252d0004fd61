/**
 * The API objects a MetalLB install consists of, written to the lab's apiserver: its CRDs (from the module the
 * binaries were built from), its namespace, an IPAddressPool + L2Advertisement over the lab's VIP range, and
 * stand-in Pods for the speakers and the controller.
 *
 * The speaker Pods exist because MetalLB's speaker reads two things from its own Pod: memberlist finds its peers by
 * listing the Pods that match `--ml-labels` and joining their `status.podIP` (internal/speakerlist), and the layer2
 * status reconciler owns its ServiceL2Status objects through its Pod (`--pod-name`, internal/k8s). They carry no
 * `spec.nodeName`, so the kubelet stand-in never runs them; their status (Running, podIP = the node's address, as a
 * hostNetwork speaker's is) is written through the status subresource.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { eventually } from "../../../testing/eventually.js";
import { VIP_RANGE } from "./lab-addresses.js";

export const METALLB_NAMESPACE = "metallb-system";
/** The loadBalancerClass the lab's MetalLB serves (its controller's and speakers' `--lb-class`). */
export const METALLB_LOAD_BALANCER_CLASS = "metallb.io/metallb";
export const METALLB_SPEAKER_LABELS = { app: "metallb", component: "speaker" } as const;
export const METALLB_POOL = "lab";
const GROUP = "metallb.io";
const VERSION = "v1beta1";

export const CONTROLLER_POD = "controller";
export const speakerPodName = (node: string): string => `speaker-${node}`;

/** Creates every CRD found in `crdDir` (the install script's `crds/`) and waits until each is Established. */
export async function installMetalLbCrds(kc: KubeConfig, crdDir: string): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseAllDocuments(readFileSync(join(crdDir, f), "utf8")).map((d) => d.toJS() as unknown))
    .filter((d): d is V1CustomResourceDefinition => isCrd(d));
  await Promise.all(crds.map((body) => ext.createCustomResourceDefinition({ body })));
  await Promise.all(
    crds.map((crd) =>
      eventually(`CRD ${crd.metadata?.name ?? "?"} established`, async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
        return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      }),
    ),
  );
}

function isCrd(doc: unknown): doc is V1CustomResourceDefinition {
  return typeof doc === "object" && doc !== null && (doc as { kind?: unknown }).kind === "CustomResourceDefinition";
}

/** The namespace, and one IPAddressPool over the lab's VIP range announced by one L2Advertisement on every node. */
export async function createMetalLbConfig(kc: KubeConfig): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: METALLB_NAMESPACE } } });
  const objects = kc.makeApiClient(CustomObjectsApi);
  const create = (plural: string, kind: string, spec: object): Promise<unknown> =>
    objects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: METALLB_NAMESPACE,
      plural,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name: METALLB_POOL }, spec },
    });
  await create("ipaddresspools", "IPAddressPool", { addresses: [`${VIP_RANGE.first}-${VIP_RANGE.last}`] });
  await create("l2advertisements", "L2Advertisement", { ipAddressPools: [METALLB_POOL] });
}

/** The stand-in Pod of the speaker on `node` (see the file comment), Running with the node's address. */
export async function createSpeakerPod(kc: KubeConfig, node: string, nodeIp: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = speakerPodName(node);
  const pod = await core.createNamespacedPod({
    namespace: METALLB_NAMESPACE,
    body: {
      metadata: { name, labels: { ...METALLB_SPEAKER_LABELS } },
      spec: { hostNetwork: true, containers: [{ name: "speaker", image: "quay.io/metallb/speaker:lab" }] },
    },
  });
  await core.replaceNamespacedPodStatus({
    namespace: METALLB_NAMESPACE,
    name,
    body: { ...pod, status: { phase: "Running", podIP: nodeIp, podIPs: [{ ip: nodeIp }] } },
  });
}

/** The controller's stand-in Pod: v0.16's controller reads its own Pod (`--pod-name`) for owner references. */
export async function createControllerPod(kc: KubeConfig): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace: METALLB_NAMESPACE,
    body: {
      metadata: { name: CONTROLLER_POD, labels: { app: "metallb", component: "controller" } },
      spec: { containers: [{ name: "controller", image: "quay.io/metallb/controller:lab" }] },
    },
  });
}
