// moto never answers DependencyViolation (reference section 6), so the retry path is tested here with errors
// injected into a real EC2 client by a middleware that answers before anything reaches the network.
import { describe, expect, it } from "vitest";
import { EC2Client, EC2ServiceException, type Filter } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { RetryAfterError } from "../../../src/errors.js";
import { AwsApiError } from "../aws-call.js";
import type { AwsClients } from "../aws-types.js";
import { newSpecId } from "../../../testing/new-spec.js";
import { deleteSecurityGroupWithRetry } from "./delete-security-group.js";
import { deleteFrontendSecurityGroup } from "./frontend-security-group.js";

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}
type Answer = (call: Call) => unknown;

function ec2Error(name: string): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
    message: `injected ${name}`,
  });
}

/** Clients whose EC2 calls are answered by `answer` (return an output, or throw). */
function fakeClients(answer: Answer): { clients: AwsClients; calls: Call[] } {
  const calls: Call[] = [];
  // Port 9 (discard) on loopback: if the middleware ever let a request through, it would fail fast, not hang.
  const config = {
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    maxAttempts: 1,
  };
  const ec2 = new EC2Client(config);
  ec2.middlewareStack.add(
    (_next, context) => async (args) => {
      const call = { command: context.commandName ?? "?", input: args.input as Record<string, unknown> };
      calls.push(call);
      return { output: answer(call) as never, response: {} };
    },
    { step: "initialize", name: "injectAnswers" },
  );
  return {
    clients: { ec2, elb: new ElasticLoadBalancingClient(config), elbv2: new ElasticLoadBalancingV2Client(config) },
    calls,
  };
}

/** A clock that only moves when the code under test sleeps. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe("deleteSecurityGroupWithRetry", () => {
  it("retries DependencyViolation with doubling backoff until the group is released", async () => {
    let attempts = 0;
    const { clients, calls } = fakeClients(() => {
      if (++attempts <= 3) throw ec2Error("DependencyViolation");
      return {};
    });
    const time = fakeTime();
    await deleteSecurityGroupWithRetry(clients, "sg-1", undefined, {
      ...time,
      initialDelayMs: 1_000,
      maxDelayMs: 3_000,
    });
    expect(calls.map((c) => [c.command, c.input.GroupId])).toEqual(
      Array(4).fill(["DeleteSecurityGroupCommand", "sg-1"]),
    );
    expect(time.sleeps).toEqual([1_000, 2_000, 3_000]);
  });

  it("gives up after the time bound with a RetryAfterError (the work queue tries again later)", async () => {
    const { clients, calls } = fakeClients(() => {
      throw ec2Error("DependencyViolation");
    });
    const time = fakeTime();
    const err = await deleteSecurityGroupWithRetry(clients, "sg-1", undefined, {
      ...time,
      timeoutMs: 10_000,
      initialDelayMs: 1_000,
      maxDelayMs: 4_000,
      retryAfterMs: 7_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(7_000);
    expect(time.sleeps).toEqual([1_000, 2_000, 4_000, 3_000]);
    expect(time.now()).toBe(10_000);
    expect(calls).toHaveLength(5);
  });

  it("treats a group that is already gone as deleted", async () => {
    const { clients, calls } = fakeClients(() => {
      throw ec2Error("InvalidGroup.NotFound");
    });
    await expect(deleteSecurityGroupWithRetry(clients, "sg-1")).resolves.toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it("does not retry other errors", async () => {
    const { clients, calls } = fakeClients(() => {
      throw ec2Error("UnauthorizedOperation");
    });
    const err = await deleteSecurityGroupWithRetry(clients, "sg-1", undefined, fakeTime()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsApiError);
    expect((err as AwsApiError).code).toBe("UnauthorizedOperation");
    expect(calls).toHaveLength(1);
  });

  it("stops when aborted", async () => {
    const { clients } = fakeClients(() => {
      throw ec2Error("DependencyViolation");
    });
    const controller = new AbortController();
    const sleep = async () => {
      controller.abort(new Error("stop"));
    };
    await expect(deleteSecurityGroupWithRetry(clients, "sg-1", controller.signal, { sleep })).rejects.toThrow("stop");
  });
});

describe("deleteFrontendSecurityGroup", () => {
  it("finds the Service's groups by ownership tags only and deletes each, retrying DependencyViolation", async () => {
    let deletes = 0;
    const { clients, calls } = fakeClients((call) => {
      if (call.command === "DescribeSecurityGroupsCommand")
        return { SecurityGroups: [{ GroupId: "sg-b" }, { GroupId: "sg-a" }] };
      if (++deletes === 1) throw ec2Error("DependencyViolation");
      return {};
    });
    const id = newSpecId();
    await deleteFrontendSecurityGroup(clients, id, undefined, fakeTime());
    const filters = calls[0]?.input.Filters as Filter[];
    expect(filters).toEqual(
      expect.arrayContaining([
        { Name: "tag:elbv2.k8s.aws/cluster", Values: [id.clusterId] },
        { Name: "tag:lb-operator.io/service-uid", Values: [id.uid] },
        { Name: "tag:service.k8s.aws/resource", Values: ["ManagedLBSecurityGroup"] },
      ]),
    );
    expect(calls.slice(1).map((c) => c.input.GroupId)).toEqual(["sg-a", "sg-a", "sg-b"]);
  });
});
