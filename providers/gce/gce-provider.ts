/**
 * The GCE provider: an internal passthrough load balancer per Service (regional backend service + forwarding rule,
 * INTERNAL scheme), as cloud-provider-gcp's legacy ILB builds it (../shared/reference/gce.md section 1). The
 * Service is parsed and validated in full (gce-config.ts) before any Compute call; the deployer then diffs before
 * every write. Status is the forwarding rule's IP, read back from Compute.
 */
import type { Logger } from "pino";
import type { LoadBalancerId, LoadBalancerProvider, LoadBalancerSpec, LoadBalancerStatus } from "../../src/provider.js";
import { parseGceConfig } from "./gce-config.js";
import type { GceDeployer } from "./gce-deployer.js";

export const GCE_PROVIDER_NAME = "gce";

export class GceProvider implements LoadBalancerProvider {
  readonly name = GCE_PROVIDER_NAME;

  constructor(
    private readonly deployer: GceDeployer,
    private readonly logger: Logger,
  ) {}

  async ensure(spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus> {
    const config = parseGceConfig(spec);
    const { ip } = await this.deployer.ensure(spec, config, signal);
    this.logger.debug({ service: `${spec.id.namespace}/${spec.id.name}`, ip }, "internal load balancer converged");
    return { ingress: [{ ip }] };
  }

  async delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    await this.deployer.delete(id, signal);
  }
}
