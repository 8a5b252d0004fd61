/**
 * The `lb-operator` command line: `run` and `conformance` from the core, plus every plugin's own commands. The plugin
 * list is a parameter so a test (or a distribution with its own providers) builds the same program around other
 * plugins without editing the core. Building it does nothing; `parseAsync` runs the chosen command.
 */
import { Command } from "commander";
import { PROVIDER_PLUGINS } from "../plugins.js";
import type { ProviderPlugin } from "../provider-plugin.js";
import { packageVersion } from "../runtime/index.js";
import { conformanceCommand } from "./conformance-command.js";
import { runCommand } from "./run-command.js";

export function buildCli(plugins: readonly ProviderPlugin[] = PROVIDER_PLUGINS): Command {
  const program = new Command("lb-operator")
    .description("Kubernetes LoadBalancer operator")
    .version(packageVersion(), "-V, --version", "print the version and exit")
    .showHelpAfterError();
  program.addCommand(runCommand(plugins));
  for (const plugin of plugins) for (const command of plugin.commands?.() ?? []) program.addCommand(command);
  program.addCommand(conformanceCommand(plugins));
  return program;
}
