/**
 * What the race benches (bench/failover.ts, bench/allocation.ts) do to one lab between implementations, so the
 * second one starts from the same state as the first: its Services gone from the API (and so from kube-proxy and
 * the other implementation's pool), and no neighbour entry in the client still pointing a VIP at the node the
 * first implementation chose (both allocate from the same range, so the same VIPs come back).
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { eventually } from "../../testing/eventually.js";
import type { Lab } from "../../test/env/lab/lab.js";

const GONE_TIMEOUT_MS = 120_000;

/**
 * Deletes every Service in `namespace` (those matching `labelSelector`, when given) and waits until none is left,
 * finalizers included: call it while the implementation still runs, since ours removes its finalizer.
 */
export async function deleteServicesAndWait(lab: Lab, namespace: string, labelSelector?: string): Promise<void> {
  const core = lab.kubeConfig().makeApiClient(CoreV1Api);
  const list = async (): Promise<string[]> =>
    (await core.listNamespacedService({ namespace, labelSelector })).items.flatMap((s) => s.metadata?.name ?? []);
  const names = await list();
  await Promise.all(
    names.map((name) =>
      core.deleteNamespacedService({ namespace, name }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      }),
    ),
  );
  await eventually(`the Services of ${namespace} to be gone`, async () => (await list()).length === 0, {
    timeoutMs: GONE_TIMEOUT_MS,
    intervalMs: 250,
  });
}

/** Forgets every neighbour the client learnt, so the next implementation's VIPs are ARPed afresh. */
export async function flushClientNeighbours(lab: Lab): Promise<void> {
  await lab.client.exec("ip", ["neigh", "flush", "all"]);
}
