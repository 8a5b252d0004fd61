/**
 * The speaker program's command line. `lb-operator-speaker` (speaker/main.ts) runs it as its own program; the
 * bare-metal plugin also mounts it as `lb-operator speaker`, so one image serves the controller and the DaemonSet.
 * Building the command does no work; the runtime is loaded when it runs.
 */
import { Command, InvalidArgumentError } from "commander";
import {
  abortOnSignals,
  createLogger,
  durationOption,
  loadKubeConfig,
  portOption,
  repeatableOption,
  splitHostPort,
  systemClock,
} from "../src/runtime/index.js";
// Not membership-options.js: that loads the core's index, and this module loads with the CLI (src/plugins.ts).
import { DEFAULT_MAX_CLOCK_SKEW_MS, MIN_KEY_BYTES } from "./membership/heartbeat-defaults.js";
import type { PlacementSource } from "./pool-placement.js";

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
  insecureUnsignedHeartbeats: boolean;
  heartbeatMaxClockSkew: number;
  probeInterval: number;
  probeTimeout: number;
  announceOnly: boolean;
  nftTable: string;
  metricsBindAddress: string;
  logLevel: string;
  addressPool?: string[];
  addressPoolFile?: string;
}

export interface SpeakerCommandOptions {
  /** Reads address pools for placement (nodeSelectors, interfaces); the bare-metal plugin passes it. */
  readonly placement?: PlacementSource;
}

export function speakerCommand(name = "speaker", options: SpeakerCommandOptions = {}): Command {
  const command = new Command(name)
    .description("bare metal: answer ARP for Service addresses and forward their traffic (runs on every node)")
    .option("--node-name <name>", "this node's name (default: $NODE_NAME)")
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option("--load-balancer-class <class>", "spec.loadBalancerClass handled", "lb-operator.io/baremetal")
    .option("--default-class", "also handle Services without spec.loadBalancerClass", false)
    .option(
      "--interface <name>",
      "answer ARP on this interface only, repeatable (default: every eligible interface)",
      repeatableOption,
      [],
    )
    .option("--heartbeat-port <port>", "UDP port speakers heartbeat each other on", portOption, 7946)
    .option("--heartbeat-interval <duration>", "how often a speaker heartbeats every peer", durationOption, 100)
    .option(
      "--peer-timeout <duration>",
      "a speaker not heard from for this long is dead and loses its addresses",
      durationOption,
      500,
    )
    .option(
      "--heartbeat-secret-file <path>",
      `shared key (at least ${MIN_KEY_BYTES} bytes): heartbeats are HMAC-signed and others dropped; required unless ` +
        "--insecure-unsigned-heartbeats",
    )
    .option(
      "--insecure-unsigned-heartbeats",
      "run without a key: anyone who can reach the heartbeat port can forge heartbeats and move addresses",
      false,
    )
    .option(
      "--heartbeat-max-clock-skew <duration>",
      "heartbeats stamped further than this from this node's clock are dropped (node clocks must agree within it)",
      durationOption,
      DEFAULT_MAX_CLOCK_SKEW_MS,
    )
    .option("--probe-interval <duration>", "backend health check interval", durationOption, 1_000)
    .option("--probe-timeout <duration>", "backend health check timeout (below the interval)", durationOption, 500)
    .option(
      "--announce-only",
      "answer ARP only and leave forwarding to kube-proxy (MetalLB-compatible, ipMode VIP)",
      false,
    )
    .option("--nft-table <name>", "the nftables table (family ip) the speaker owns", "lb-operator")
    .option("--metrics-bind-address <host:port>", "address for /metrics, /healthz and /readyz", "0.0.0.0:9473")
    .option("--log-level <level>", "log level (trace, debug, info, warn, error)", "info")
    .action(async (flags: SpeakerFlags) => runSpeakerCommand(flags, options.placement));
  if (options.placement !== undefined) {
    // Only where pools can be read (the bare-metal plugin's `lb-operator speaker`): placement comes from pools.
    command
      .option(
        "--address-pool <name=range>",
        "an address pool as the controller has it, repeatable (for its nodeSelectors and interfaces)",
        repeatableOption,
        [],
      )
      .option("--address-pool-file <path>", "a YAML file with address pools, as the controller's (for placement)");
  }
  return command;
}

async function runSpeakerCommand(flags: SpeakerFlags, placementSource: PlacementSource | undefined): Promise<void> {
  const nodeName = flags.nodeName ?? process.env.NODE_NAME;
  if (!nodeName) throw new InvalidArgumentError("--node-name (or $NODE_NAME) is required");
  if (flags.peerTimeout <= flags.heartbeatInterval) {
    throw new InvalidArgumentError(
      `--peer-timeout (${flags.peerTimeout} ms) must exceed --heartbeat-interval (${flags.heartbeatInterval} ms)`,
    );
  }
  checkHeartbeatFlags(flags);
  if (flags.probeTimeout >= flags.probeInterval) {
    throw new InvalidArgumentError(
      `--probe-timeout (${flags.probeTimeout} ms) must be below --probe-interval (${flags.probeInterval} ms)`,
    );
  }
  const logger = createLogger(flags.logLevel, "lb-operator-speaker");
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  const abort = abortOnSignals(logger);
  const [metricsHost, metricsPort] = splitHostPort(flags.metricsBindAddress);
  const { runSpeaker } = await import("./run-speaker.js");
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
      heartbeatMaxClockSkewMs: flags.heartbeatMaxClockSkew,
      probeIntervalMs: flags.probeInterval,
      probeTimeoutMs: flags.probeTimeout,
      nftTable: flags.nftTable,
      metricsHost,
      metricsPort,
      addressPools: flags.addressPool ?? [],
      addressPoolFile: flags.addressPoolFile,
      placementSource,
    },
    { kubeConfig, logger, clock: systemClock },
    abort.signal,
  );
}

/**
 * Signed heartbeats by default: without a key anyone on the node network can forge a heartbeat and move addresses
 * (issue 15), so running unsigned must be asked for by name. The key's length is checked when it is read
 * (membership/heartbeat-key.ts).
 */
function checkHeartbeatFlags(flags: SpeakerFlags): void {
  if (flags.heartbeatSecretFile !== undefined && flags.insecureUnsignedHeartbeats) {
    throw new InvalidArgumentError("--heartbeat-secret-file and --insecure-unsigned-heartbeats exclude each other");
  }
  if (flags.heartbeatSecretFile === undefined && !flags.insecureUnsignedHeartbeats) {
    throw new InvalidArgumentError(
      `--heartbeat-secret-file is required: a file of at least ${MIN_KEY_BYTES} random bytes shared by every ` +
        "speaker (or pass --insecure-unsigned-heartbeats to accept forged heartbeats)",
    );
  }
  if (!(flags.heartbeatMaxClockSkew > 0)) {
    throw new InvalidArgumentError("--heartbeat-max-clock-skew must be above zero");
  }
}
