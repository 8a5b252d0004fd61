import { HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
import { request } from "undici";
import { KubeApiError } from "../errors.js";
import { PooledKubeConfig, type RequestAuth } from "./pooled-kube-config.js";

/** Writes take milliseconds; one that takes this long is stuck on a dead connection, not slow. */
const WRITE_TIMEOUT_MS = 10_000;

export type PatchType = "application/merge-patch+json" | "application/strategic-merge-patch+json";

/**
 * The few writes on the controller's hot path (finalizer, status, events), sent as plain JSON over the
 * kubeconfig's own authentication and (pooled) connections. client-node's generated clients serialise and
 * deserialise every body through model classes, which bench/reconcile measured as most of the controller's
 * CPU per Service; these callers need no response object, so none is built.
 */
export class KubeRest {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly timeoutMs = WRITE_TIMEOUT_MS,
  ) {}

  async patch(path: string, body: unknown, type: PatchType, fieldManager = "lb-operator"): Promise<void> {
    await this.send("PATCH", `${path}?fieldManager=${encodeURIComponent(fieldManager)}`, body, type);
  }

  /** A patch whose caller needs the object as the server stored it (plain parsed JSON, no model classes). */
  async patchForObject(path: string, body: unknown, type: PatchType, fieldManager = "lb-operator"): Promise<unknown> {
    return JSON.parse(
      await this.send("PATCH", `${path}?fieldManager=${encodeURIComponent(fieldManager)}`, body, type),
    ) as unknown;
  }

  async post(path: string, body: unknown): Promise<void> {
    await this.send("POST", path, body, "application/json");
  }

  /** The response body on success. */
  private async send(method: "PATCH" | "POST", path: string, body: unknown, contentType: string): Promise<string> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new KubeApiError("no current cluster in the kubeconfig", undefined);
    const url = `${server.replace(/\/$/, "")}${path}`;
    const auth = await requestAuth(this.kubeConfig, url);
    const headers = { ...auth.headers, "Content-Type": contentType, Accept: "application/json" };
    let res;
    try {
      // undici's request(), not fetch(): no WHATWG streams or Response object per call, which were most of the
      // controller's CPU per write in a bench/reconcile profile.
      res = await request(url, {
        method,
        headers,
        body: JSON.stringify(body),
        dispatcher: auth.dispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && err.name === "TimeoutError" && this.kubeConfig instanceof PooledKubeConfig) {
        this.kubeConfig.resetConnections();
      }
      throw new KubeApiError(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, undefined, {
        cause: err,
      });
    }
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return text;
    throw new KubeApiError(`${method} ${path}: HTTP ${res.statusCode}: ${statusMessage(text)}`, res.statusCode);
  }
}

/** A PooledKubeConfig's pooled connections without a throwaway Agent; any other KubeConfig's own path. */
async function requestAuth(kubeConfig: KubeConfig, url: string): Promise<RequestAuth> {
  if (kubeConfig instanceof PooledKubeConfig) return kubeConfig.requestAuth(url);
  const ctx = new RequestContext(url, HttpMethod.GET);
  await kubeConfig.applySecurityAuthentication(ctx);
  return { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() };
}

function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    if (typeof status.message === "string") return status.message;
  } catch {
    // not a Status object
  }
  return text.slice(0, 300);
}
