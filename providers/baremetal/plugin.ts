/**
 * The bare-metal provider as the core sees it: address pools from flags, a file and the AddressPool CRD, and the
 * speaker program mounted as `lb-operator speaker`. Nothing here loads the provider until `create` runs.
 */
import { Option } from "commander";
import { z } from "zod";
import type { ProviderPlugin } from "../../src/provider-plugin.js";
import { repeatableOption } from "../../src/runtime/index.js";
import { speakerCommand } from "../../speaker/speaker-command.js";

const baremetalFlags = z.object({
  addressPool: z.array(z.string()).default([]),
  addressPoolFile: z.string().optional(),
  announceOnly: z.boolean().default(false),
});

export const baremetalPlugin: ProviderPlugin = {
  name: "baremetal",
  flags: () => [
    new Option(
      "--address-pool <name=range>",
      "bare metal: an address pool, repeatable (e.g. lab=192.0.2.100-192.0.2.120)",
    )
      .argParser(repeatableOption)
      .default([]),
    new Option("--address-pool-file <path>", "bare metal: a YAML file with address pools"),
    new Option(
      "--announce-only",
      "bare metal: speakers only answer ARP and kube-proxy forwards (ipMode VIP, MetalLB-compatible)",
    ).default(false),
  ],
  create: async (context, values) => {
    const flags = baremetalFlags.parse(values);
    const { createBaremetalProvider } = await import("./create-baremetal-provider.js");
    return createBaremetalProvider(context, {
      addressPools: flags.addressPool,
      addressPoolFile: flags.addressPoolFile,
      announceOnly: flags.announceOnly,
    });
  },
  // Nothing listed: the allocator serves requested addresses and the speaker forwards traffic. The data-path cases
  // are not listed either: each declares `requires: ["dataPath"]`, and a runner given no way to reach the load
  // balancer skips them through `unmetRequirementSkips`. So they run in the network lab (the CLI with --data-path
  // from the client's network namespace, test/integration/conformance-cli-providers.test.ts) and are skipped, with
  // that reason, by test/conformance/baremetal.conformance.test.ts, whose control-plane-only target has no dataPath.
  conformanceSkips: [],
  // Placement is read lazily, when the speaker runs: building the command loads nothing.
  commands: () => [
    speakerCommand("speaker", {
      placement: async (options) => (await import("./speaker-placement.js")).speakerPlacement(options),
    }),
  ],
};
