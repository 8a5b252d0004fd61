import { isIP } from "node:net";
import { hostname } from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import type { Logger } from "pino";
import { DEFAULT_ECHO_IMAGE } from "./conformance/data-path.js";
import { CONFORMANCE_PROVIDERS, type ConformanceProvider } from "./conformance/skip-lists.js";
import { ResyncHub } from "./controller/resync-hub.js";
import { startHttpServer } from "./http-server.js";
import { PooledKubeConfig } from "./kube/pooled-kube-config.js";
import { createLogger } from "./logger.js";
import { packageVersion } from "./package-version.js";
import { ControllerMetrics } from "./metrics.js";
import { PROVIDER_NAMES, createProvider } from "./providers.js";
import { type ControllerConfig, ControllerState, runController } from "./run-controller.js";
import { systemClock } from "./util/clock.js";
import { parseDuration } from "./util/duration.js";

interface RunFlags {
  provider: string;
  kubeconfig?: string;
  loadBalancerClass?: string;
  defaultClass: boolean;
  clusterId: string;
  workers: number;
  driftPeriod: number;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity: string;
  addressPool: string[];
  addressPoolFile?: string;
  announceOnly: boolean;
  awsRegion?: string;
  awsEndpoint?: string;
  gceProject?: string;
  gceRegion?: string;
  gceNetwork?: string;
  gceSubnetwork?: string;
  gceNodeTags: string[];
  gceVpcRanges: string[];
  gceHealthCheckRanges: string[];
  gceEndpoint?: string;
  logLevel: string;
}

const duration = (value: string): number => {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
};

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const csv = (value: string, previous: string[]): string[] => [...previous, ...value.split(",").map((v) => v.trim()).filter(Boolean)];

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a port (1-65535), got "${value}"`);
  return n;
};

/** The `lb-operator` command line. Building it does nothing; `parseAsync` runs the chosen command. */
export function buildCli(): Command {
  const program = new Command("lb-operator").description("Kubernetes LoadBalancer operator")
    .version(packageVersion(), "-V, --version", "print the version and exit").showHelpAfterError();
  program
    .command("run")
    .description("run the controller that reconciles type: LoadBalancer Services")
    .addOption(new Option("--provider <name>", "load balancer provider").choices(PROVIDER_NAMES).makeOptionMandatory())
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option("--load-balancer-class <class>", "spec.loadBalancerClass handled (default: lb-operator.io/<provider>)")
    .option("--default-class", "also handle Services without spec.loadBalancerClass", false)
    .option("--cluster-id <id>", "cluster id recorded on every resource a provider creates", "default")
    .option("--workers <n>", "Services reconciled concurrently", positiveInt, 5)
    .option("--drift-period <duration>", "re-ensure unchanged Services this often", duration, 600_000)
    .option("--metrics-bind-address <host:port>", "address for /metrics, /healthz and /readyz", "0.0.0.0:8080")
    .option("--no-leader-elect", "run without leader election (a single replica)")
    .option("--leader-election-namespace <ns>", "namespace of the leader Lease", "default")
    .option("--leader-election-id <name>", "name of the leader Lease", "lb-operator")
    .option("--lease-duration <duration>", "leader lease duration", duration, 15_000)
    .option("--renew-deadline <duration>", "leader gives up after failing to renew this long", duration, 10_000)
    .option("--retry-period <duration>", "leader election retry period", duration, 2_000)
    .option("--identity <id>", "leader election identity", `${hostname()}_${process.pid}`)
    .option("--address-pool <name=range>", "bare metal: an address pool, repeatable (e.g. lab=192.0.2.100-192.0.2.120)", collect, [])
    .option("--address-pool-file <path>", "bare metal: a YAML file with address pools")
    .option("--announce-only", "bare metal: speakers only answer ARP and kube-proxy forwards (ipMode VIP, MetalLB-compatible)", false)
    .option("--aws-region <region>", "aws: region (default: AWS_REGION or the profile's)")
    .option("--aws-endpoint <url>", "aws: endpoint override for every AWS API, e.g. an emulator (default: AWS)")
    .option("--gce-project <id>", "gce: project (default: from application default credentials)")
    .option("--gce-region <region>", "gce: region of the cluster (required with --provider gce)")
    .option("--gce-network <name>", "gce: VPC network", "default")
    .option("--gce-subnetwork <name>", "gce: default subnetwork of the forwarding rules (default: the network's name)")
    .option("--gce-node-tags <tags>", "gce: node instance tags the firewall rules target (comma-separated)", csv, [])
    .option("--gce-vpc-ranges <cidrs>", "gce: sources admitted when a Service gives no source ranges (default: RFC 1918)", csv, [])
    .option("--gce-health-check-ranges <cidrs>", "gce: Google health-check source ranges (default: the four documented ranges)", csv, [])
    .option("--gce-endpoint <url>", "gce: another Compute endpoint, without credentials (emulators, tests)")
    .option("--log-level <level>", "log level (trace, debug, info, warn, error)", "info")
    .action(async (flags: RunFlags) => runCommand(flags));
  program
    .command("speaker")
    .description("bare metal: answer ARP for Service addresses and forward their traffic (runs on every node)")
    .option("--node-name <name>", "this node's name (default: $NODE_NAME)")
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option("--load-balancer-class <class>", "spec.loadBalancerClass handled", "lb-operator.io/baremetal")
    .option("--default-class", "also handle Services without spec.loadBalancerClass", false)
    .option("--interface <name>", "answer ARP on this interface only, repeatable (default: every eligible interface)", collect, [])
    .option("--heartbeat-port <port>", "UDP port speakers heartbeat each other on", port, 7946)
    .option("--heartbeat-interval <duration>", "how often a speaker heartbeats every peer", duration, 100)
    .option("--peer-timeout <duration>", "a speaker not heard from for this long is dead and loses its addresses", duration, 500)
    .option("--heartbeat-secret-file <path>", "a shared key: heartbeats are HMAC-signed and unsigned ones dropped")
    .option("--probe-interval <duration>", "backend health check interval", duration, 1_000)
    .option("--probe-timeout <duration>", "backend health check timeout (below the interval)", duration, 500)
    .option("--announce-only", "answer ARP only and leave forwarding to kube-proxy (MetalLB-compatible, ipMode VIP)", false)
    .option("--nft-table <name>", "the nftables table (family ip) the speaker owns", "lb-operator")
    .option("--metrics-bind-address <host:port>", "address for /metrics, /healthz and /readyz", "0.0.0.0:9473")
    .option("--log-level <level>", "log level (trace, debug, info, warn, error)", "info")
    .action(async (flags: SpeakerFlags) => speakerCommand(flags));
  program
    .command("conformance")
    .description("run the provider-neutral LoadBalancer conformance suite against a cluster whose controller is running")
    .addOption(new Option("--provider <name>", "provider under test (selects its skip list)").choices(CONFORMANCE_PROVIDERS).makeOptionMandatory())
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option("--load-balancer-class <class>", "spec.loadBalancerClass the controller handles (default: lb-operator.io/<provider>)")
    .option("--focus <regex>", "run only the cases whose name matches", regex)
    .option("--skip <regex>", "do not run the cases whose name matches", regex)
    .option("--junit <file>", "also write the results as JUnit XML")
    .option("--namespace-prefix <prefix>", "prefix of the namespace each case creates (and deletes)", "lb-conformance")
    .option("--requestable-address <ip>", "an address the provider can hand out on request (without it, that case is skipped)")
    .option("--timeout <duration>", "how long a case waits for a load balancer (upstream e2e: 2m)", duration, 120_000)
    .option("--data-path", "also run the cases that send traffic through the load balancer, from where this command runs", false)
    .option("--client-address <ip>", "with --data-path: the address backends see for this command's requests (required with --data-path)", ipAddress)
    .option("--echo-image <ref>", "with --data-path: image of the backend pods (agnhost netexec semantics)", DEFAULT_ECHO_IMAGE)
    .action(async (flags: ConformanceFlags) => conformanceCommand(flags));
  return program;
}

interface ConformanceFlags {
  provider: ConformanceProvider;
  kubeconfig?: string;
  loadBalancerClass?: string;
  focus?: RegExp;
  skip?: RegExp;
  junit?: string;
  namespacePrefix: string;
  requestableAddress?: string;
  timeout: number;
  dataPath: boolean;
  clientAddress?: string;
  echoImage: string;
}

const ipAddress = (value: string): string => {
  if (isIP(value) === 0) throw new InvalidArgumentError(`expected an IPv4 or IPv6 address, got "${value}"`);
  return value;
};

const regex = (value: string): RegExp => {
  try {
    return new RegExp(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

/** Exit code 1 when a case failed, 130 when interrupted; the JUnit file is written in every case. */
async function conformanceCommand(flags: ConformanceFlags): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  const conformance = await import("./conformance/index.js");
  // Flags first: a mistake in them is reported before the kubeconfig is read.
  const dataPath = conformance.dataPathFromFlags(flags);
  const kubeConfig = new PooledKubeConfig();
  if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  const skips = conformance.resolveSkips([
    ...conformance.providerSkips[flags.provider],
    ...conformance.unmetRequirementSkips(conformance.conformanceCases, { requestableAddress: flags.requestableAddress, dataPath }),
  ]);
  const write = (line: string): void => void process.stdout.write(`${line}\n`);
  const interrupt = conformance.abortOnInterrupt(write);
  try {
    const result = await conformance.runConformanceSuite(
      {
        provider: flags.provider,
        loadBalancerClass: flags.loadBalancerClass ?? `lb-operator.io/${flags.provider}`,
        requestableAddress: flags.requestableAddress,
        dataPath,
        timeoutMs: flags.timeout,
        namespacePrefix: flags.namespacePrefix,
        skips,
        focus: flags.focus,
        skip: flags.skip,
      },
      { kube: new conformance.ConformanceKubeClient(kubeConfig), write, signal: interrupt.signal },
    );
    if (flags.junit) {
      await writeFile(flags.junit, conformance.toJUnitXml(result));
      write(`JUnit XML written to ${flags.junit}`);
    }
    if (result.interrupted) process.exitCode = 130;
    else if (result.cases.some((c) => c.status === "failed")) process.exitCode = 1;
  } finally {
    interrupt.dispose();
  }
}

interface SpeakerFlags {
  nodeName?: string;
  kubeconfig?: string;
  loadBalancerClass: string;
  defaultClass: boolean;
  interface: string[];
  heartbeatPort: number;
  heartbeatInterval: number;
  peerTimeout: number;
  heartbeatSecretFile?: string;
  probeInterval: number;
  probeTimeout: number;
  announceOnly: boolean;
  nftTable: string;
  metricsBindAddress: string;
  logLevel: string;
}

async function speakerCommand(flags: SpeakerFlags): Promise<void> {
  const nodeName = flags.nodeName ?? process.env.NODE_NAME;
  if (!nodeName) throw new InvalidArgumentError("--node-name (or $NODE_NAME) is required");
  if (flags.peerTimeout <= flags.heartbeatInterval) {
    throw new InvalidArgumentError(`--peer-timeout (${flags.peerTimeout} ms) must exceed --heartbeat-interval (${flags.heartbeatInterval} ms)`);
  }
  if (flags.probeTimeout >= flags.probeInterval) {
    throw new InvalidArgumentError(`--probe-timeout (${flags.probeTimeout} ms) must be below --probe-interval (${flags.probeInterval} ms)`);
  }
  const logger = createLogger(flags.logLevel, "lb-operator-speaker");
  const kubeConfig = new PooledKubeConfig();
  if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  const abort = abortOnSignals(logger);
  const [metricsHost, metricsPort] = splitHostPort(flags.metricsBindAddress);
  const { runSpeaker } = await import("../speaker/run-speaker.js");
  await runSpeaker(
    {
      nodeName,
      classOptions: { loadBalancerClass: flags.loadBalancerClass, isDefaultClass: flags.defaultClass },
      announceOnly: flags.announceOnly,
      interfaces: flags.interface,
      heartbeatPort: flags.heartbeatPort,
      heartbeatIntervalMs: flags.heartbeatInterval,
      peerTimeoutMs: flags.peerTimeout,
      heartbeatSecretFile: flags.heartbeatSecretFile,
      probeIntervalMs: flags.probeInterval,
      probeTimeoutMs: flags.probeTimeout,
      nftTable: flags.nftTable,
      metricsHost,
      metricsPort,
    },
    { kubeConfig, logger, clock: systemClock },
    abort.signal,
  );
}

async function runCommand(flags: RunFlags): Promise<void> {
  const logger = createLogger(flags.logLevel);
  const kubeConfig = new PooledKubeConfig();
  if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  const metrics = new ControllerMetrics();
  const abort = abortOnSignals(logger);

  const resync = new ResyncHub();
  const provider = await createProvider(flags.provider, {
    kubeConfig,
    logger,
    addressPools: flags.addressPool,
    addressPoolFile: flags.addressPoolFile,
    announceOnly: flags.announceOnly,
    awsRegion: flags.awsRegion,
    awsEndpoint: flags.awsEndpoint,
    gceProject: flags.gceProject,
    gceRegion: flags.gceRegion,
    gceNetwork: flags.gceNetwork,
    gceSubnetwork: flags.gceSubnetwork,
    gceNodeTags: flags.gceNodeTags,
    gceVpcRanges: flags.gceVpcRanges,
    gceHealthCheckRanges: flags.gceHealthCheckRanges,
    gceEndpoint: flags.gceEndpoint,
    signal: abort.signal,
    requestResync: () => resync.request(),
  });
  const config: ControllerConfig = {
    clusterId: flags.clusterId,
    classOptions: {
      loadBalancerClass: flags.loadBalancerClass ?? `lb-operator.io/${flags.provider}`,
      isDefaultClass: flags.defaultClass,
    },
    workers: flags.workers,
    driftPeriodMs: flags.driftPeriod,
    instance: flags.identity,
    leaderElection: flags.leaderElect
      ? {
          namespace: flags.leaderElectionNamespace,
          name: flags.leaderElectionId,
          identity: flags.identity,
          leaseDurationMs: flags.leaseDuration,
          renewDeadlineMs: flags.renewDeadline,
          retryPeriodMs: flags.retryPeriod,
        }
      : undefined,
  };
  const state = new ControllerState();
  const [host, port] = splitHostPort(flags.metricsBindAddress);
  const server = await startHttpServer({ host, port, registry: metrics.registry, health: { live: () => true, ready: () => state.ready() } });
  logger.info({ provider: flags.provider, class: config.classOptions, metrics: flags.metricsBindAddress }, "starting");
  const outcome = await runController(config, { kubeConfig, provider, resync, logger, clock: systemClock, metrics }, abort.signal, state);
  server.close();
  if (outcome === "lost") process.exitCode = 1;
  logger.info({ outcome }, "stopped");
}

/** SIGINT/SIGTERM abort the returned controller (a graceful stop); a second signal exits at once. */
function abortOnSignals(logger: Logger): AbortController {
  const abort = new AbortController();
  const onSignal = (sig: string): void => {
    if (abort.signal.aborted) process.exit(130);
    logger.info({ signal: sig }, "shutting down");
    abort.abort(new Error(`received ${sig}`));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  return abort;
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  const port = Number(address.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`invalid bind address "${address}": expected host:port`);
  }
  return [address.slice(0, i).replace(/^\[|\]$/g, "") || "0.0.0.0", port];
}
