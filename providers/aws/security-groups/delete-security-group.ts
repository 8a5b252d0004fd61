/**
 * Deleting a security group a load balancer just released. AWS keeps the load balancer's network interfaces
 * (and so the group) in use for a while after DeleteLoadBalancer, answering DependencyViolation. cloud-provider-aws
 * polls every 5 s for up to 10 minutes (reference section 2; kubernetes/cloud-provider-aws#566, fixed by #752, is
 * the leak when it gave up too early). We retry with backoff for a bounded time, then hand the rest to the work
 * queue with a RetryAfterError: the group keeps its ownership tags, so the next delete finds it again, and a
 * worker is not pinned for ten minutes.
 */
import { setTimeout as delay } from "node:timers/promises";
import { DeleteSecurityGroupCommand } from "@aws-sdk/client-ec2";
import { RetryAfterError } from "../../../src/errors.js";
import { awsCall, hasCode } from "../aws-call.js";
import type { AwsClients } from "../aws-types.js";

export interface DeleteRetryOptions {
  /** How long to keep retrying DependencyViolation inside one call. Default 120 s. */
  readonly timeoutMs?: number;
  /** First backoff; doubles up to maxDelayMs. Defaults 1 s and 10 s. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Delay before the work queue tries again once timeoutMs is spent. Default 30 s. */
  readonly retryAfterMs?: number;
  /** Injected for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

const defaultSleep = async (ms: number, signal: AbortSignal | undefined): Promise<void> => {
  await delay(ms, undefined, { signal });
};

/** Deletes one group. A group that is already gone is success. */
export async function deleteSecurityGroupWithRetry(
  clients: AwsClients,
  groupId: string,
  signal?: AbortSignal,
  options: DeleteRetryOptions = {},
): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const deadline = now() + (options.timeoutMs ?? 120_000);
  let wait = options.initialDelayMs ?? 1_000;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await awsCall(
        "DeleteSecurityGroup",
        () => clients.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }), { abortSignal: signal }),
        { signal },
      );
      return;
    } catch (err) {
      if (hasCode(err, "InvalidGroup.NotFound", "InvalidGroupId.NotFound")) return;
      if (!hasCode(err, "DependencyViolation")) throw err;
      const left = deadline - now();
      if (left <= 0) {
        throw new RetryAfterError(
          `security group ${groupId} is still in use (DependencyViolation)`,
          options.retryAfterMs ?? 30_000,
          { cause: err },
        );
      }
      await sleep(Math.min(wait, left), signal);
      wait = Math.min(wait * 2, maxDelay);
    }
  }
}
