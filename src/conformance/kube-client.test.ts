import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { KubeTestClient } from "../../testing/kube-test-client.js";
import { CONFORMANCE_NAMESPACE_LABELS, ConformanceKubeClient } from "./kube-client.js";

describe("ConformanceKubeClient", () => {
  it("is the test kit's client, marking the namespaces it creates as the conformance suite's", async () => {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: "c", server: "http://127.0.0.1:1", skipTLSVerify: true },
      { name: "u", token: "t" },
    );
    const kube = new ConformanceKubeClient(kc);
    expect(kube).toBeInstanceOf(KubeTestClient);
    const created = vi.spyOn(kube.core, "createNamespace").mockResolvedValue({});
    const name = await kube.createNamespace("conf");
    expect(created.mock.calls[0]?.[0].body.metadata).toEqual({
      name,
      labels: { "app.kubernetes.io/created-by": "lb-operator-conformance" },
    });
    expect(CONFORMANCE_NAMESPACE_LABELS).toEqual({ "app.kubernetes.io/created-by": "lb-operator-conformance" });
  });
});
