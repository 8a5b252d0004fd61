export { type CaseContext, type CaseRequirement, type ConformanceCase, conformanceCases } from "./cases.js";
export {
  DEFAULT_ECHO_IMAGE,
  type DataPathAccess,
  type DataPathFlags,
  DataPathOptionsError,
  type DataPathResponse,
  dataPathFromFlags,
  freshHttpGet,
} from "./data-path.js";
export { dataPathCases } from "./data-path-cases.js";
export { type EchoPod, NoEligibleNodeError, echoPod, eligibleNodes } from "./echo-pods.js";
export { ConformanceTimeoutError, delay, eventually } from "../../testing/eventually.js";
export { toJUnitXml, escapeXml } from "./junit.js";
export { ConformanceKubeClient } from "./kube-client.js";
export { SkipListFileError, loadSkipList, parseSkipList } from "./skip-list-file.js";
export {
  type ResolvedTarget,
  type SkipListSource,
  type TargetFlags,
  TargetOptionsError,
  resolveTarget,
} from "./target.js";
export type { CaseResult, SuiteResult } from "./results.js";
export {
  ConformanceInterruptedError,
  type SuiteOptions,
  abortOnInterrupt,
  runConformanceSuite,
  summaryTable,
} from "./runner.js";
export {
  type GivenInputs,
  type SkipEntry,
  UNMET_REQUIREMENT_REASONS,
  UnknownCaseError,
  dataPathSkip,
  resolveSkips,
  unmetRequirementSkips,
} from "./skip-lists.js";
