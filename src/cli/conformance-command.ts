/**
 * `lb-operator conformance`: the provider-neutral suite against a cluster whose controller is running, judged with
 * the chosen provider plugin's skip list, or against another implementation (`--implementation`, e.g. MetalLB) with
 * a skip list from a file (conformance/target.ts).
 */
import { isIP } from "node:net";
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_ECHO_IMAGE } from "../conformance/data-path.js";
import type { ProviderPlugin } from "../provider-plugin.js";
import { durationOption } from "../runtime/index.js";

interface ConformanceFlags {
  provider?: string;
  implementation?: string;
  skipList?: string;
  kubeconfig?: string;
  loadBalancerClass?: string;
  focus?: RegExp;
  skip?: RegExp;
  junit?: string;
  namespacePrefix: string;
  requestableAddress?: string;
  unavailableAddress?: string;
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

/** Becomes part of the JUnit suite and class names, so no spaces or markup. */
const implementationName = (value: string): string => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value))
    throw new InvalidArgumentError(`expected letters, digits, ".", "_" or "-", got "${value}"`);
  return value;
};

export function conformanceCommand(plugins: readonly ProviderPlugin[]): Command {
  return new Command("conformance")
    .description(
      "run the provider-neutral LoadBalancer conformance suite against a cluster whose controller is running",
    )
    .addOption(
      new Option("--provider <name>", "our provider under test (selects its skip list)")
        .choices(plugins.map((p) => p.name))
        .conflicts("implementation"),
    )
    .option(
      "--implementation <name>",
      "instead of --provider: another implementation under test, named in the report (needs --load-balancer-class)",
      implementationName,
    )
    .option(
      "--skip-list <file>",
      "YAML or JSON {skips: [{reason, tests: [case...]}]}: cases that do not apply, each group with its reason",
    )
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option(
      "--load-balancer-class <class>",
      "spec.loadBalancerClass the implementation handles (default with --provider: lb-operator.io/<provider>)",
    )
    .option("--focus <regex>", "run only the cases whose name matches", regex)
    .option("--skip <regex>", "do not run the cases whose name matches", regex)
    .option("--junit <file>", "also write the results as JUnit XML")
    .option("--namespace-prefix <prefix>", "prefix of the namespace each case creates (and deletes)", "lb-conformance")
    .option(
      "--requestable-address <ip>",
      "an address the provider can hand out on request (without it, that case is skipped)",
    )
    .option(
      "--unavailable-address <ip>",
      "an address the implementation cannot hand out, e.g. outside every pool or subnet, to see it refuse the request (without it, that case is skipped)",
      ipAddress,
    )
    .option(
      "--timeout <duration>",
      "how long a case waits for a load balancer (upstream e2e: 2m)",
      durationOption,
      120_000,
    )
    .option(
      "--data-path",
      "also run the cases that send traffic through the load balancer, from where this command runs",
      false,
    )
    .option(
      "--client-address <ip>",
      "with --data-path: the address backends see for this command's requests (required with --data-path)",
      ipAddress,
    )
    .option(
      "--echo-image <ref>",
      "with --data-path: image of the backend pods (agnhost netexec semantics)",
      DEFAULT_ECHO_IMAGE,
    )
    .action(async (flags: ConformanceFlags) => runConformance(plugins, flags));
}

/** Exit code 1 when a case failed, 130 when interrupted; the JUnit file is written in every case. */
async function runConformance(plugins: readonly ProviderPlugin[], flags: ConformanceFlags): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  const conformance = await import("../conformance/index.js");
  // Flags and the skip list first: a mistake in them is reported before the kubeconfig is read.
  const target = await conformance.resolveTarget(flags, plugins);
  const dataPath = conformance.dataPathFromFlags(flags);
  const skips = conformance.resolveSkips([
    ...target.skips,
    ...conformance.unmetRequirementSkips(conformance.conformanceCases, {
      requestableAddress: flags.requestableAddress,
      unavailableAddress: flags.unavailableAddress,
      dataPath,
    }),
  ]);
  // The suite drives the cluster through client-node's typed APIs, so this command (unlike `run`) loads it.
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kubeConfig = new KubeConfig();
  if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromDefault();
  const write = (line: string): void => void process.stdout.write(`${line}\n`);
  const interrupt = conformance.abortOnInterrupt(write);
  try {
    const result = await conformance.runConformanceSuite(
      {
        target: target.name,
        loadBalancerClass: target.loadBalancerClass,
        requestableAddress: flags.requestableAddress,
        unavailableAddress: flags.unavailableAddress,
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
