/**
 * The provider toolkit (`lb-operator/toolkit`): what every provider needs and no provider should write again:
 * one retry policy for cloud calls, one annotation reader, one IP module, one way to quote user input into a message. No cloud SDK is imported here.
 */
export {
  AnnotationReader,
  MAX_ANNOTATION_VALUE_BYTES,
  annotationField,
  checkAnnotationSize,
  isIntInRange,
} from "./annotation-reader.js";
export type { AnnotationValue, Annotations, IntRange } from "./annotation-reader.js";
export { DEFAULT_ATTEMPTS, THROTTLE_RETRY_AFTER_MS, cloudCall } from "./cloud-call.js";
export type { CloudCallOptions, CloudErrors, CloudFailure } from "./cloud-call.js";
export { parseGoBool } from "./go-bool.js";
export {
  FAMILY_BITS,
  canonicalIP,
  compareCIDRs,
  compareIPs,
  formatCIDR,
  formatIP,
  formatIPValue,
  fromBigInt,
  ipFamilyOf,
  ipv4ToNumber,
  parseCIDR,
  parseIP,
  parseIPValue,
  parseIPv4,
  toBigInt,
  unmapIPv4,
} from "./ip.js";
export type { CIDR, IPAddress, IPValue } from "./ip.js";
export { QUOTE_MAX_CHARS, capBytes, quote } from "../util/quote.js";
export {
  InvalidSpecError,
  KubeApiError,
  LbOperatorError,
  ProviderError,
  RetryAfterError,
  errorMessage,
} from "../errors.js";
