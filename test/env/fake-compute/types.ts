/**
 * Types of the fake Compute API (test/env/fake-compute/). Every stored resource and every response is typed by
 * the client's own proto interfaces (`protos.google.cloud.compute.v1.I*` from @google-cloud/compute 7.8), so a
 * misspelt or renamed field is a compile error rather than a silent shape drift between the fake and the client.
 */
import type { protos } from "@google-cloud/compute";
import { LbOperatorError } from "../../../src/errors.js";

type V1 = typeof protos.google.cloud.compute.v1;
export type Address = protos.google.cloud.compute.v1.IAddress;
export type BackendService = protos.google.cloud.compute.v1.IBackendService;
export type Firewall = protos.google.cloud.compute.v1.IFirewall;
export type ForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;
export type HealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
export type Instance = protos.google.cloud.compute.v1.IInstance;
export type InstanceGroup = protos.google.cloud.compute.v1.IInstanceGroup;
export type InstanceWithNamedPorts = protos.google.cloud.compute.v1.IInstanceWithNamedPorts;
export type Network = protos.google.cloud.compute.v1.INetwork;
export type Operation = protos.google.cloud.compute.v1.IOperation;
export type Subnetwork = protos.google.cloud.compute.v1.ISubnetwork;
export type Zone = protos.google.cloud.compute.v1.IZone;
export type OperationStatus = keyof V1["Operation"]["Status"];

/** The collections the fake stores, named as in the REST paths. */
export type Collection =
  | "addresses"
  | "backendServices"
  | "firewalls"
  | "forwardingRules"
  | "healthChecks"
  | "instanceGroups"
  | "instances"
  | "networks"
  | "subnetworks"
  | "zones";

/** What each collection stores. */
export interface ResourceOf {
  addresses: Address;
  backendServices: BackendService;
  firewalls: Firewall;
  forwardingRules: ForwardingRule;
  healthChecks: HealthCheck;
  instanceGroups: InstanceGroup;
  instances: Instance;
  networks: Network;
  subnetworks: Subnetwork;
  zones: Zone;
}

/** Where a resource lives: `global`, `regions/{r}` or `zones/{z}` (the path segment(s) after the project). */
export type Scope = { readonly kind: "global" } | { readonly kind: "region" | "zone"; readonly name: string };

/**
 * An error the fake answers with, as Compute does: HTTP `status` and a body
 * `{error:{code,message,errors:[{domain:"global",reason,message}]}}`. `reason` is Compute's reason string
 * (notFound, alreadyExists, invalid, required, resourceInUseByAnotherResource, conditionNotMet, resourceNotReady,
 * rateLimitExceeded, backendError, forbidden).
 */
export class ComputeApiError extends LbOperatorError {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export const notFound = (link: string): ComputeApiError =>
  new ComputeApiError(404, "notFound", `The resource '${link}' was not found`);
export const alreadyExists = (link: string): ComputeApiError =>
  new ComputeApiError(409, "alreadyExists", `The resource '${link}' already exists`);
export const invalid = (message: string): ComputeApiError => new ComputeApiError(400, "invalid", message);
export const required = (field: string): ComputeApiError =>
  new ComputeApiError(400, "required", `Required field '${field}' not specified`);
export const inUse = (link: string, by: string): ComputeApiError =>
  new ComputeApiError(400, "resourceInUseByAnotherResource", `The resource '${link}' is already being used by '${by}'`);
export const notReady = (link: string): ComputeApiError =>
  new ComputeApiError(400, "resourceNotReady", `The resource '${link}' is not ready`);

/** Compute's JSON error body for `err`. */
export function errorBody(err: ComputeApiError): { error: { code: number; message: string; errors: object[] } } {
  return {
    error: {
      code: err.status,
      message: err.message,
      errors: [{ domain: "global", reason: err.reason, message: err.message }],
    },
  };
}
