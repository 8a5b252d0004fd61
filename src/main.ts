#!/usr/bin/env node
// The executable entry point: the only module with work at import time.
import { buildCli } from "./cli/program.js";

buildCli()
  .parseAsync(process.argv)
  // Exit explicitly: pooled keep-alive sockets to the apiserver must not hold a stopped process open.
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err: unknown) => {
    process.stderr.write(`lb-operator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
