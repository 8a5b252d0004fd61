import { ApiException } from "@kubernetes/client-node";
import { KubeApiError } from "../errors.js";

/** The HTTP status of a client-node failure, if it got a response. */
export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (err instanceof KubeApiError) return err.statusCode;
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusCodeOf(err) === 404;
}

export function isConflict(err: unknown): boolean {
  return statusCodeOf(err) === 409;
}

/** Wraps a client-node failure in our typed error, keeping the cause; the message says what we were doing. */
export function kubeApiError(action: string, err: unknown): KubeApiError {
  const code = statusCodeOf(err);
  const detail = err instanceof ApiException ? reasonOf(err) : err instanceof Error ? err.message : String(err);
  return new KubeApiError(`${action}: ${code ? `HTTP ${code}: ` : ""}${detail}`, code, { cause: err });
}

function reasonOf(err: ApiException<unknown>): string {
  const body: unknown = err.body;
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === "string") return parsed.message;
    } catch {
      return body.slice(0, 300);
    }
  }
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") return body.message;
  return err.message.split("\n")[0] ?? "";
}
