/**
 * The factory the plugin (plugin.ts) loads for `--provider aws`: SDK v3 clients from the default credential chain (IRSA,
 * instance profile, environment), the region from `--aws-region` or the environment, and an optional endpoint
 * override (`--aws-endpoint`, or the SDK's own AWS_ENDPOINT_URL) for emulators such as moto. Clients are built
 * with maxAttempts 1: awsCall owns retries (aws-call.ts).
 */
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { EC2Client } from "@aws-sdk/client-ec2";
import type { Logger } from "pino";
import { systemClock } from "../../src/util/clock.js";
import { AwsEnvironmentResolver } from "./aws-environment.js";
import { AwsProvider } from "./aws-provider.js";
import type { AwsClients } from "./aws-types.js";
import { ClbDeployer } from "./clb/clb-deployer.js";
import { NlbDeployer } from "./nlb/nlb-deployer.js";
import { ec2SecurityGroups } from "./security-groups/security-group-port.js";

export interface AwsClientOptions {
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
}

export function createAwsClients(options: AwsClientOptions): AwsClients {
  const common = { region: options.region, endpoint: options.endpoint, maxAttempts: 1 };
  return {
    elbv2: new ElasticLoadBalancingV2Client(common),
    elb: new ElasticLoadBalancingClient(common),
    ec2: new EC2Client(common),
  };
}

/** The provider over given clients (tests pass moto's, possibly wrapped to count calls or inject faults). */
export function awsProviderFor(clients: AwsClients, logger: Logger): AwsProvider {
  const log = logger.child({ provider: "aws" });
  return new AwsProvider({
    deployers: { nlb: new NlbDeployer({ clients, logger: log }), clb: new ClbDeployer({ clients, logger: log }) },
    securityGroups: ec2SecurityGroups(clients),
    environment: new AwsEnvironmentResolver(clients, systemClock),
    logger: log,
  });
}

export function createAwsProvider(inputs: {
  logger: Logger;
  awsRegion: string | undefined;
  awsEndpoint: string | undefined;
}): AwsProvider {
  return awsProviderFor(createAwsClients({ region: inputs.awsRegion, endpoint: inputs.awsEndpoint }), inputs.logger);
}
