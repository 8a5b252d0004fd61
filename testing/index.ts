/**
 * The test kit (`import ... from "lb-operator/testing"`): what a provider's own tests build on, the same pieces the
 * project's tests and the conformance suite use. Nothing here starts anything at import.
 */
export { ConformanceTimeoutError, type EventuallyOptions, delay, eventually } from "./eventually.js";
export { KubeTestClient, type KubeTestClientOptions } from "./kube-test-client.js";
