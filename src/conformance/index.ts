export { type CaseContext, type ConformanceCase, conformanceCases } from "./cases.js";
export { ConformanceTimeoutError, delay, eventually } from "./eventually.js";
export { toJUnitXml, escapeXml } from "./junit.js";
export { ConformanceKubeClient } from "./kube-client.js";
export type { CaseResult, SuiteResult } from "./results.js";
export { ConformanceInterruptedError, type SuiteOptions, abortOnInterrupt, runConformanceSuite, summaryTable } from "./runner.js";
export {
  CONFORMANCE_PROVIDERS,
  type ConformanceProvider,
  type SkipEntry,
  UnknownCaseError,
  providerSkips,
  resolveSkips,
  unmetRequirementSkips,
} from "./skip-lists.js";
