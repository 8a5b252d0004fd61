import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createBaremetalProvider } from "./create-baremetal-provider.js";

const logger = pino({ level: "silent" });

describe("createBaremetalProvider", () => {
  it("builds the provider from --address-pool values", async () => {
    const provider = await createBaremetalProvider({ logger, addressPools: ["lab=192.0.2.100-192.0.2.120"], addressPoolFile: undefined });
    expect(provider.name).toBe("baremetal");
    const status = await provider.ensure(
      {
        id: { clusterId: "c", namespace: "ns", name: "web", uid: "u", shortName: "aweb" },
        ports: [{ name: "", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined }],
        backends: { mode: "nodePort", nodes: [] },
        healthCheck: { kind: "http", source: "kubeProxy", port: 10256, path: "/healthz" },
        externalTrafficPolicy: "Cluster",
        sourceRanges: [],
        requestedIPs: [],
        ipFamilies: ["IPv4"],
        sessionAffinity: { type: "None" },
        annotations: {},
      },
      new AbortController().signal,
    );
    expect(status.ingress[0]?.ip).toBe("192.0.2.100");
  });

  it("fails at start on bad pools, naming the flag", async () => {
    await expect(createBaremetalProvider({ logger, addressPools: ["lab=192.0.2.1/24"], addressPoolFile: undefined })).rejects.toThrow(
      "invalid address pools in --address-pool",
    );
  });
});
