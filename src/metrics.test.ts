import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "./metrics.js";

describe("ControllerMetrics.cloudCallObserver", () => {
  it("counts each reported call under the provider's name and times it by outcome", async () => {
    const metrics = new ControllerMetrics({ processMetrics: false });
    const aws = metrics.cloudCallObserver("aws");
    aws.observe({ api: "elbv2", operation: "CreateListener", outcome: "success", errorCode: "", seconds: 0.02 });
    aws.observe({ api: "elbv2", operation: "CreateListener", outcome: "success", errorCode: "", seconds: 0.03 });
    aws.observe({
      api: "elbv2",
      operation: "CreateListener",
      outcome: "throttled",
      errorCode: "Throttling",
      seconds: 0.2,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'lb_operator_cloud_api_calls_total{provider="aws",api="elbv2",operation="CreateListener",outcome="success",error_code=""} 2',
    );
    expect(text).toContain(
      'lb_operator_cloud_api_calls_total{provider="aws",api="elbv2",operation="CreateListener",outcome="throttled",error_code="Throttling"} 1',
    );
    expect(text).toMatch(
      /^lb_operator_cloud_api_call_duration_seconds_sum\{provider="aws",api="elbv2",operation="CreateListener",outcome="success"\} 0\.05\d*$/m,
    );
  });
});
