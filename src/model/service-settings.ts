/**
 * The small scalar parts of a LoadBalancerSpec, each defaulted the way the apiserver defaults it, so a Service read
 * from an older or hand-built object derives the same spec as a freshly defaulted one.
 */
import type { V1Service } from "@kubernetes/client-node";
import { InvalidSpecError } from "../errors.js";
import { quote } from "../util/quote.js";
import type { HealthCheck, IPFamily, SessionAffinity } from "../provider.js";

/** k8s.io/api core/v1 DefaultClientIPServiceAffinitySeconds (3 hours). */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;
/** k8s.io/api core/v1 MaxClientIPServiceAffinitySeconds (1 day), the apiserver's upper bound. */
const MAX_CLIENT_IP_TIMEOUT_SECONDS = 86400;
/** kube-proxy's --healthz-bind-address default port; /healthz fails on draining nodes (KEP-3836). */
export const KUBE_PROXY_HEALTHZ_PORT = 10256;

export type ExternalTrafficPolicy = "Cluster" | "Local";

/** spec.ipFamilies, defaulting to ["IPv4"] (single-stack, the apiserver default in an IPv4 cluster). */
export function deriveIPFamilies(svc: V1Service): IPFamily[] {
  const families = svc.spec?.ipFamilies ?? [];
  if (families.length === 0) return ["IPv4"];
  if (families.length > 2)
    throw new InvalidSpecError("spec.ipFamilies", `at most two families, got ${families.length}`);
  return families.map((f, i) => {
    if (f !== "IPv4" && f !== "IPv6")
      throw new InvalidSpecError(`spec.ipFamilies[${i}]`, `unknown IP family ${quote(f)}; want IPv4 or IPv6`);
    if (families.indexOf(f) !== i)
      throw new InvalidSpecError(`spec.ipFamilies[${i}]`, `duplicate IP family ${quote(f)}`);
    return f;
  });
}

/** spec.externalTrafficPolicy, defaulting to Cluster as the apiserver does for LoadBalancer Services. */
export function deriveExternalTrafficPolicy(svc: V1Service): ExternalTrafficPolicy {
  const policy = svc.spec?.externalTrafficPolicy ?? "";
  if (policy === "") return "Cluster";
  if (policy === "Cluster" || policy === "Local") return policy;
  throw new InvalidSpecError("spec.externalTrafficPolicy", `unknown policy ${quote(policy)}; want Cluster or Local`);
}

/** spec.sessionAffinity; ClientIP's timeout defaults to 10800 s and must be 1-86400 (apiserver validation). */
export function deriveSessionAffinity(svc: V1Service): SessionAffinity {
  const type = svc.spec?.sessionAffinity ?? "None";
  if (type === "None" || type === "") return { type: "None" };
  if (type !== "ClientIP")
    throw new InvalidSpecError(
      "spec.sessionAffinity",
      `unknown session affinity ${quote(type)}; want None or ClientIP`,
    );
  const timeoutSeconds = svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_CLIENT_IP_TIMEOUT_SECONDS) {
    throw new InvalidSpecError(
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
      `${timeoutSeconds} is outside 1-${MAX_CLIENT_IP_TIMEOUT_SECONDS}`,
    );
  }
  return { type: "ClientIP", timeoutSeconds };
}

/**
 * Pod mode: a TCP connect to each endpoint's target port (there is no kube-proxy on the path).
 * Local: HTTP /healthz on healthCheckNodePort, where kube-proxy answers 200 only on nodes with local endpoints
 * (cloud-provider service/helpers GetServiceHealthCheckPathPort); the apiserver allocates it, so its absence
 * means the Service is not really Local.
 * Cluster: kube-proxy's own :10256/healthz (KEP-3836), which also fails on nodes being drained.
 */
export function deriveHealthCheck(svc: V1Service, podMode: boolean, policy: ExternalTrafficPolicy): HealthCheck {
  if (podMode) return { kind: "tcp", source: "targetPort" };
  if (policy === "Cluster")
    return { kind: "http", source: "kubeProxy", port: KUBE_PROXY_HEALTHZ_PORT, path: "/healthz" };
  const port = svc.spec?.healthCheckNodePort;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidSpecError(
      "spec.healthCheckNodePort",
      "externalTrafficPolicy Local needs a healthCheckNodePort (1-65535)",
    );
  }
  return { kind: "http", source: "healthCheckNodePort", port, path: "/healthz" };
}

/** A fresh, frozen copy with keys sorted, so key order never changes the controller's hash of the spec. */
export function copyAnnotations(svc: V1Service): Readonly<Record<string, string>> {
  return sortedFrozenCopy(svc.metadata?.annotations);
}

/** The Service's labels, as a sorted frozen copy (deterministic for hashing). */
export function copyLabels(svc: V1Service): Readonly<Record<string, string>> {
  return sortedFrozenCopy(svc.metadata?.labels);
}

/** The pod selector, as a sorted frozen copy (deterministic for hashing). */
export function copySelector(svc: V1Service): Readonly<Record<string, string>> {
  return sortedFrozenCopy(svc.spec?.selector);
}

function sortedFrozenCopy(source: Readonly<Record<string, string>> = {}): Readonly<Record<string, string>> {
  const copy: Record<string, string> = {};
  for (const key of Object.keys(source).sort()) {
    const value = source[key];
    if (value !== undefined) Object.defineProperty(copy, key, { value, enumerable: true });
  }
  return Object.freeze(copy);
}
