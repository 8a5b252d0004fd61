import {
  type ConfigurationOptions,
  Observable,
  type RequestContext,
  type ResponseContext,
  setHeaderOptions,
} from "@kubernetes/client-node";

/** Default deadline for one API call: long enough for a loaded apiserver, short enough to unstick a worker. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * Per-call options for client-node's generated APIs: a deadline (client-node sets none, so a call on a
 * half-open keep-alive connection would hang a worker for undici's 300 s body timeout) and, optionally, the
 * patch content type.
 */
export function callOptions(timeoutMs = DEFAULT_CALL_TIMEOUT_MS, contentType?: string): ConfigurationOptions {
  const deadline = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  const base: ConfigurationOptions = { middleware: [deadline], middlewareMergeStrategy: "append" };
  return contentType ? setHeaderOptions("Content-Type", contentType, base) : base;
}
