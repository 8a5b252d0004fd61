/**
 * The factory the plugin (plugin.ts) loads for `--provider gce`: @google-cloud/compute clients with Application Default
 * Credentials (Workload Identity, the metadata server, GOOGLE_APPLICATION_CREDENTIALS), REST transport, and the
 * cluster's location from flags. `--gce-endpoint` points every client at another Compute endpoint (the fake in
 * test/env/fake-compute) without credentials. The clients' own retries are disabled per call (gce-call.ts).
 */
import {
  AddressesClient,
  FirewallsClient,
  ForwardingRulesClient,
  GlobalOperationsClient,
  HealthChecksClient,
  InstanceGroupsClient,
  RegionBackendServicesClient,
  RegionOperationsClient,
  SubnetworksClient,
  ZoneOperationsClient,
} from "@google-cloud/compute";
import type { Logger } from "pino";
import type { CloudCallObserver } from "../../src/cloud-call-observer.js";
import { systemClock, type Clock } from "../../src/util/clock.js";
import { GceApi } from "./gce-api.js";
import { GceDeployer } from "./gce-deployer.js";
import { OperationWaiter } from "./gce-operations.js";
import { GceProvider } from "./gce-provider.js";
import type { GceClients, GceLocation } from "./gce-types.js";

/** L4LoadBalancerSrcRanges (gce_loadbalancer.go): where Google's health checkers connect from. */
export const DEFAULT_HEALTH_CHECK_RANGES: readonly string[] = [
  "130.211.0.0/22",
  "35.191.0.0/16",
  "209.85.152.0/22",
  "209.85.204.0/22",
];
/** Default for Services without source ranges: the private ranges (RFC 1918), never 0.0.0.0/0 (kubernetes/kubernetes#56371). */
export const DEFAULT_VPC_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

type ClientOptions = ConstructorParameters<typeof ForwardingRulesClient>[0];

/** A credential-less auth client for a local endpoint: the compute clients send requests through its `fetch`. */
function anonymousAuth(): NonNullable<ClientOptions>["authClient"] {
  const auth = {
    getRequestHeaders: () => Promise.resolve(new Headers()),
    fetch: (url: string | URL, init?: RequestInit) => fetch(url, init),
  };
  return auth as unknown as NonNullable<ClientOptions>["authClient"];
}

/** Real clients (ADC), or clients of `endpoint` (e.g. "http://127.0.0.1:8089") without credentials. */
export function createGceClients(endpoint?: string): GceClients {
  let options: ClientOptions = { fallback: true };
  if (endpoint !== undefined) {
    const url = new URL(endpoint);
    const protocol = url.protocol.replace(":", "");
    options = {
      fallback: true,
      apiEndpoint: url.hostname,
      port: Number(url.port || (protocol === "http" ? 80 : 443)),
      protocol,
      authClient: anonymousAuth(),
    };
  }
  return gceClientsWith(options);
}

/** Every client of GceClients built with `options` (tests point them at the fake Compute API). */
export function gceClientsWith(options: ClientOptions): GceClients {
  return {
    instanceGroups: new InstanceGroupsClient(options),
    healthChecks: new HealthChecksClient(options),
    backendServices: new RegionBackendServicesClient(options),
    forwardingRules: new ForwardingRulesClient(options),
    firewalls: new FirewallsClient(options),
    addresses: new AddressesClient(options),
    subnetworks: new SubnetworksClient(options),
    regionOperations: new RegionOperationsClient(options),
    zoneOperations: new ZoneOperationsClient(options),
    globalOperations: new GlobalOperationsClient(options),
  };
}

export interface GceProviderOptions {
  readonly clock?: Clock;
  /** Minimum spacing of operation polls that did not return DONE (default 1000 ms; tests shorten it). */
  readonly minPollIntervalMs?: number;
  /** Delay before the first retry of a transient fault (default 200 ms). */
  readonly minRetryDelayMs?: number;
  /** Told of every Compute request sent (metrics); undefined: not observed. */
  readonly cloudCalls?: CloudCallObserver | undefined;
}

/** The provider over given clients (tests pass the fake's). */
export function gceProviderFor(
  clients: GceClients,
  location: GceLocation,
  logger: Logger,
  options: GceProviderOptions = {},
): GceProvider {
  const log = logger.child({ provider: "gce" });
  const clock = options.clock ?? systemClock;
  const waiter = new OperationWaiter({
    clients,
    project: location.project,
    clock,
    minPollIntervalMs: options.minPollIntervalMs,
    minRetryDelayMs: options.minRetryDelayMs,
    observer: options.cloudCalls,
  });
  const api = new GceApi({
    clients,
    project: location.project,
    region: location.region,
    waiter,
    minRetryDelayMs: options.minRetryDelayMs,
    observer: options.cloudCalls,
  });
  return new GceProvider(new GceDeployer({ api, location, logger: log }), log);
}

/** What `--provider gce` needs from the command line. */
export interface GceFlagInputs {
  readonly logger: Logger;
  /** `--gce-project` (default: the ADC project). */
  readonly gceProject: string | undefined;
  /** `--gce-region`, required. */
  readonly gceRegion: string | undefined;
  /** `--gce-network` (default "default"). */
  readonly gceNetwork: string | undefined;
  /** `--gce-subnetwork` (default: the network's name, as in auto-mode VPCs). */
  readonly gceSubnetwork: string | undefined;
  /** `--gce-node-tags`, required: the firewall rules target these tags (a rule without tags would apply to every VM). */
  readonly gceNodeTags: readonly string[];
  /** `--gce-vpc-ranges`: sources admitted when a Service gives none (default RFC 1918). */
  readonly gceVpcRanges: readonly string[];
  /** `--gce-health-check-ranges` (default L4LoadBalancerSrcRanges). */
  readonly gceHealthCheckRanges: readonly string[];
  /** `--gce-endpoint`: another Compute endpoint, without credentials (emulators, tests). */
  readonly gceEndpoint: string | undefined;
  /** Told of every Compute request sent (metrics). */
  readonly cloudCalls?: CloudCallObserver | undefined;
}

export async function createGceProvider(inputs: GceFlagInputs): Promise<GceProvider> {
  if (inputs.gceRegion === undefined || inputs.gceRegion === "")
    throw new RangeError("--gce-region is required for --provider gce");
  if (inputs.gceNodeTags.length === 0)
    throw new RangeError("--gce-node-tags is required for --provider gce: the firewall rules target the nodes by tag");
  const clients = createGceClients(inputs.gceEndpoint);
  const project = inputs.gceProject ?? (await clients.forwardingRules.getProjectId());
  const network = inputs.gceNetwork ?? "default";
  const location: GceLocation = {
    project,
    region: inputs.gceRegion,
    network,
    subnetwork: inputs.gceSubnetwork ?? network,
    nodeTags: inputs.gceNodeTags,
    healthCheckSourceRanges:
      inputs.gceHealthCheckRanges.length > 0 ? inputs.gceHealthCheckRanges : DEFAULT_HEALTH_CHECK_RANGES,
    defaultSourceRanges: inputs.gceVpcRanges.length > 0 ? inputs.gceVpcRanges : DEFAULT_VPC_RANGES,
  };
  return gceProviderFor(clients, location, inputs.logger, { cloudCalls: inputs.cloudCalls });
}
