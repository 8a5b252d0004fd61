/** Public API of the bare-metal provider (package export "./providers/baremetal"). */
export {
  BaremetalProvider,
  BAREMETAL_PROVIDER_NAME,
  allocationKey,
  backendKeyFor,
  type BaremetalProviderOptions,
} from "./baremetal-provider.js";
export { AddressAllocator, type AllocatorOptions } from "./allocator.js";
export type {
  Allocation,
  AllocationIssue,
  AllocationRequest,
  AssignedAddress,
  PoolUsage,
  PortKey,
  RestoreRequest,
} from "./allocation-types.js";
export { addressPoolSchema, describePool, parseAddressPool, validatePools, type AddressPool } from "./address-pool.js";
export { loadPoolFile, loadPools, parsePoolDocument, parsePoolFlags, type PoolSources } from "./pool-config.js";
export {
  ADDRESS_POOL_API_VERSION,
  ADDRESS_POOL_GROUP,
  ADDRESS_POOL_KIND,
  ADDRESS_POOL_PLURAL,
  ADDRESS_POOL_VERSION,
  poolFromCustomObject,
  poolsFromCustomObjects,
  type CustomPoolsResult,
  type RejectedPool,
} from "./crd-pool.js";
export {
  ANNOTATION_ADDRESS_POOL,
  ANNOTATION_ALIASES,
  ANNOTATION_ALLOW_SHARED_IP,
  annotationField,
  annotationValue,
  parseBaremetalAnnotations,
  type AnnotationValue,
  type BaremetalAnnotations,
} from "./annotations.js";
export {
  ALLOCATION_RETRY_AFTER_MS,
  AddressInUseError,
  AddressNotInPoolError,
  InvalidPoolError,
  NoSuitablePoolError,
  PoolExhaustedError,
  PoolScopeError,
  PortCollisionError,
  UnknownPoolError,
} from "./baremetal-errors.js";
export type { ServiceAllocation } from "./address-pool.js";
export type { LabelSelector } from "./label-selector.js";
export type { ServiceIdentity } from "./pool-scope.js";
