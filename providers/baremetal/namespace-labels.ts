/**
 * Namespace labels for pools limited by `serviceAllocation.namespaceSelectors` (MetalLB resolves those selectors
 * against the namespace list too: MLB internal/config/config.go addressPoolServiceAllocationsFromCR). Started in
 * the background: until the first list (or without RBAC for namespaces) labels are unknown and such pools serve
 * only the namespaces they list by name.
 */
import type { V1Namespace } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ResilientInformer } from "../../src/kube/informer.js";
import type { KubeConfigData } from "../../src/kube/kube-config-loader.js";
import type { Clock } from "../../src/util/clock.js";
import type { Labels } from "./label-selector.js";

export interface NamespaceLabelsOptions {
  readonly kubeConfig: KubeConfigData;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** A namespace appeared, went, or changed its labels (after the first list). */
  readonly onChange: () => void;
}

export interface NamespaceLabels {
  /** undefined until the first list, and for namespaces not seen. */
  readonly labelsOf: (namespace: string) => Labels | undefined;
}

export function watchNamespaceLabels(options: NamespaceLabelsOptions): NamespaceLabels {
  const seen = new Map<string, string>();
  let synced = false;
  const changed = (ns: V1Namespace, deleted = false): void => {
    const name = ns.metadata?.name;
    if (name === undefined) return;
    const labels = deleted ? undefined : JSON.stringify(ns.metadata?.labels ?? {});
    if (seen.get(name) === labels) return;
    if (labels === undefined) seen.delete(name);
    else seen.set(name, labels);
    if (synced) options.onChange();
  };
  const informer = new ResilientInformer<V1Namespace>({
    resource: "namespaces",
    path: "/api/v1/namespaces",
    kubeConfig: options.kubeConfig,
    logger: options.logger,
    clock: options.clock,
    handlers: {
      onAdd: (ns) => changed(ns),
      onUpdate: (ns) => changed(ns),
      onDelete: (ns) => changed(ns, true),
    },
  });
  informer.start().then(
    () => {
      synced = true;
      options.onChange();
    },
    (err: unknown) => options.logger.warn({ err }, "namespace labels unavailable: namespaceSelectors match nothing"),
  );
  options.signal.addEventListener("abort", () => void informer.stop(), { once: true });
  return {
    labelsOf: (namespace) => {
      if (!synced) return undefined;
      const ns = informer.get(namespace);
      return ns === undefined ? undefined : (ns.metadata?.labels ?? {});
    },
  };
}
