/**
 * The controller for a lab: the real `lb-operator run --provider baremetal` as a child process in the root
 * namespace, with the lab's address pool, against the lab's control plane. Speakers run in the node namespaces.
 */
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { ControllerProcess } from "../controller-process.js";
import { eventually } from "../../../testing/eventually.js";
import type { Lab } from "./lab.js";
import { VIP_RANGE } from "./lab-addresses.js";

export const LAB_POOL = `lab=${VIP_RANGE.first}-${VIP_RANGE.last}`;

export async function startLabController(lab: Lab, extraArgs: string[] = []): Promise<ControllerProcess> {
  return ControllerProcess.start(
    [
      "--provider",
      "baremetal",
      "--kubeconfig",
      lab.cp.kubeconfigPath,
      "--address-pool",
      LAB_POOL,
      "--no-leader-elect",
      "--log-level",
      "debug",
      ...extraArgs,
    ],
    lab.logDir,
    "controller",
  );
}

/** Waits until the controller has written an address for namespace/name, and returns it. */
export async function waitForAddress(
  lab: Lab,
  namespace: string,
  name: string,
  timeoutMs = 30_000,
): Promise<{ ip: string; service: V1Service }> {
  const core = lab.kubeConfig().makeApiClient(CoreV1Api);
  return eventually(
    `an address for ${namespace}/${name}`,
    async () => {
      const service = await core.readNamespacedService({ namespace, name });
      const ip = service.status?.loadBalancer?.ingress?.[0]?.ip;
      return ip ? { ip, service } : undefined;
    },
    { timeoutMs },
  );
}
