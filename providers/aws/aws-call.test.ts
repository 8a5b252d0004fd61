import { describe, expect, it, vi } from "vitest";
import { RetryAfterError } from "../../src/errors.js";
import { THROTTLE_RETRY_AFTER_MS } from "../../src/toolkit/index.js";
import { AwsApiError, awsCall, hasCode } from "./aws-call.js";

/** The shape the AWS SDK v3 gives a failed call: the error code as `name`, the HTTP status in $metadata. */
function sdkError(name: string, httpStatusCode?: number): Error {
  return Object.assign(new Error(`${name}!`), { name, $metadata: { httpStatusCode } });
}

/** A call that rejects with `errors` in turn, then answers "ok". */
function failing(errors: Error[]): { fn: () => Promise<string>; calls: () => number } {
  const fn = vi.fn<() => Promise<string>>().mockResolvedValue("ok");
  for (const err of errors) fn.mockRejectedValueOnce(err);
  return { fn, calls: () => fn.mock.calls.length };
}

describe("awsCall", () => {
  it("turns a throttling code or HTTP 429 into a RetryAfterError without retrying", async () => {
    for (const err of [sdkError("RequestLimitExceeded", 400), sdkError("Whatever", 429)]) {
      const f = failing([err]);
      const got: unknown = await awsCall("DescribeSubnets", f.fn).catch((e: unknown) => e);
      expect(got).toBeInstanceOf(RetryAfterError);
      expect((got as RetryAfterError).retryAfterMs).toBe(THROTTLE_RETRY_AFTER_MS);
      expect(f.calls()).toBe(1);
    }
  });

  it("retries 5xx and dropped connections three times in all, then throws AwsApiError", async () => {
    const reset = Object.assign(new Error("socket"), { code: "ECONNRESET" });
    const f = failing([
      sdkError("InternalFailure", 500),
      reset,
      sdkError("ServiceUnavailable", 503),
      sdkError("InternalFailure", 500),
    ]);
    const got: unknown = await awsCall("DescribeTargetGroups", f.fn).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(AwsApiError);
    expect((got as AwsApiError).code).toBe("ServiceUnavailable");
    expect(f.calls()).toBe(3);
  });

  it("sends a Create* call once even on a transient fault", async () => {
    const f = failing([sdkError("InternalFailure", 500)]);
    await expect(awsCall("CreateLoadBalancer", f.fn)).rejects.toBeInstanceOf(AwsApiError);
    expect(f.calls()).toBe(1);
  });

  it("reports other errors at once with their code, and counts attempts by operation", async () => {
    const seen: string[] = [];
    const f = failing([sdkError("LoadBalancerNotFound", 400)]);
    const got: unknown = await awsCall("DescribeLoadBalancers", f.fn, { onAttempt: (op) => seen.push(op) }).catch(
      (e: unknown) => e,
    );
    expect(hasCode(got, "LoadBalancerNotFound")).toBe(true);
    expect((got as AwsApiError).statusCode).toBe(400);
    expect(seen).toEqual(["DescribeLoadBalancers"]);
  });
});
