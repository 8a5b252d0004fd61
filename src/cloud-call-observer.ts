/**
 * The port through which a provider reports each cloud API call it sends, so the controller can count and time
 * them (ControllerMetrics.cloudCallObserver) without providers knowing about Prometheus or holding global state.
 * It mirrors what aws-load-balancer-controller's SDK middleware records (pkg/metrics/aws/collector.go: service (our api),
 * operation, error code, duration per call), with a provider-neutral outcome added.
 */

/** What one sent call came to, read the way the provider's retry policy reads it (never from message text). */
export type CloudCallOutcome = "success" | "throttled" | "transient" | "error";

export interface CloudCallObservation {
  /** The API family: "elbv2", "elb", "ec2" for AWS, "compute" for GCE. */
  readonly api: string;
  /** The API operation as the cloud names it (CreateLoadBalancer, forwardingRules.insert). */
  readonly operation: string;
  readonly outcome: CloudCallOutcome;
  /** The cloud's error code (AWS error code, GCE HTTP status or gRPC code); "" on success. */
  readonly errorCode: string;
  /** From sending the request to its answer or failure. */
  readonly seconds: number;
}

/** Called once per request sent, retries included (each retry is a call the cloud bills and throttles). */
export interface CloudCallObserver {
  observe(call: CloudCallObservation): void;
}

/** For tests and tools that run a provider without metrics. */
export const ignoreCloudCalls: CloudCallObserver = { observe: () => undefined };

/**
 * Runs `fn`, reporting it to `observer` once it settles. `classify` reads a failure; the error is rethrown as is.
 * `now` is in milliseconds (performance.now by default: monotonic, unaffected by clock steps).
 */
export async function observeCall<T>(
  observer: CloudCallObserver | undefined,
  call: { readonly api: string; readonly operation: string },
  classify: (err: unknown) => { outcome: Exclude<CloudCallOutcome, "success">; errorCode: string },
  fn: () => Promise<T>,
  now: () => number = () => performance.now(),
): Promise<T> {
  if (observer === undefined) return fn();
  const start = now();
  try {
    const result = await fn();
    observer.observe({ ...call, outcome: "success", errorCode: "", seconds: (now() - start) / 1000 });
    return result;
  } catch (err) {
    observer.observe({ ...call, ...classify(err), seconds: (now() - start) / 1000 });
    throw err;
  }
}
