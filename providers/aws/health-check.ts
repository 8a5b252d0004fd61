/**
 * The effective health check of an NLB target group or of a classic ELB: the kind's defaults, the
 * externalTrafficPolicy Local mapping, then the `healthcheck-*` annotations field by field (reference section 1).
 *
 * Defaults, all from the anchors' code (the code is authoritative over their docs, reference section 1 note):
 * - NLB, Cluster: TCP on traffic-port, healthy 3, unhealthy 3, interval 10, timeout 10 (LBC).
 * - NLB, Local with instance targets: HTTP on healthCheckNodePort `/healthz`, 2/2, interval 10, timeout 6 (LBC),
 *   where kube-proxy answers 200 only on nodes with a local endpoint.
 * - Classic ELB: healthy 2, unhealthy 6, interval 10, timeout 5 (cloud-provider-aws), target `TCP:<first NodePort>`,
 *   or `HTTP:<healthCheckNodePort>/healthz` for Local.
 */
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec, PortSpec } from "../../src/provider.js";
import { annotationField, quote } from "../../src/toolkit/index.js";
import { AWS_ANNOTATION_PREFIX } from "./aws-types.js";
import type { AwsServiceConfig, HealthCheckSettings, LoadBalancerKind, TargetType } from "./aws-types.js";

export const HEALTH_CHECK_ANNOTATIONS = {
  protocol: `${AWS_ANNOTATION_PREFIX}healthcheck-protocol`,
  port: `${AWS_ANNOTATION_PREFIX}healthcheck-port`,
  path: `${AWS_ANNOTATION_PREFIX}healthcheck-path`,
  interval: `${AWS_ANNOTATION_PREFIX}healthcheck-interval`,
  timeout: `${AWS_ANNOTATION_PREFIX}healthcheck-timeout`,
  healthyThreshold: `${AWS_ANNOTATION_PREFIX}healthcheck-healthy-threshold`,
  unhealthyThreshold: `${AWS_ANNOTATION_PREFIX}healthcheck-unhealthy-threshold`,
} as const;

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface HealthCheckLimits {
  readonly intervalSeconds: Range;
  readonly timeoutSeconds: Range;
  /** Both thresholds. */
  readonly threshold: Range;
  /** The classic ELB API wants the timeout strictly below the interval; ELBv2 accepts equal (LBC sends 10/10). */
  readonly timeoutMustBeBelowInterval: boolean;
}

/**
 * API limits. NLB: interval 5-300 (AWS lifted the old 10-or-30 rule in 2022), timeout 2-120, thresholds 2-10
 * (ELBv2 CreateTargetGroup). Classic ELB: interval 5-300, timeout 2-60, thresholds 2-10 (ELB ConfigureHealthCheck).
 */
export const HEALTH_CHECK_LIMITS: Readonly<Record<LoadBalancerKind, HealthCheckLimits>> = {
  nlb: {
    intervalSeconds: { min: 5, max: 300 },
    timeoutSeconds: { min: 2, max: 120 },
    threshold: { min: 2, max: 10 },
    timeoutMustBeBelowInterval: false,
  },
  clb: {
    intervalSeconds: { min: 5, max: 300 },
    timeoutSeconds: { min: 2, max: 60 },
    threshold: { min: 2, max: 10 },
    timeoutMustBeBelowInterval: true,
  },
};

/** ELBv2's limit on HealthCheckPath. */
export const MAX_HEALTH_CHECK_PATH_LENGTH = 1024;

const NLB_DEFAULT: HealthCheckSettings = {
  protocol: "TCP",
  port: "traffic-port",
  path: undefined,
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThreshold: 3,
  unhealthyThreshold: 3,
};
const NLB_HTTP_NODE_CHECK = {
  protocol: "HTTP",
  intervalSeconds: 10,
  timeoutSeconds: 6,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
} as const;
const CLB_DEFAULT: HealthCheckSettings = {
  protocol: "TCP",
  port: "traffic-port",
  path: undefined,
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 6,
};

/**
 * @param port the Service port the target group serves (NLB), or the first port (classic ELB: one check per LB).
 * @throws InvalidSpecError when the overrides combine into something AWS rejects or would ignore: a timeout not
 *   below (classic) or above (NLB) the interval, or a path on a TCP check.
 */
export function healthCheckFor(
  kind: LoadBalancerKind,
  targetType: TargetType,
  spec: LoadBalancerSpec,
  config: AwsServiceConfig,
  port: PortSpec,
): HealthCheckSettings {
  const base = defaults(kind, targetType, spec, port);
  const o = config.healthCheck;
  const protocol = o.protocol ?? base.protocol;
  if (protocol === "TCP" && o.path !== undefined) {
    throw new InvalidSpecError(
      annotationField(HEALTH_CHECK_ANNOTATIONS.path),
      `path ${quote(o.path)} is ignored by a TCP health check; set ${HEALTH_CHECK_ANNOTATIONS.protocol} to HTTP or HTTPS, or remove the path`,
    );
  }
  const settings: HealthCheckSettings = {
    protocol,
    port: o.port ?? base.port,
    path: protocol === "TCP" ? undefined : (o.path ?? base.path ?? "/"),
    intervalSeconds: o.intervalSeconds ?? base.intervalSeconds,
    timeoutSeconds: o.timeoutSeconds ?? base.timeoutSeconds,
    healthyThreshold: o.healthyThreshold ?? base.healthyThreshold,
    unhealthyThreshold: o.unhealthyThreshold ?? base.unhealthyThreshold,
  };
  checkTimeoutAgainstInterval(kind, settings, config);
  return settings;
}

/** The classic ELB `HealthCheck.Target`: "TCP:30080", "HTTP:32000/healthz". traffic-port is the first NodePort. */
export function classicHealthTarget(settings: HealthCheckSettings, nodePort: number): string {
  const port = settings.port === "traffic-port" ? nodePort : settings.port;
  return settings.protocol === "TCP" ? `TCP:${port}` : `${settings.protocol}:${port}${settings.path ?? "/"}`;
}

function defaults(
  kind: LoadBalancerKind,
  targetType: TargetType,
  spec: LoadBalancerSpec,
  port: PortSpec,
): HealthCheckSettings {
  const hc = spec.healthCheck;
  // LBC #1813: in ip mode the NLB sends traffic straight to pods, and healthCheckNodePort says nothing about them
  // (it is about the node's local endpoints, and a pod's node may have others). We copy LBC's choice: the Local
  // override applies to instance targets only, and a Local ip-mode Service health-checks the pod port.
  const localOverride =
    spec.externalTrafficPolicy === "Local" &&
    targetType === "instance" &&
    hc.kind === "http" &&
    hc.source === "healthCheckNodePort";
  if (kind === "clb") {
    return localOverride ? { ...CLB_DEFAULT, protocol: "HTTP", port: hc.port, path: hc.path } : CLB_DEFAULT;
  }
  if (localOverride) return { ...NLB_HTTP_NODE_CHECK, port: hc.port, path: hc.path };
  // A TCP connect to a UDP NodePort can never succeed, so a UDP target group with LBC's TCP default would be
  // unhealthy everywhere (an NLB then fails open to every target). For instance targets we ask kube-proxy instead:
  // the core's Cluster check is its :10256/healthz (KEP-3836), which cloud-provider-aws also offers
  // (ClusterServiceLoadBalancerHealthProbeMode=Shared, reference section 2). ip targets have no such endpoint.
  if (port.protocol === "UDP" && targetType === "instance" && hc.kind === "http") {
    return { ...NLB_HTTP_NODE_CHECK, port: hc.port, path: hc.path };
  }
  return NLB_DEFAULT;
}

function checkTimeoutAgainstInterval(kind: LoadBalancerKind, s: HealthCheckSettings, config: AwsServiceConfig): void {
  const strict = HEALTH_CHECK_LIMITS[kind].timeoutMustBeBelowInterval;
  const ok = strict ? s.timeoutSeconds < s.intervalSeconds : s.timeoutSeconds <= s.intervalSeconds;
  if (ok) return;
  const blame =
    config.healthCheck.timeoutSeconds !== undefined
      ? HEALTH_CHECK_ANNOTATIONS.timeout
      : HEALTH_CHECK_ANNOTATIONS.interval;
  const kindName = kind === "nlb" ? "an NLB" : "a classic ELB";
  throw new InvalidSpecError(
    annotationField(blame),
    `timeout "${s.timeoutSeconds}" must be ${strict ? "less than" : "at most"} the interval "${s.intervalSeconds}" for ${kindName}`,
  );
}
