/**
 * The GCE internal passthrough provider as the core sees it. The Compute clients load only when `create` runs.
 */
import { Option } from "commander";
import { z } from "zod";
import type { ProviderPlugin } from "../../src/provider-plugin.js";
import { listOption } from "../../src/runtime/index.js";

const gceFlags = z.object({
  gceProject: z.string().optional(),
  gceRegion: z.string().optional(),
  gceNetwork: z.string().optional(),
  gceSubnetwork: z.string().optional(),
  gceNodeTags: z.array(z.string()).default([]),
  gceVpcRanges: z.array(z.string()).default([]),
  gceHealthCheckRanges: z.array(z.string()).default([]),
  gceEndpoint: z.string().optional(),
});

export const gcePlugin: ProviderPlugin = {
  name: "gce",
  flags: () => [
    new Option("--gce-project <id>", "gce: project (default: from application default credentials)"),
    new Option("--gce-region <region>", "gce: region of the cluster (required with --provider gce)"),
    new Option("--gce-network <name>", "gce: VPC network").default("default"),
    new Option(
      "--gce-subnetwork <name>",
      "gce: default subnetwork of the forwarding rules (default: the network's name)",
    ),
    new Option("--gce-node-tags <tags>", "gce: node instance tags the firewall rules target (comma-separated)")
      .argParser(listOption)
      .default([]),
    new Option(
      "--gce-vpc-ranges <cidrs>",
      "gce: sources admitted when a Service gives no source ranges (default: RFC 1918)",
    )
      .argParser(listOption)
      .default([]),
    new Option(
      "--gce-health-check-ranges <cidrs>",
      "gce: Google health-check source ranges (default: the four documented ranges)",
    )
      .argParser(listOption)
      .default([]),
    new Option("--gce-endpoint <url>", "gce: another Compute endpoint, without credentials (emulators, tests)"),
  ],
  create: async (context, values) => {
    const flags = gceFlags.parse(values);
    const { createGceProvider } = await import("./create-gce-provider.js");
    return createGceProvider({
      logger: context.logger,
      gceProject: flags.gceProject,
      gceRegion: flags.gceRegion,
      gceNetwork: flags.gceNetwork,
      gceSubnetwork: flags.gceSubnetwork,
      gceNodeTags: flags.gceNodeTags,
      gceVpcRanges: flags.gceVpcRanges,
      gceHealthCheckRanges: flags.gceHealthCheckRanges,
      gceEndpoint: flags.gceEndpoint,
      cloudCalls: context.cloudCalls,
    });
  },
  conformanceSkips: [
    {
      reason:
        "pod mode is refused with an InvalidSpecError: GCE_VM_IP network endpoint groups list the endpoints' node VMs, which the provider contract does not give in pod mode (README, GCE)",
      tests: ["should be able to create LoadBalancer Service without NodePort and change it"],
    },
  ],
};
