/**
 * The providers this product ships: the one place the core names them. Adding a provider is its folder and one
 * line here (docs/providers.md). Each plugin module is light: a provider's SDK loads only when it is chosen.
 */
import { awsPlugin } from "../providers/aws/plugin.js";
import { baremetalPlugin } from "../providers/baremetal/plugin.js";
import { gcePlugin } from "../providers/gce/plugin.js";
import type { SkipEntry } from "./conformance/skip-lists.js";
import type { ProviderPlugin } from "./provider-plugin.js";

export const PROVIDER_PLUGINS: readonly ProviderPlugin[] = [baremetalPlugin, awsPlugin, gcePlugin];

/** The skip list of every shipped provider, by name; the conformance test suites (test/conformance/) use the same lists. */
export const providerSkips: Readonly<Record<string, readonly SkipEntry[]>> = Object.fromEntries(
  PROVIDER_PLUGINS.map((plugin) => [plugin.name, plugin.conformanceSkips]),
);
