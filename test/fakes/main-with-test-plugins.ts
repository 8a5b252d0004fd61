// `lb-operator` with the test plugins mounted beside the shipped ones: the same core, a longer plugin list.
import { buildCli } from "../../src/cli/program.js";
import { PROVIDER_PLUGINS } from "../../src/plugins.js";
import { recordingPlugin } from "./recording-plugin.js";

buildCli([...PROVIDER_PLUGINS, recordingPlugin])
  .parseAsync(process.argv)
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    process.stderr.write(`lb-operator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
