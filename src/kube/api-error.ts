import { KubeApiError } from "../errors.js";

/** The HTTP status of a failed KubeRest call, if it got a response. */
export function statusCodeOf(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.statusCode : undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusCodeOf(err) === 404;
}

export function isConflict(err: unknown): boolean {
  return statusCodeOf(err) === 409;
}

/** Wraps a failed API call in our typed error, keeping the cause; the message says what we were doing. */
export function kubeApiError(action: string, err: unknown): KubeApiError {
  const code = statusCodeOf(err);
  const detail = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
  return new KubeApiError(
    `${action}: ${code && !detail.includes(`HTTP ${code}`) ? `HTTP ${code}: ` : ""}${detail}`,
    code,
    {
      cause: err,
    },
  );
}

/** The message of a Status body (an API error's response or a watch ERROR event), else the body's start. */
export function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === "string") return status.message;
  } catch {
    // not a Status object
  }
  return body.slice(0, 300);
}
