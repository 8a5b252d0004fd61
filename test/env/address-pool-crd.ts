/**
 * The chart's AddressPool CRD on a test apiserver: install it (waiting until Established) and create pools.
 * The CRD comes from charts/lb-operator/crds/, so tests exercise exactly what Helm installs.
 */
import { readFileSync } from "node:fs";
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import { eventually } from "../../testing/eventually.js";

const CRD_FILE = new URL("../../charts/lb-operator/crds/addresspools.lb-operator.io.yaml", import.meta.url);

export async function installAddressPoolCrd(kubeConfig: KubeConfig): Promise<void> {
  const crd = parse(readFileSync(CRD_FILE, "utf8")) as V1CustomResourceDefinition;
  const name = crd.metadata?.name ?? "addresspools.lb-operator.io";
  const ext = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await ext.createCustomResourceDefinition({ body: crd });
  await eventually("CRD established", async () => {
    const got = await ext.readCustomResourceDefinition({ name });
    return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
  });
}

export async function createAddressPool(kubeConfig: KubeConfig, name: string, spec: object): Promise<void> {
  await kubeConfig.makeApiClient(CustomObjectsApi).createClusterCustomObject({
    group: "lb-operator.io",
    version: "v1alpha1",
    plural: "addresspools",
    body: { apiVersion: "lb-operator.io/v1alpha1", kind: "AddressPool", metadata: { name }, spec },
  });
}
