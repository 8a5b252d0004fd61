/**
 * The recording test provider registered exactly as a shipped provider is: a plugin with its own flag, built by
 * the core's `run` command. test/fakes/main-with-test-plugins.ts mounts it next to the shipped plugins.
 */
import { Option } from "commander";
import { z } from "zod";
import { dataPathSkip } from "../../src/conformance/skip-lists.js";
import type { ProviderPlugin } from "../../src/provider-plugin.js";
import { RecordingProvider } from "./recording-provider.js";

const recordingFlags = z.object({ recordingIpMode: z.enum(["VIP", "Proxy"]).default("VIP") });

export const recordingPlugin: ProviderPlugin = {
  name: "recording",
  flags: () => [
    new Option("--recording-ip-mode <mode>", "recording: the ipMode every ensure reports")
      .choices(["VIP", "Proxy"])
      .default("VIP"),
  ],
  create: async (_context, values) => {
    const provider = new RecordingProvider();
    provider.ipMode = recordingFlags.parse(values).recordingIpMode;
    return provider;
  },
  conformanceSkips: [
    {
      reason: "the recording provider hands out addresses from a fixed range and ignores requested ones",
      tests: ["honours a requested address in spec.loadBalancerIP"],
    },
    dataPathSkip("the recording provider only records calls: no load balancer forwards traffic"),
  ],
};
