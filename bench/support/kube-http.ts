/**
 * A bare Kubernetes API client for the bench: node:https with one keep-alive agent, a bearer token and the
 * cluster CA from a kubeconfig. No client library, no retries of its own, no rate limiter. The bench's
 * creating client and observer watch, and the baseline patcher, all use it, so the baseline measures the
 * apiserver rather than a client library.
 */
import { Agent, request } from "node:https";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const kubeconfigSchema = z.object({
  "current-context": z.string(),
  contexts: z.array(z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string() }) })),
  clusters: z.array(
    z.object({ name: z.string(), cluster: z.object({ server: z.string(), "certificate-authority-data": z.string() }) }),
  ),
  users: z.array(z.object({ name: z.string(), user: z.object({ token: z.string() }) })),
});

export interface KubeEndpoint {
  server: string;
  token: string;
  ca: string;
}

/** Reads a token + CA-data kubeconfig, as test/env/control-plane.ts writes them. */
export function loadKubeconfig(path: string): KubeEndpoint {
  const doc = kubeconfigSchema.parse(parseYaml(readFileSync(path, "utf8")));
  const ctx = doc.contexts.find((c) => c.name === doc["current-context"]);
  const cluster = doc.clusters.find((c) => c.name === ctx?.context.cluster);
  const user = doc.users.find((u) => u.name === ctx?.context.user);
  if (!ctx || !cluster || !user) throw new Error(`${path}: current context, its cluster or its user is missing`);
  return {
    server: cluster.cluster.server,
    token: user.user.token,
    ca: Buffer.from(cluster.cluster["certificate-authority-data"], "base64").toString("utf8"),
  };
}

export class KubeHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly body: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} ${path}: ${status ?? "no response"} ${body.slice(0, 300)}`, options);
  }
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: unknown;
}

export interface WatchHandle {
  /** Resolves when the stream ends (server timeout, error or stop()). */
  readonly ended: Promise<void>;
  stop(): void;
}

export class KubeHttp {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(
    private readonly endpoint: KubeEndpoint,
    options: { maxSockets?: number } = {},
  ) {
    this.base = new URL(endpoint.server);
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64, ca: endpoint.ca });
  }

  close(): void {
    this.agent.destroy();
  }

  /** One call; resolves with the parsed JSON body for 2xx, rejects with KubeHttpError otherwise. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 30_000,
  ): Promise<T> {
    const text = await this.text(method, path, body, contentType, timeoutMs);
    try {
      return (text === "" ? undefined : JSON.parse(text)) as T;
    } catch (err) {
      throw new KubeHttpError(method, path, 200, text, { cause: err });
    }
  }

  /** One call; resolves with the body text for 2xx (e.g. /metrics), rejects with KubeHttpError otherwise. */
  async text(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 30_000,
  ): Promise<string> {
    return (await this.bytes(method, path, body, contentType, timeoutMs)).toString("utf8");
  }

  /** One call; resolves with the raw body for 2xx (a pprof profile), rejects with KubeHttpError otherwise. */
  bytes(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    timeoutMs = 30_000,
  ): Promise<Buffer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<Buffer>((resolve, reject) => {
      const req = request(
        {
          host: this.base.hostname.replace(/^\[|\]$/g, ""),
          port: this.base.port,
          path,
          method,
          agent: this.agent,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.endpoint.token}`,
            accept: "application/json",
            ...(payload === undefined
              ? {}
              : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => reject(new KubeHttpError(method, path, res.statusCode, "", { cause: err })));
          res.on("end", () => {
            const raw = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) reject(new KubeHttpError(method, path, status, raw.toString("utf8")));
            else resolve(raw);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on("error", (err) => reject(new KubeHttpError(method, path, undefined, "", { cause: err })));
      req.end(payload);
    });
  }

  /**
   * Opens a watch (the path must carry `watch=true` and a resourceVersion) on its own connection and calls
   * `onEvent` per line. `connected` resolves once the apiserver answered 200, so events after that are seen.
   */
  watch(path: string, onEvent: (event: WatchEvent) => void): { connected: Promise<void>; handle: WatchHandle } {
    let stopReq: () => void = () => undefined;
    const connected = Promise.withResolvers<void>();
    const ended = new Promise<void>((resolveEnded) => {
      const req = request(
        {
          host: this.base.hostname.replace(/^\[|\]$/g, ""),
          port: this.base.port,
          path,
          method: "GET",
          ca: this.endpoint.ca,
          agent: false,
          headers: { authorization: `Bearer ${this.endpoint.token}`, accept: "application/json" },
        },
        (res) => {
          if (res.statusCode !== 200) {
            connected.reject(new KubeHttpError("WATCH", path, res.statusCode, ""));
            res.resume();
            res.on("end", resolveEnded);
            return;
          }
          connected.resolve();
          let buffered = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf("\n")) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line.trim() !== "") onEvent(JSON.parse(line) as WatchEvent);
            }
          });
          res.on("end", resolveEnded);
          res.on("error", () => resolveEnded());
          res.on("close", resolveEnded);
        },
      );
      req.on("error", (err) => {
        connected.reject(new KubeHttpError("WATCH", path, undefined, "", { cause: err }));
        resolveEnded();
      });
      req.end();
      stopReq = () => req.destroy();
    });
    connected.promise.catch(() => undefined);
    return { connected: connected.promise, handle: { ended, stop: () => stopReq() } };
  }
}

/** A Service as far as the bench looks at it. */
export interface ServiceLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: { type?: string; loadBalancerClass?: string; ports?: { port: number; protocol?: string }[] };
  status?: { loadBalancer?: { ingress?: unknown[] } };
}

export interface ListLike<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export function hasIngress(svc: ServiceLike): boolean {
  return (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0;
}

/** Every item of a list, following `continue` tokens; also the list's resourceVersion. */
export async function listAll<T>(
  http: KubeHttp,
  path: string,
  pageSize = 500,
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion = "";
  const sep = path.includes("?") ? "&" : "?";
  do {
    const page: ListLike<T> = await http.call<ListLike<T>>(
      "GET",
      `${path}${sep}limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ""}`,
    );
    items.push(...page.items);
    resourceVersion ||= page.metadata?.resourceVersion ?? "";
    token = page.metadata?.continue || undefined;
  } while (token);
  return { items, resourceVersion };
}
