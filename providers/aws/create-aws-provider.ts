/**
 * The factory the plugin (plugin.ts) loads for `--provider aws`: SDK v3 clients from the default credential chain (IRSA,
 * instance profile, environment), the region from `--aws-region` or the environment, and an optional endpoint
 * override (`--aws-endpoint`, or the SDK's own AWS_ENDPOINT_URL) for emulators such as moto. Clients are built
 * with maxAttempts 1: awsCall owns retries (aws-call.ts). Every request is bounded twice: by the reconcile deadline's
 * signal (src/controller/provider-deadline.ts) and by the HTTP handler's own connection and request timeouts, so a
 * call that hangs fails on its own even outside a reconcile. A request timeout is a transient fault (TimeoutError):
 * an idempotent call is retried, a create is not.
 */
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { EC2Client } from "@aws-sdk/client-ec2";
import type { Logger } from "pino";
import type { CloudCallObserver } from "../../src/cloud-call-observer.js";
import { systemClock } from "../../src/util/clock.js";
import { observeAwsClients } from "./aws-call-metrics.js";
import { AwsEnvironmentResolver } from "./aws-environment.js";
import { AwsProvider } from "./aws-provider.js";
import type { AwsClients } from "./aws-types.js";
import { ClbDeployer } from "./clb/clb-deployer.js";
import { NlbDeployer } from "./nlb/nlb-deployer.js";
import { ec2SecurityGroups } from "./security-groups/security-group-port.js";

/** Defaults of `--aws-connect-timeout` and `--aws-request-timeout`. */
export const DEFAULT_AWS_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_AWS_REQUEST_TIMEOUT_MS = 30_000;

export interface AwsClientOptions {
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  /** How long establishing a connection may take. Default DEFAULT_AWS_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number | undefined;
  /** How long one request may take from sending to the whole answer. Default DEFAULT_AWS_REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number | undefined;
  /** Static credentials (tests against an emulator); default the SDK's credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}

export function createAwsClients(options: AwsClientOptions): AwsClients {
  const common = {
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? DEFAULT_AWS_CONNECT_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_AWS_REQUEST_TIMEOUT_MS,
      // Without it a request past requestTimeout is only logged as a warning and keeps waiting.
      throwOnRequestTimeout: true,
    },
  };
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
  awsConnectTimeoutMs?: number | undefined;
  awsRequestTimeoutMs?: number | undefined;
  /** Reports every request the clients send (metrics); undefined: not observed. */
  cloudCalls?: CloudCallObserver | undefined;
}): AwsProvider {
  const clients = createAwsClients({
    region: inputs.awsRegion,
    endpoint: inputs.awsEndpoint,
    connectTimeoutMs: inputs.awsConnectTimeoutMs,
    requestTimeoutMs: inputs.awsRequestTimeoutMs,
  });
  if (inputs.cloudCalls !== undefined) observeAwsClients(clients, inputs.cloudCalls);
  return awsProviderFor(clients, inputs.logger);
}
