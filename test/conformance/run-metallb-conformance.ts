/**
 * `lb-operator conformance` against MetalLB in the network lab, exactly as conformance-cli-providers.test.ts runs it
 * against our bare-metal provider: the CLI run from the lab's client host (`ip netns exec`), with `--data-path`,
 * a requestable address from the lab pool, an unavailable one outside it, MetalLB's loadBalancerClass and its skip
 * list (conformance/metallb.skips.json). Not part of `npm test`: the MetalLB smoke test is.
 *
 *   node --import tsx test/conformance/run-metallb-conformance.ts --junit docs/conformance/metallb-v0.16.1.junit.xml
 *
 * Exits with the CLI's code (0 all passed, 1 a case failed), 2 when the lab cannot start. The lab and MetalLB are
 * torn down on every exit, also on failure and Ctrl-C; `--keep-logs <dir>` keeps the lab's logs (MetalLB's among
 * them) there.
 * Arguments after `--` go to the CLI as they are (e.g. `-- --focus finalizer`).
 */
import { spawn } from "node:child_process";
import { copyFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { type Lab, startLab } from "../env/lab/lab.js";
import { type LabMetalLb, METALLB_LOAD_BALANCER_CLASS, startLabMetalLb } from "../env/lab/metallb.js";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const SKIP_LIST = fileURLToPath(new URL("../../conformance/metallb.skips.json", import.meta.url));
/** In the lab's VIP range (VIP_RANGE, 192.0.2.100-250), which MetalLB's IPAddressPool covers. */
const REQUESTABLE_ADDRESS = "192.0.2.119";
/** Outside MetalLB's only IPAddressPool (the VIP range): the address it must refuse. */
const UNAVAILABLE_ADDRESS = "203.0.113.77";

interface Flags {
  junit?: string;
  keepLogs?: string;
  timeout: string;
  implementation: string;
}

/** The CLI inside the client's namespace; resolves with its exit code, its output streamed to ours. */
function runCli(lab: Lab, junit: string, flags: Flags, extra: readonly string[]): Promise<number> {
  const args = [
    "netns",
    "exec",
    lab.client.ns,
    process.execPath,
    "--import",
    "tsx",
    MAIN,
    "conformance",
    "--implementation",
    flags.implementation,
    "--skip-list",
    SKIP_LIST,
    "--load-balancer-class",
    METALLB_LOAD_BALANCER_CLASS,
    "--kubeconfig",
    lab.cp.kubeconfigPath,
    "--requestable-address",
    REQUESTABLE_ADDRESS,
    "--unavailable-address",
    UNAVAILABLE_ADDRESS,
    "--data-path",
    "--client-address",
    lab.client.ip,
    "--timeout",
    flags.timeout,
    "--junit",
    junit,
    ...extra,
  ];
  const child = spawn("ip", args, { stdio: ["ignore", "inherit", "inherit"] });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    // Killed by a signal: 128 + its number, as a shell reports it.
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
  });
}

async function main(): Promise<number> {
  const program = new Command("run-metallb-conformance")
    .option("--junit <file>", "copy the run's JUnit XML here")
    .option("--keep-logs <dir>", "keep the lab's logs (MetalLB's among them) in this directory")
    .option("--timeout <duration>", "the CLI's per-case wait", "60s")
    .option("--implementation <name>", "the name the report and JUnit suite carry", "metallb")
    .allowExcessArguments()
    .parse(process.argv);
  const flags = program.opts<Flags>();
  const say = (msg: string): void => void process.stdout.write(`run-metallb-conformance: ${msg}\n`);
  let lab: Lab | undefined;
  let metallb: LabMetalLb | undefined;
  const teardown = async (): Promise<void> => {
    await metallb?.stop().catch(() => undefined);
    await lab?.teardown().catch(() => undefined);
  };
  // Ctrl-C: lab-cleanup.ts's handlers kill every lab process (the CLI in the client namespace, MetalLB, the
  // control plane) and delete the namespaces at once, then let the signal end this process; no JUnit is copied.
  try {
    say("starting the lab (no speakers of ours) and MetalLB");
    lab = await startLab({ startSpeakers: false, ...(flags.keepLogs ? { logDir: flags.keepLogs } : {}) });
    metallb = await startLabMetalLb(lab, { logLevel: "info" });
    say(`MetalLB running; the CLI runs from ${lab.client.ns} (${lab.client.ip})`);
    // In the lab's log directory: removed with the lab (also on Ctrl-C), kept with --keep-logs.
    const junit = join(lab.logDir, "conformance.junit.xml");
    const code = await runCli(lab, junit, flags, program.args);
    if (flags.junit) {
      copyFileSync(junit, flags.junit);
      say(`JUnit XML copied to ${flags.junit}`);
    }
    return code;
  } finally {
    await teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `run-metallb-conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(2);
  },
);
