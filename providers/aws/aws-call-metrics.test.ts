import { Readable } from "node:stream";
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { EC2Client } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import type { CloudCallObservation } from "../../src/cloud-call-observer.js";
import { observeAwsClients, operationOf } from "./aws-call-metrics.js";

/** An SDK request handler that answers every request with `status` and a query-protocol body, sending nothing. */
function answering(status: number, body: string) {
  return {
    handle: () =>
      Promise.resolve({
        response: {
          statusCode: status,
          reason: "",
          headers: { "content-type": "text/xml" },
          body: Readable.from([Buffer.from(body)]),
        },
      }),
  };
}

const OK = `<DescribeLoadBalancersResponse><DescribeLoadBalancersResult><LoadBalancers/></DescribeLoadBalancersResult></DescribeLoadBalancersResponse>`;
const error = (code: string): string =>
  `<ErrorResponse><Error><Code>${code}</Code><Message>m</Message></Error></ErrorResponse>`;

function clients(status: number, body: string) {
  const common = {
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
    requestHandler: answering(status, body),
  };
  return {
    elbv2: new ElasticLoadBalancingV2Client(common),
    elb: new ElasticLoadBalancingClient(common),
    ec2: new EC2Client(common),
  };
}

function observe(status: number, body: string) {
  const seen: CloudCallObservation[] = [];
  const c = clients(status, body);
  observeAwsClients(c, { observe: (call) => seen.push(call) });
  return { c, seen };
}

describe("observeAwsClients", () => {
  it("reports each SDK call with its client's service, the operation and success", async () => {
    const { c, seen } = observe(200, OK);
    await c.elbv2.send(new DescribeLoadBalancersCommand({}));
    expect(seen).toEqual([
      {
        api: "elbv2",
        operation: "DescribeLoadBalancers",
        outcome: "success",
        errorCode: "",
        seconds: seen[0]?.seconds,
      },
    ]);
    expect(seen[0]?.seconds).toBeGreaterThanOrEqual(0);
  });

  it("reads failures as awsCall does: throttling, 5xx transient, anything else an error, with the AWS error code", async () => {
    for (const [status, code, outcome] of [
      [400, "Throttling", "throttled"],
      [503, "ServiceUnavailable", "transient"],
      [400, "ValidationError", "error"],
    ] as const) {
      const { c, seen } = observe(status, error(code));
      await expect(c.elbv2.send(new DescribeLoadBalancersCommand({}))).rejects.toMatchObject({ name: code });
      expect(seen).toMatchObject([{ api: "elbv2", operation: "DescribeLoadBalancers", outcome, errorCode: code }]);
    }
  });

  it("names the operation after the command class", () => {
    expect(operationOf("CreateTargetGroupCommand")).toBe("CreateTargetGroup");
    expect(operationOf(undefined)).toBe("Unknown");
  });
});
