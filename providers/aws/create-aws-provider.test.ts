import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterEach, describe, expect, it } from "vitest";
import { CallCancelledError, DeadlineExceededError } from "../../src/errors.js";
import { AwsApiError, awsCall, isTransient } from "./aws-call.js";
import { createAwsClients } from "./create-aws-provider.js";

/** An endpoint that reads every request and never answers; counts requests and connections the client closed. */
async function silentEndpoint(): Promise<{
  server: Server;
  endpoint: string;
  requests: () => number;
  closed: () => number;
}> {
  let requests = 0;
  let closed = 0;
  const server = createServer((req) => {
    requests++;
    req.resume();
    req.socket.once("close", () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}`, requests: () => requests, closed: () => closed };
}

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe("createAwsClients", () => {
  it("ends a request that gets no answer at the request timeout, as a transient fault", async () => {
    const silent = await silentEndpoint();
    server = silent.server;
    const { elbv2 } = createAwsClients({
      region: "us-east-1",
      endpoint: silent.endpoint,
      credentials,
      requestTimeoutMs: 300,
    });
    const started = Date.now();
    const err: unknown = await elbv2.send(new DescribeLoadBalancersCommand({})).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(isTransient(err)).toBe(true);
    // Under awsCall a create is not resent: one request, then the provider's typed error.
    const create: unknown = await awsCall("CreateLoadBalancer", () =>
      elbv2.send(new DescribeLoadBalancersCommand({})),
    ).catch((e: unknown) => e);
    expect(create).toBeInstanceOf(AwsApiError);
    expect((create as AwsApiError).code).toBe("TimeoutError");
    expect(silent.requests()).toBe(2);
  });

  it("cancels the HTTP request itself when the call's signal aborts, with a typed retryable error", async () => {
    const silent = await silentEndpoint();
    server = silent.server;
    const { elbv2, ec2 } = createAwsClients({ region: "us-east-1", endpoint: silent.endpoint, credentials });
    /** Starts a call, waits until the endpoint holds it, aborts with `reason`; resolves with what the call threw. */
    const abortedWith = async (send: (signal: AbortSignal) => Promise<unknown>, reason?: unknown): Promise<unknown> => {
      const abort = new AbortController();
      const before = silent.requests();
      const call = awsCall("Describe", () => send(abort.signal), { signal: abort.signal }).catch((e: unknown) => e);
      await until(() => silent.requests() === before + 1);
      abort.abort(reason);
      return call;
    };

    const deadline = new DeadlineExceededError("provider aws ensure", 10_000);
    const elbv2Call = (signal: AbortSignal) =>
      elbv2.send(new DescribeLoadBalancersCommand({}), { abortSignal: signal });
    expect(await abortedWith(elbv2Call, deadline)).toBe(deadline);
    await until(() => silent.closed() === 1);
    expect(silent.closed()).toBe(1);

    const ec2Call = (signal: AbortSignal) => ec2.send(new DescribeSubnetsCommand({}), { abortSignal: signal });
    expect(await abortedWith(ec2Call)).toBeInstanceOf(CallCancelledError);
    await until(() => silent.closed() === 2);
    expect(silent.closed()).toBe(2);
    // Cancelled, not retried.
    expect(silent.requests()).toBe(2);
  });
});
