/**
 * The test kit (`import ... from "lb-operator/testing"`): what a provider's own tests build on, the same pieces the
 * project's tests and the conformance suite use. Nothing here starts anything at import.
 */
export { ConformanceTimeoutError, type EventuallyOptions, delay, eventually } from "./eventually.js";
export { KubeTestClient, type KubeTestClientOptions } from "./kube-test-client.js";
export {
  newSpec,
  newSpecId,
  newSpecInputs,
  type NewSpecOptions,
  type SpecEndpoint,
  type SpecInputs,
  type SpecNode,
  type SpecPort,
} from "./new-spec.js";
export {
  CallLog,
  InjectedCallError,
  type MakeProviderTestWorld,
  type ProviderTestWorld,
  type RecordedCall,
} from "./call-recorder.js";
export {
  CONTRACT_RULES,
  ContractViolationError,
  checkContractRule,
  type ContractRule,
  type ContractRuleOptions,
} from "./contract-rules.js";
export { describeProviderContract, type ProviderContractOptions } from "./contract-suite.js";
export { ExpectedInvalidSpecError, invalidSpecField } from "./invalid-spec.js";
