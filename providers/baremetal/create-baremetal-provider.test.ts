import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createBaremetalProvider } from "./create-baremetal-provider.js";

// Building the provider from flags against a real apiserver (with and without the AddressPool CRD) is
// covered in test/integration/address-pools.test.ts; here only what fails before any API call.
describe("createBaremetalProvider", () => {
  it("fails at start on bad pools, naming the flag, before touching the API", async () => {
    let resyncs = 0;
    await expect(
      createBaremetalProvider(
        {
          kubeConfig: new KubeConfig(),
          logger: pino({ level: "silent" }),
          signal: new AbortController().signal,
          requestResync: () => resyncs++,
        },
        { addressPools: ["lab=192.0.2.1/24"], addressPoolFile: undefined, announceOnly: false },
      ),
    ).rejects.toThrow("invalid address pools in --address-pool");
    expect(resyncs).toBe(0);
  });
});
