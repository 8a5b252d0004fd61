/**
 * How the container image runs Node (the Dockerfile's `ENV` lines and the `node` flags of its ENTRYPOINT), so a bench
 * runs our controller exactly as production does and a change to the image's runtime tuning is measured, not
 * assumed. Read from the Dockerfile itself: one place to change, no copy to drift.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ProductionRuntime {
  /** Environment variables the image sets for the runtime (MALLOC_ARENA_MAX, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Flags given to node before the script, from the ENTRYPOINT. */
  readonly nodeArgs: readonly string[];
}

/** Variables that tune the runtime; the build-time ones (npm_config_*) are not. */
const RUNTIME_ENV = /^(MALLOC_\w+|NODE_OPTIONS|UV_THREADPOOL_SIZE)$/;

export function productionRuntime(repo: string): ProductionRuntime {
  return parseDockerfile(readFileSync(join(repo, "Dockerfile"), "utf8"));
}

/** The final stage's runtime ENV and the ENTRYPOINT's node flags. Throws when the ENTRYPOINT is not `node ...`. */
export function parseDockerfile(text: string): ProductionRuntime {
  const stages = text.split(/^FROM /m);
  const last = stages[stages.length - 1] ?? "";
  const env: Record<string, string> = {};
  for (const m of last.matchAll(/^ENV\s+(\w+)[=\s]+(\S+)\s*$/gm)) {
    const [, name, value] = m;
    if (name && value !== undefined && RUNTIME_ENV.test(name)) env[name] = value;
  }
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(last);
  const argv = entry?.[1] ? (JSON.parse(entry[1]) as unknown) : undefined;
  if (!Array.isArray(argv) || argv[0] !== "node" || !argv.every((a) => typeof a === "string")) {
    throw new Error(`Dockerfile: expected an exec-form ENTRYPOINT ["node", ...flags, script], got ${entry?.[1]}`);
  }
  const flags = argv.slice(1).filter((a) => a.startsWith("--"));
  return { env, nodeArgs: flags };
}
