import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { LoadBalancerProvider } from "./provider.js";

export const PROVIDER_NAMES = ["baremetal", "aws", "gce"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Everything a provider factory may need from the command line and the process. */
export interface ProviderInputs {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Bare metal: `--address-pool` values. */
  addressPools: readonly string[];
  /** Bare metal: `--address-pool-file`. */
  addressPoolFile: string | undefined;
  /** Bare metal: `--announce-only` (speakers only answer ARP; kube-proxy forwards; ipMode VIP). */
  announceOnly: boolean;
  /** AWS: `--aws-region` (default: the SDK's, from AWS_REGION or the profile). */
  awsRegion?: string;
  /** AWS: `--aws-endpoint`, an endpoint override for every AWS API (emulators; default: AWS). */
  awsEndpoint?: string;
  /** GCE: `--gce-*` flags (see providers/gce/create-gce-provider.ts GceFlagInputs). */
  gceProject?: string;
  gceRegion?: string;
  gceNetwork?: string;
  gceSubnetwork?: string;
  gceNodeTags?: readonly string[];
  gceVpcRanges?: readonly string[];
  gceHealthCheckRanges?: readonly string[];
  gceEndpoint?: string;
  /** Aborts when the process shuts down; providers stop their own watches with it. */
  signal: AbortSignal;
  /** Ask the controller to reconcile every Service again (e.g. address pools changed). */
  requestResync: () => void;
}

/**
 * Builds the named provider. Each provider is imported only when chosen, so running one never loads
 * another's SDK (the plug-in registry of k8s.io/cloud-provider's plugins.go, without global state).
 */
export async function createProvider(name: string, inputs: ProviderInputs): Promise<LoadBalancerProvider> {
  switch (name) {
    case "baremetal": {
      const { createBaremetalProvider } = await import("../providers/baremetal/create-baremetal-provider.js");
      return createBaremetalProvider(inputs);
    }
    case "aws": {
      const { createAwsProvider } = await import("../providers/aws/create-aws-provider.js");
      return createAwsProvider({ logger: inputs.logger, awsRegion: inputs.awsRegion, awsEndpoint: inputs.awsEndpoint });
    }
    case "gce": {
      const { createGceProvider } = await import("../providers/gce/create-gce-provider.js");
      return createGceProvider({
        logger: inputs.logger,
        gceProject: inputs.gceProject,
        gceRegion: inputs.gceRegion,
        gceNetwork: inputs.gceNetwork,
        gceSubnetwork: inputs.gceSubnetwork,
        gceNodeTags: inputs.gceNodeTags ?? [],
        gceVpcRanges: inputs.gceVpcRanges ?? [],
        gceHealthCheckRanges: inputs.gceHealthCheckRanges ?? [],
        gceEndpoint: inputs.gceEndpoint,
      });
    }
    default:
      throw new RangeError(`unknown provider "${name}"; known providers: ${PROVIDER_NAMES.join(", ")}`);
  }
}
