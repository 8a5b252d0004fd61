import { request } from "undici";
import { KubeApiError } from "../errors.js";
import { statusMessage } from "./api-error.js";
import type { KubeConfigData } from "./kube-config-loader.js";
import { KubeConnection } from "./kube-connection.js";

/** Writes take milliseconds; one that takes this long is stuck on a dead connection, not slow. */
const WRITE_TIMEOUT_MS = 10_000;

export type PatchType = "application/merge-patch+json" | "application/strategic-merge-patch+json";

type Method = "GET" | "PATCH" | "POST" | "PUT" | "DELETE";

/**
 * Every API call of the controller, the speaker and the bare-metal provider: plain JSON over undici on the
 * kubeconfig's own authentication and one pooled connection set (KubeConnection). client-node's generated
 * clients serialise and deserialise every body through model classes, which bench/reconcile measured as most
 * of the controller's CPU per Service, and their module costs tens of MB of RSS (58 MB on import beside our other dependencies); results here are plain
 * parsed JSON, typed by the caller.
 */
export class KubeRest {
  readonly connection: KubeConnection;

  constructor(
    kubeConfig: KubeConfigData,
    private readonly timeoutMs = WRITE_TIMEOUT_MS,
  ) {
    this.connection = KubeConnection.from(kubeConfig);
  }

  /** A read; `timeoutMs` overrides the default deadline (a large list takes longer than a write). */
  async get<T>(path: string, timeoutMs = this.timeoutMs): Promise<T> {
    return JSON.parse(await this.send("GET", path, undefined, undefined, timeoutMs)) as T;
  }

  async patch(path: string, body: unknown, type: PatchType, fieldManager = "lb-operator"): Promise<void> {
    await this.send("PATCH", withFieldManager(path, fieldManager), body, type);
  }

  /** A patch whose caller needs the object as the server stored it. */
  async patchForObject<T = unknown>(
    path: string,
    body: unknown,
    type: PatchType,
    fieldManager = "lb-operator",
  ): Promise<T> {
    return JSON.parse(await this.send("PATCH", withFieldManager(path, fieldManager), body, type)) as T;
  }

  async post(path: string, body: unknown): Promise<void> {
    await this.send("POST", path, body, "application/json");
  }

  async postForObject<T>(path: string, body: unknown): Promise<T> {
    return JSON.parse(await this.send("POST", path, body, "application/json")) as T;
  }

  /** A replace (optimistic concurrency on the body's resourceVersion: 409 when it moved). */
  async put<T>(path: string, body: unknown): Promise<T> {
    return JSON.parse(await this.send("PUT", path, body, "application/json")) as T;
  }

  async delete(path: string): Promise<void> {
    await this.send("DELETE", path, undefined, undefined);
  }

  /** The response body on success; a KubeApiError with the HTTP status otherwise. */
  private async send(
    method: Method,
    path: string,
    body: unknown,
    contentType: string | undefined,
    timeoutMs = this.timeoutMs,
  ): Promise<string> {
    const url = `${this.connection.server}${path}`;
    const auth = await this.connection.requestAuth();
    const headers: Record<string, string> = { ...auth.headers, Accept: "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    let res;
    try {
      // undici's request(), not fetch(): no WHATWG streams or Response object per call, which were most of the
      // controller's CPU per write in a bench/reconcile profile.
      res = await request(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: auth.dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && err.name === "TimeoutError") this.connection.resetConnections();
      throw new KubeApiError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, undefined, {
        cause: err,
      });
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return text;
    throw new KubeApiError(`${method} ${path}: HTTP ${res.statusCode}: ${statusMessage(text)}`, res.statusCode);
  }
}

/** `path` with `query` appended, whether or not it carries a query of its own (a label or field selector). */
export function withQuery(path: string, query: string): string {
  return `${path}${path.includes("?") ? "&" : "?"}${query}`;
}

function withFieldManager(path: string, fieldManager: string): string {
  return withQuery(path, `fieldManager=${encodeURIComponent(fieldManager)}`);
}
