import type { KubeConfig } from "@kubernetes/client-node";
import { KubeTestClient } from "../../testing/kube-test-client.js";

/** The label `lb-operator conformance` puts on the namespaces it creates, so a user can find any it left behind. */
export const CONFORMANCE_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/created-by": "lb-operator-conformance",
};

/**
 * The test kit's KubeTestClient (testing/kube-test-client.ts) as the conformance suite uses it: its namespaces carry
 * CONFORMANCE_NAMESPACE_LABELS. Exported under this name from the package since before the kit existed.
 */
export class ConformanceKubeClient extends KubeTestClient {
  constructor(kubeConfig: KubeConfig) {
    super(kubeConfig, { namespaceLabels: CONFORMANCE_NAMESPACE_LABELS });
  }
}
