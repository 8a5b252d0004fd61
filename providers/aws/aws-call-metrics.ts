/**
 * Reports every AWS request the SDK clients send to a CloudCallObserver, from a middleware on each client's stack:
 * aws-load-balancer-controller does the same (pkg/metrics/aws/collector.go, an Initialize-step middleware per
 * client). The clients have maxAttempts 1 (create-aws-provider.ts), so one SDK call is one request and one attempt
 * of awsCall's retry policy; the outcome is read with the same predicates (isThrottling, isTransient).
 */
import { type CloudCallObserver, observeCall } from "../../src/cloud-call-observer.js";
import { errorCode, isThrottling, isTransient } from "./aws-call.js";
import type { AwsClients } from "./aws-types.js";

const MIDDLEWARE_NAME = "lbOperatorCloudCallMetrics";

interface CommandContext {
  readonly commandName?: string;
}

/** What a command's class name says the operation is: DescribeLoadBalancersCommand -> DescribeLoadBalancers. */
export function operationOf(commandName: string | undefined): string {
  const name = commandName ?? "Unknown";
  return name.endsWith("Command") ? name.slice(0, -"Command".length) : name;
}

function callMetrics(api: string, observer: CloudCallObserver) {
  return <A, R>(next: (args: A) => Promise<R>, context: CommandContext) =>
    (args: A): Promise<R> =>
      observeCall(
        observer,
        { api, operation: operationOf(context.commandName) },
        (err) => ({
          outcome: isThrottling(err) ? "throttled" : isTransient(err) ? "transient" : "error",
          errorCode: errorCode(err),
        }),
        () => next(args),
      );
}

/** Adds the middleware to each client once (adding it again replaces nothing and throws: call it once). */
export function observeAwsClients(clients: AwsClients, observer: CloudCallObserver): void {
  const options = { step: "initialize", name: MIDDLEWARE_NAME } as const;
  clients.elbv2.middlewareStack.add(callMetrics("elbv2", observer), options);
  clients.elb.middlewareStack.add(callMetrics("elb", observer), options);
  clients.ec2.middlewareStack.add(callMetrics("ec2", observer), options);
}
