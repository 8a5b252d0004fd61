import { StringDecoder } from "node:string_decoder";
import { request } from "undici";
import { KubeApiError } from "../errors.js";
import { statusMessage } from "./api-error.js";
import type { KubeConfigData } from "./kube-config-loader.js";
import { KubeConnection } from "./kube-connection.js";
import { withQuery } from "./kube-rest.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/** The apiserver no longer has the requested resourceVersion (410 Gone): the watcher must list again. */
export class WatchExpiredError extends KubeApiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 410, options);
  }
}

/** A watch that sent nothing, not even a bookmark, for its inactivity limit; resume it from its resourceVersion. */
export class WatchInactiveError extends KubeApiError {
  constructor(message: string) {
    super(message, undefined);
  }
}

/** The port ResilientInformer watches through; tests pass a scripted one. */
export interface WatchTransport {
  /**
   * One watch of `path` from `resourceVersion`, calling `onEvent` per event, in order. Resolves when the server
   * ends the watch, rejects on a failure (WatchExpiredError on 410 Gone) or when `signal` aborts.
   */
  watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, object: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** client-node's Watch default: a watch silent this long is presumed dead (a half-open connection). */
const DEFAULT_INACTIVITY_MS = 30_000;

/**
 * Watches over plain undici: newline-delimited JSON parsed as it arrives, no WHATWG stream, no readline, no
 * model classes. Each watch gets a connection of its own (KubeConnection.watchAuth), closed when it ends.
 * Bookmarks are asked for (client-go's allowWatchBookmarks), so a quiet resource still moves the
 * resourceVersion forward and a resume after a long quiet spell does not hit 410.
 */
export class HttpWatchTransport implements WatchTransport {
  private readonly connection: KubeConnection;

  constructor(
    kubeConfig: KubeConfigData,
    private readonly inactivityMs = DEFAULT_INACTIVITY_MS,
  ) {
    this.connection = KubeConnection.from(kubeConfig);
  }

  async watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, object: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const query = new URLSearchParams({ watch: "true", allowWatchBookmarks: "true" });
    if (resourceVersion) query.set("resourceVersion", resourceVersion);
    const { headers, dispatcher } = await this.connection.watchAuth();
    const abort = new AbortController();
    const onAbort = (): void => abort.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    // A signal that aborted before the listener was added (before the call, or while watchAuth ran an exec
    // plugin) fires no event: without this the watch would run on until the server or the inactivity limit ends it.
    if (signal.aborted) onAbort();
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => abort.abort(new WatchInactiveError(`watch ${path} sent nothing for ${this.inactivityMs} ms`)),
        this.inactivityMs,
      );
    };
    try {
      arm();
      const url = `${this.connection.server}${withQuery(path, query.toString())}`;
      const res = await request(url, {
        headers: { ...headers, Accept: "application/json" },
        dispatcher,
        signal: abort.signal,
      });
      if (res.statusCode !== 200) throw failure(path, res.statusCode, statusMessage(await res.body.text()));
      const decoder = new StringDecoder("utf8");
      let pending = "";
      for await (const chunk of res.body) {
        arm();
        pending = deliverLines(path, pending + decoder.write(chunk as Buffer), onEvent);
      }
      // The server ended the response: a last event without its newline is still whole (readline, which
      // client-node's Watch used, delivers it too).
      deliverLines(path, `${pending}${decoder.end()}\n`, onEvent);
    } catch (err) {
      throw abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason : err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      void dispatcher.destroy().catch(() => undefined);
    }
  }
}

/** Delivers each complete line of `text`; returns the unterminated rest. */
function deliverLines(path: string, text: string, onEvent: (type: WatchEventType, object: unknown) => void): string {
  let start = 0;
  for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
    const line = text.slice(start, nl);
    start = nl + 1;
    if (line.trim()) deliver(path, line, onEvent);
  }
  return text.slice(start);
}

function deliver(path: string, line: string, onEvent: (type: WatchEventType, object: unknown) => void): void {
  const event = JSON.parse(line) as { type?: string; object?: unknown };
  if (event.type === "ERROR") {
    const status = (event.object ?? {}) as { code?: number; message?: string };
    throw failure(path, status.code ?? 500, status.message ?? JSON.stringify(status).slice(0, 300));
  }
  if (event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED" || event.type === "BOOKMARK") {
    onEvent(event.type, event.object);
  }
}

function failure(path: string, code: number, message: string): KubeApiError {
  const text = `watch ${path}: HTTP ${code}: ${message}`;
  return code === 410 ? new WatchExpiredError(text) : new KubeApiError(text, code);
}
