/**
 * The provider contract (testing/contract-suite.ts) for the bare-metal provider. Its "cloud" is the in-memory
 * address allocator: resources are the addresses it holds, and a call is mutating when the set of held addresses
 * changed (an allocation or a release). The provider has no calls of its own to watch, so the world records one
 * call per ensure/delete; the contract's status check catches an address swapped for another.
 */
import type { ProviderTestWorld, RecordedCall } from "../../testing/call-recorder.js";
import { describeProviderContract } from "../../testing/contract-suite.js";
import { newSpec } from "../../testing/new-spec.js";
import type { AddressPool } from "./address-pool.js";
import { BaremetalProvider } from "./baremetal-provider.js";

const POOL: AddressPool = {
  name: "lab",
  addresses: ["192.0.2.100-192.0.2.120", "2001:db8::/120"],
  autoAssign: true,
  avoidBuggyIPs: false,
};

async function baremetalWorld(): Promise<ProviderTestWorld> {
  const inner = new BaremetalProvider({ pools: [POOL] });
  const log: RecordedCall[] = [];
  const held = new Map<string, readonly string[]>();
  const snapshot = (): string => JSON.stringify([...held.entries()].sort());
  return {
    provider: {
      name: inner.name,
      async ensure(spec, signal) {
        const before = snapshot();
        const status = await inner.ensure(spec, signal);
        held.set(
          `${spec.id.namespace}/${spec.id.name}`,
          status.ingress.flatMap((i) => (i.ip === undefined ? [] : [i.ip])),
        );
        log.push({ operation: "allocate", mutating: snapshot() !== before });
        return status;
      },
      async delete(id, signal) {
        await inner.delete(id, signal);
        const existed = held.delete(`${id.namespace}/${id.name}`);
        log.push({ operation: "release", mutating: existed });
      },
    },
    spec: (name) => newSpec({ name, clusterId: "lab", ipFamilies: ["IPv4", "IPv6"] }),
    calls: () => [...log],
    clearCalls: () => void log.splice(0),
    // Counted from the allocator itself, not from `held`, so a release that frees nothing is caught.
    resources: async () => {
      const used = inner.usage(POOL.name)?.used;
      return used === undefined
        ? []
        : [
            ...Array.from({ length: used.IPv4 }, () => "IPv4 address"),
            ...Array.from({ length: used.IPv6 }, () => "IPv6 address"),
          ];
    },
  };
}

describeProviderContract("baremetal", baremetalWorld, {
  skip: { "no-leak-after-stopped-create": "an ensure is one synchronous allocation: there is no part-way to stop at" },
});
