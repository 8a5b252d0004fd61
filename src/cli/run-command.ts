/**
 * `lb-operator run`: the controller. Core flags are declared here; each provider plugin adds its own, and the
 * chosen plugin alone reads them.
 */
import { hostname } from "node:os";
import { Command, Option } from "commander";
import { ResyncHub } from "../controller/resync-hub.js";
import { LbOperatorError } from "../errors.js";
import { ControllerMetrics } from "../metrics.js";
import type { ProviderPlugin } from "../provider-plugin.js";
import { type ControllerConfig, ControllerState, runController } from "../run-controller.js";
import {
  abortOnSignals,
  createLogger,
  durationOption,
  loadKubeConfig,
  positiveIntOption,
  splitHostPort,
  startHttpServer,
  systemClock,
} from "../runtime/index.js";

interface CoreRunFlags {
  provider: string;
  kubeconfig?: string;
  loadBalancerClass?: string;
  defaultClass: boolean;
  clusterId: string;
  workers: number;
  driftPeriod: number;
  reconcileTimeout: number;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity: string;
  logLevel: string;
}

/**
 * Long enough for the slowest honest reconcile (an AWS delete retries DependencyViolation for up to 120 s inside one
 * call), short enough that a hung call costs a Service minutes, not forever.
 */
export const DEFAULT_RECONCILE_TIMEOUT_MS = 180_000;

/** Throws DuplicateFlagError when two plugins declare the same flag (commander would silently keep both). */
export function runCommand(plugins: readonly ProviderPlugin[]): Command {
  const command = new Command("run")
    .description("run the controller that reconciles type: LoadBalancer Services")
    .addOption(
      new Option("--provider <name>", "load balancer provider")
        .choices(plugins.map((p) => p.name))
        .makeOptionMandatory(),
    )
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option("--load-balancer-class <class>", "spec.loadBalancerClass handled (default: lb-operator.io/<provider>)")
    .option("--default-class", "also handle Services without spec.loadBalancerClass", false)
    .option("--cluster-id <id>", "cluster id recorded on every resource a provider creates", "default")
    .option("--workers <n>", "Services reconciled concurrently", positiveIntOption, 5)
    .option("--drift-period <duration>", "re-ensure unchanged Services this often", durationOption, 600_000)
    .option(
      "--reconcile-timeout <duration>",
      "cancel a provider ensure or delete that runs longer; the Service gets a Warning and backs off",
      durationOption,
      DEFAULT_RECONCILE_TIMEOUT_MS,
    )
    .option("--metrics-bind-address <host:port>", "address for /metrics, /healthz and /readyz", "0.0.0.0:8080")
    .option("--no-leader-elect", "run without leader election (a single replica)")
    .option("--leader-election-namespace <ns>", "namespace of the leader Lease", "default")
    .option("--leader-election-id <name>", "name of the leader Lease", "lb-operator")
    .option("--lease-duration <duration>", "leader lease duration", durationOption, 15_000)
    .option("--renew-deadline <duration>", "leader gives up after failing to renew this long", durationOption, 10_000)
    .option("--retry-period <duration>", "leader election retry period", durationOption, 2_000)
    .option("--identity <id>", "leader election identity", `${hostname()}_${process.pid}`)
    .option("--log-level <level>", "log level (trace, debug, info, warn, error)", "info");
  const declared = new Set(command.options.map((o) => o.long));
  for (const plugin of plugins) {
    for (const option of plugin.flags()) {
      if (declared.has(option.long)) throw new DuplicateFlagError(plugin.name, option.long ?? option.flags);
      declared.add(option.long);
      command.addOption(option);
    }
  }
  return command.action(async (flags: CoreRunFlags, cmd: Command) => startController(plugins, flags, cmd.opts()));
}

/** A plugin's flag collides with a core flag or another plugin's: a build-time mistake in the plugin list. */
export class DuplicateFlagError extends LbOperatorError {
  constructor(
    readonly plugin: string,
    readonly flag: string,
  ) {
    super(`provider plugin "${plugin}" declares ${flag}, which the run command already has`);
  }
}

async function startController(
  plugins: readonly ProviderPlugin[],
  flags: CoreRunFlags,
  values: Readonly<Record<string, unknown>>,
): Promise<void> {
  const plugin = plugins.find((p) => p.name === flags.provider);
  // commander's choices() already refused any other name.
  if (plugin === undefined) throw new RangeError(`unknown provider "${flags.provider}"`);
  const logger = createLogger(flags.logLevel);
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  const metrics = new ControllerMetrics();
  const abort = abortOnSignals(logger);
  const resync = new ResyncHub();
  const provider = await plugin.create(
    {
      kubeConfig,
      logger,
      signal: abort.signal,
      requestResync: () => resync.request(),
      cloudCalls: metrics.cloudCallObserver(plugin.name),
      metricsRegistry: metrics.registry,
    },
    values,
  );
  const config = controllerConfig(flags);
  const state = new ControllerState();
  const [host, port] = splitHostPort(flags.metricsBindAddress);
  const server = await startHttpServer({
    host,
    port,
    registry: metrics.registry,
    health: { live: () => true, ready: () => state.ready() },
  });
  logger.info({ provider: flags.provider, class: config.classOptions, metrics: flags.metricsBindAddress }, "starting");
  const outcome = await runController(
    config,
    { kubeConfig, provider, resync, logger, clock: systemClock, metrics },
    abort.signal,
    state,
  );
  server.close();
  if (outcome === "lost") process.exitCode = 1;
  logger.info({ outcome }, "stopped");
}

function controllerConfig(flags: CoreRunFlags): ControllerConfig {
  return {
    clusterId: flags.clusterId,
    classOptions: {
      loadBalancerClass: flags.loadBalancerClass ?? `lb-operator.io/${flags.provider}`,
      isDefaultClass: flags.defaultClass,
    },
    workers: flags.workers,
    driftPeriodMs: flags.driftPeriod,
    reconcileTimeoutMs: flags.reconcileTimeout,
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
}
