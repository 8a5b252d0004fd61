/**
 * `lb-operator conformance`: the provider-neutral suite against a cluster whose controller is running, judged with
 * the chosen provider plugin's skip list.
 */
import { isIP } from "node:net";
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_ECHO_IMAGE } from "../conformance/data-path.js";
import type { ProviderPlugin } from "../provider-plugin.js";
import { durationOption, loadKubeConfig } from "../runtime/index.js";

interface ConformanceFlags {
  provider: string;
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

export function conformanceCommand(plugins: readonly ProviderPlugin[]): Command {
  return new Command("conformance")
    .description(
      "run the provider-neutral LoadBalancer conformance suite against a cluster whose controller is running",
    )
    .addOption(
      new Option("--provider <name>", "provider under test (selects its skip list)")
        .choices(plugins.map((p) => p.name))
        .makeOptionMandatory(),
    )
    .option("--kubeconfig <path>", "kubeconfig file (default: in-cluster config, then $KUBECONFIG)")
    .option(
      "--load-balancer-class <class>",
      "spec.loadBalancerClass the controller handles (default: lb-operator.io/<provider>)",
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
  // Flags first: a mistake in them is reported before the kubeconfig is read.
  const dataPath = conformance.dataPathFromFlags(flags);
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  const skips = conformance.resolveSkips([
    ...(plugins.find((p) => p.name === flags.provider)?.conformanceSkips ?? []),
    ...conformance.unmetRequirementSkips(conformance.conformanceCases, {
      requestableAddress: flags.requestableAddress,
      dataPath,
    }),
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
