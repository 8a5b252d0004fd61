/**
 * The AWS provider (NLB and classic ELB) as the core sees it. The SDK clients load only when `create` runs.
 */
import { Option } from "commander";
import { z } from "zod";
import { durationOption } from "../../src/runtime/index.js";
import type { ProviderPlugin } from "../../src/provider-plugin.js";

const awsFlags = z.object({
  awsRegion: z.string().optional(),
  awsEndpoint: z.string().optional(),
  awsConnectTimeout: z.number().positive().optional(),
  awsRequestTimeout: z.number().positive().optional(),
});

export const awsPlugin: ProviderPlugin = {
  name: "aws",
  flags: () => [
    new Option("--aws-region <region>", "aws: region (default: AWS_REGION or the profile's)"),
    new Option("--aws-endpoint <url>", "aws: endpoint override for every AWS API, e.g. an emulator (default: AWS)"),
    new Option(
      "--aws-connect-timeout <duration>",
      "aws: give up connecting to an AWS endpoint after this (default: 5s)",
    ).argParser(durationOption),
    new Option(
      "--aws-request-timeout <duration>",
      "aws: give up on one AWS request after this, answer included (default: 30s)",
    ).argParser(durationOption),
  ],
  create: async (context, values) => {
    const flags = awsFlags.parse(values);
    const { createAwsProvider } = await import("./create-aws-provider.js");
    return createAwsProvider({
      logger: context.logger,
      awsRegion: flags.awsRegion,
      awsEndpoint: flags.awsEndpoint,
      awsConnectTimeoutMs: flags.awsConnectTimeout,
      awsRequestTimeoutMs: flags.awsRequestTimeout,
      cloudCalls: context.cloudCalls,
    });
  },
  conformanceSkips: [
    {
      reason:
        "AWS picks load balancer addresses; a requested address is rejected (as cloud-provider-aws does): an NLB takes Elastic IPs by annotation instead",
      tests: ["honours a requested address in spec.loadBalancerIP"],
    },
    {
      reason:
        "without NodePorts a Service needs an NLB with ip targets and ready pod endpoints; the provider-neutral case has neither the annotation nor pods (aws-provider.test.ts covers ip targets)",
      tests: ["should be able to create LoadBalancer Service without NodePort and change it"],
    },
  ],
};
