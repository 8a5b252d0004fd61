/**
 * What `lb-operator conformance` judges: one of our provider plugins (`--provider`, its skip list, class
 * lb-operator.io/<provider> by default) or another implementation of `type: LoadBalancer` (`--implementation`, a
 * skip list from `--skip-list`, and its class, which we cannot guess). Resolved from the flags before anything
 * touches the cluster, so a mistake in them is reported first.
 */
import { LbOperatorError } from "../errors.js";
import { loadSkipList } from "./skip-list-file.js";
import type { SkipEntry } from "./skip-lists.js";

/** The `lb-operator conformance` flags about what is judged, as commander parsed them. */
export interface TargetFlags {
  provider?: string;
  implementation?: string;
  skipList?: string;
  loadBalancerClass?: string;
}

/** A plugin as far as the conformance runner is concerned. */
export interface SkipListSource {
  readonly name: string;
  readonly conformanceSkips: readonly SkipEntry[];
}

export interface ResolvedTarget {
  /** Names the run in the progress lines, the summary and the JUnit suite. */
  readonly name: string;
  readonly loadBalancerClass: string;
  /** The plugin's list (with --provider), then the file's (--skip-list); names are checked by `resolveSkips`. */
  readonly skips: readonly SkipEntry[];
}

/** The flags do not say what to judge, or say it twice (the CLI prints the message and exits 1). */
export class TargetOptionsError extends LbOperatorError {}

export async function resolveTarget(
  flags: TargetFlags,
  plugins: readonly SkipListSource[],
  load: (path: string) => Promise<SkipEntry[]> = loadSkipList,
): Promise<ResolvedTarget> {
  const { provider, implementation } = flags;
  if (provider !== undefined && implementation === undefined) {
    const plugin = plugins.find((p) => p.name === provider);
    if (plugin === undefined) throw new TargetOptionsError(`--provider: no provider plugin "${provider}"`);
    return {
      name: plugin.name,
      loadBalancerClass: flags.loadBalancerClass ?? `lb-operator.io/${plugin.name}`,
      skips: [...plugin.conformanceSkips, ...(await skipsOf(flags, load))],
    };
  }
  if (implementation !== undefined && provider === undefined) {
    if (flags.loadBalancerClass === undefined) {
      throw new TargetOptionsError(
        `--implementation ${implementation} needs --load-balancer-class: the spec.loadBalancerClass it handles`,
      );
    }
    return { name: implementation, loadBalancerClass: flags.loadBalancerClass, skips: await skipsOf(flags, load) };
  }
  throw new TargetOptionsError(
    `give exactly one of --provider <name> (ours: ${plugins.map((p) => p.name).join(", ")}) or --implementation <name> ` +
      "(another implementation, with --load-balancer-class and usually --skip-list)",
  );
}

const skipsOf = async (flags: TargetFlags, load: (path: string) => Promise<SkipEntry[]>): Promise<SkipEntry[]> =>
  flags.skipList === undefined ? [] : load(flags.skipList);
