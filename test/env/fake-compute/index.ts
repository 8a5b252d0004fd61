/** The fake Compute API for tests: start it, build clients for it, script faults, read its calls and state. */
export { startFakeCompute, type CallFilter, type FakeCompute, type FakeComputeOptions } from "./fake-compute.js";
export { extraClientsFor, fakeAuthClient, fakeClientOptions, gceClientsFor, type FakeEndpoint } from "./clients.js";
export type { FaultBook, HttpFaultOptions, OperationFaultOptions, RecordedCall } from "./faults.js";
export { MAX_PORTS } from "./forwarding-rules.js";
export { LINK_BASE } from "./refs.js";
export { isMutatingMethod } from "./router.js";
export {
  DEFAULT_NETWORKS,
  DEFAULT_ZONES,
  type SeedInstance,
  type SeedNetwork,
  type SeedSubnetwork,
  type SeedZone,
} from "./seed.js";
export { ComputeApiError, type Collection, type ResourceOf } from "./types.js";
