#!/usr/bin/env node
// The speaker's own executable (`lb-operator-speaker`): the only speaker module with work at import time.
import { packageVersion } from "../src/runtime/index.js";
import { speakerCommand } from "./speaker-command.js";

speakerCommand("lb-operator-speaker")
  .version(packageVersion(), "-V, --version", "print the version and exit")
  .showHelpAfterError()
  .parseAsync(process.argv)
  // Exit explicitly: pooled keep-alive sockets to the apiserver must not hold a stopped process open.
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    process.stderr.write(`lb-operator-speaker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
