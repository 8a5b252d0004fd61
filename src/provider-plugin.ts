/**
 * What a provider is to the core: one folder with a `plugin.ts` that exports a ProviderPlugin, and one line in
 * src/plugins.ts. The core knows no provider by name; it reads a plugin's flags, builds its provider, judges it
 * with its conformance skip list and mounts its extra commands (the plug-in registry of k8s.io/cloud-provider's
 * plugins.go, without its global state). docs/providers.md is the guide for writing one.
 */
import type { Command, Option } from "commander";
import type { Logger } from "pino";
import type { CloudCallObserver } from "./cloud-call-observer.js";
import type { Registry } from "prom-client";
import type { KubeConfigData } from "./kube/kube-config-loader.js";
import type { SkipEntry } from "./conformance/skip-lists.js";
import type { LoadBalancerProvider } from "./provider.js";

/** What the running controller gives every provider factory, whichever provider it is. */
export interface ProviderContext {
  /** The controller's cluster; `KubeConnection.from(kubeConfig)` gives its shared connection pool. */
  readonly kubeConfig: KubeConfigData;
  readonly logger: Logger;
  /** Aborts when the process shuts down; providers stop their own watches with it. */
  readonly signal: AbortSignal;
  /** Ask the controller to reconcile every Service again (e.g. address pools changed). */
  readonly requestResync: () => void;
  /**
   * Where a cloud provider reports every API request it sends (ControllerMetrics.cloudCallObserver, already
   * labelled with the provider's name). Undefined: the calls are not observed (tests, tools).
   */
  readonly cloudCalls?: CloudCallObserver;
  /** The controller's /metrics registry, where a provider may register its own gauges (bare metal's pool usage). */
  readonly metricsRegistry?: Registry;
}

/** The `lb-operator run` flag values, keyed by commander's camel-cased attribute name (`--gce-region` -> gceRegion). */
export type FlagValues = Readonly<Record<string, unknown>>;

export interface ProviderPlugin {
  /** `--provider <name>`, the default class `lb-operator.io/<name>`, the conformance `--provider`. */
  readonly name: string;
  /**
   * Options this provider adds to `lb-operator run`. By convention their long names start with the provider's name
   * (`--gce-region`); two plugins declaring the same flag is an error when the command line is built.
   */
  readonly flags: () => readonly Option[];
  /**
   * Builds the provider from every `run` flag value. The plugin validates its own flags (a zod schema is the usual
   * way) and throws on bad input, so a mistake fails the process at start. Import SDKs here, lazily: running one
   * provider never loads another's.
   */
  readonly create: (context: ProviderContext, flags: FlagValues) => Promise<LoadBalancerProvider>;
  /** Conformance cases this provider does not run, each group with a reason a reader can check. */
  readonly conformanceSkips: readonly SkipEntry[];
  /** Extra top-level commands (bare metal's `speaker`). Building them must do no work. */
  readonly commands?: () => readonly Command[];
}
