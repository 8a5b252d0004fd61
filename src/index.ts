/**
 * The package's main export (`import ... from "lb-operator"`): what third parties build on. The provider contract
 * and its typed errors, to write a provider; the conformance suite, to judge one against a cluster. Provider
 * implementations have their own subpath exports (`lb-operator/providers/baremetal`).
 */
export type {
  Backends,
  ExistingLoadBalancer,
  HealthCheck,
  IPFamily,
  IngressStatus,
  LoadBalancerId,
  LoadBalancerProvider,
  LoadBalancerSpec,
  LoadBalancerStatus,
  NodeAddress,
  NodeBackend,
  PodEndpoint,
  PortSpec,
  PortStatus,
  Protocol,
  SessionAffinity,
} from "./provider.js";
export {
  InvalidSpecError,
  KubeApiError,
  LbOperatorError,
  ProviderError,
  RetryAfterError,
  errorMessage,
} from "./errors.js";
export {
  type CaseContext,
  type CaseRequirement,
  type ConformanceCase,
  ConformanceKubeClient,
  type DataPathAccess,
  type SkipEntry,
  type SuiteOptions,
  type SuiteResult,
  conformanceCases,
  freshHttpGet,
  resolveSkips,
  runConformanceSuite,
  summaryTable,
  toJUnitXml,
  unmetRequirementSkips,
} from "./conformance/index.js";
export { packageVersion } from "./package-version.js";
export { PROVIDER_PLUGINS, providerSkips } from "./plugins.js";
export type { FlagValues, ProviderContext, ProviderPlugin } from "./provider-plugin.js";
