import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KubeApiError } from "../errors.js";
import type { KubeConfigData } from "./kube-config-loader.js";
import { HttpWatchTransport, WatchExpiredError, WatchInactiveError, type WatchEventType } from "./watch-stream.js";

/** One watch request as the server saw it; `closed` settles when its connection goes away. */
interface Incoming {
  req: IncomingMessage;
  res: ServerResponse;
  closed: Promise<void>;
}

let server: Server;
let data: KubeConfigData;
let next: PromiseWithResolvers<Incoming>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
    next.resolve({ req, res, closed });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  data = {
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}/`, skipTLSVerify: false }],
    users: [{ name: "u", token: "watch-token" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  };
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  next = Promise.withResolvers<Incoming>();
});

type Delivered = [WatchEventType, unknown];

/**
 * Collects events; `count(n, watching)` resolves once n have arrived (the client provably consumed what was
 * written), or settles with the watch if it ends first, so a broken watch fails the test instead of hanging it.
 */
function recorder(): {
  events: Delivered[];
  onEvent: (t: WatchEventType, o: unknown) => void;
  count: (n: number, watching: Promise<void>) => Promise<void>;
} {
  const events: Delivered[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    events,
    onEvent: (type, object) => {
      events.push([type, object]);
      for (const w of waiters.filter((w) => events.length >= w.n)) w.resolve();
    },
    count: (n, watching) =>
      events.length >= n
        ? Promise.resolve()
        : Promise.race([new Promise<void>((resolve) => waiters.push({ n, resolve })), watching]),
  };
}

function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

function service(name: string, resourceVersion: string): object {
  return { kind: "Service", metadata: { name, resourceVersion } };
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.flushHeaders();
}

function status(code: number, message: string): object {
  return { kind: "Status", apiVersion: "v1", status: "Failure", message, reason: "Expired", code };
}

describe("HttpWatchTransport", () => {
  it("asks for a watch with bookmarks from the resourceVersion, as JSON, with the user's token", async () => {
    const transport = new HttpWatchTransport(data);
    const watching = transport.watch("/api/v1/services", "4711", () => undefined, new AbortController().signal);
    const { req, res } = await next.promise;
    res.writeHead(200).end();
    await watching;
    const url = new URL(req.url ?? "", "http://x");
    expect(url.pathname).toBe("/api/v1/services");
    expect(url.searchParams.get("watch")).toBe("true");
    expect(url.searchParams.get("allowWatchBookmarks")).toBe("true");
    expect(url.searchParams.get("resourceVersion")).toBe("4711");
    expect(req.headers.accept).toBe("application/json");
    expect(req.headers.authorization).toBe("Bearer watch-token");
  });

  it("leaves the resourceVersion out when it has none", async () => {
    const watching = new HttpWatchTransport(data).watch("/api/v1/nodes", "", () => undefined, AbortSignal.any([]));
    const { req, res } = await next.promise;
    res.writeHead(200).end();
    await watching;
    expect(new URL(req.url ?? "", "http://x").searchParams.has("resourceVersion")).toBe(false);
  });

  it("keeps a query the path carries, such as a label selector", async () => {
    const watching = new HttpWatchTransport(data).watch(
      "/api/v1/services?labelSelector=app%3Dweb",
      "7",
      () => undefined,
      AbortSignal.any([]),
    );
    const { req, res } = await next.promise;
    res.writeHead(200).end();
    await watching;
    const url = new URL(req.url ?? "", "http://x");
    expect(url.pathname).toBe("/api/v1/services");
    expect(url.searchParams.get("labelSelector")).toBe("app=web");
    expect(url.searchParams.get("watch")).toBe("true");
    expect(url.searchParams.get("resourceVersion")).toBe("7");
  });

  it("delivers events split across chunks whole and in order, bookmarks included", async () => {
    const rec = recorder();
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res } = await next.promise;
    startStream(res);

    // One event, then half of the next: the client must hold the half until the rest arrives.
    const second = line("MODIFIED", service("b", "3"));
    res.write(line("ADDED", service("a", "2")) + second.slice(0, 20));
    await rec.count(1, watching);
    res.write(second.slice(20));
    await rec.count(2, watching);

    // Two events in one write.
    res.write(
      line("DELETED", service("a", "4")) + line("BOOKMARK", { kind: "Service", metadata: { resourceVersion: "5" } }),
    );
    await rec.count(4, watching);

    // A multibyte character (a 4-byte emoji and a 2-byte é) split between writes.
    const name = "caf\u00e9-\u{1F680}";
    const bytes = Buffer.from(line("ADDED", service(name, "6")));
    const emoji = bytes.indexOf(Buffer.from("\u{1F680}"));
    const eAcute = bytes.indexOf(Buffer.from("\u00e9"));
    res.write(
      Buffer.concat([
        Buffer.from(line("BOOKMARK", { metadata: { resourceVersion: "5" } })),
        bytes.subarray(0, eAcute + 1),
      ]),
    );
    await rec.count(5, watching);
    res.write(bytes.subarray(eAcute + 1, emoji + 2));
    res.end(bytes.subarray(emoji + 2));
    await watching;

    expect(rec.events).toEqual([
      ["ADDED", service("a", "2")],
      ["MODIFIED", service("b", "3")],
      ["DELETED", service("a", "4")],
      ["BOOKMARK", { kind: "Service", metadata: { resourceVersion: "5" } }],
      ["BOOKMARK", { metadata: { resourceVersion: "5" } }],
      ["ADDED", service(name, "6")],
    ]);
  });

  it("resolves when the server ends the watch, after delivering what it sent", async () => {
    const rec = recorder();
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res } = await next.promise;
    startStream(res);
    res.end(line("ADDED", service("a", "2")));
    await expect(watching).resolves.toBeUndefined();
    expect(rec.events).toEqual([["ADDED", service("a", "2")]]);
  });

  it("delivers a last event the server ends without a newline", async () => {
    const rec = recorder();
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res } = await next.promise;
    startStream(res);
    res.end(line("ADDED", service("a", "2")) + line("MODIFIED", service("a", "3")).trimEnd());
    await watching;
    expect(rec.events).toEqual([
      ["ADDED", service("a", "2")],
      ["MODIFIED", service("a", "3")],
    ]);
  });

  it("rejects with WatchExpiredError on an ERROR event carrying a 410 Status", async () => {
    const rec = recorder();
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res, closed } = await next.promise;
    startStream(res);
    res.write(line("ADDED", service("a", "2")) + line("ERROR", status(410, "too old resource version: 1 (9)")));
    const err = await watching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchExpiredError);
    expect((err as WatchExpiredError).statusCode).toBe(410);
    expect((err as Error).message).toContain("too old resource version");
    expect(rec.events).toEqual([["ADDED", service("a", "2")]]);
    // The client, not the server, ended it: its connection is closed.
    await closed;
  });

  it("rejects with WatchExpiredError on an HTTP 410 response", async () => {
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", () => undefined, AbortSignal.any([]));
    const { res } = await next.promise;
    res.writeHead(410, { "Content-Type": "application/json" }).end(JSON.stringify(status(410, "gone away")));
    const err = await watching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchExpiredError);
    expect((err as Error).message).toContain("gone away");
  });

  it("rejects with a KubeApiError carrying the status on HTTP 403, not an expiry", async () => {
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", () => undefined, AbortSignal.any([]));
    const { res } = await next.promise;
    res
      .writeHead(403, { "Content-Type": "application/json" })
      .end(JSON.stringify({ kind: "Status", code: 403, message: 'services is forbidden: User "u" cannot watch' }));
    const err = await watching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).not.toBeInstanceOf(WatchExpiredError);
    expect((err as KubeApiError).statusCode).toBe(403);
    expect((err as Error).message).toContain("forbidden");
  });

  it("rejects, rather than ends cleanly, when the connection drops mid-stream", async () => {
    const rec = recorder();
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res } = await next.promise;
    startStream(res);
    res.write(line("ADDED", service("a", "2")));
    await rec.count(1, watching);
    res.socket?.destroy();
    await expect(watching).rejects.toThrow();
    expect(rec.events).toHaveLength(1);
  });

  it("rejects with a KubeApiError, not an expiry, on an ERROR event with another status", async () => {
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", () => undefined, AbortSignal.any([]));
    const { res } = await next.promise;
    startStream(res);
    res.write(line("ERROR", { kind: "Status", status: "Failure", message: "etcd unavailable", code: 500 }));
    const err = await watching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).not.toBeInstanceOf(WatchExpiredError);
    expect((err as KubeApiError).statusCode).toBe(500);
  });

  it("rejects with WatchInactiveError when the server goes silent, and drops the connection", async () => {
    const rec = recorder();
    const watching = new HttpWatchTransport(data, 200).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res, closed } = await next.promise;
    startStream(res);
    res.write(line("ADDED", service("a", "2")));
    const err = await watching.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchInactiveError);
    expect(rec.events).toHaveLength(1);
    await closed;
  });

  it("restarts the inactivity limit with every chunk", async () => {
    // Six bookmarks 100 ms apart span 600 ms, longer than the 400 ms limit: only a limit each chunk restarts passes.
    const rec = recorder();
    const watching = new HttpWatchTransport(data, 400).watch("/api/v1/services", "1", rec.onEvent, AbortSignal.any([]));
    const { res } = await next.promise;
    startStream(res);
    for (let i = 1; i <= 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res.write(line("BOOKMARK", { metadata: { resourceVersion: String(i) } }));
      await rec.count(i, watching);
    }
    res.end();
    await expect(watching).resolves.toBeUndefined();
    expect(rec.events).toHaveLength(6);
  });

  it("rejects with the abort reason when the caller aborts, and the server sees the connection close", async () => {
    const stop = new AbortController();
    const rec = recorder();
    const watching = new HttpWatchTransport(data).watch("/api/v1/services", "1", rec.onEvent, stop.signal);
    const { res, closed } = await next.promise;
    startStream(res);
    res.write(line("ADDED", service("a", "2")));
    await rec.count(1, watching);
    const reason = new Error("informer stopped");
    stop.abort(reason);
    await expect(watching).rejects.toBe(reason);
    await closed;
  });

  it("rejects at once with the reason of a signal that aborted before the watch began", async () => {
    const reason = new Error("stopped before starting");
    const watching = new HttpWatchTransport(data, 60_000).watch(
      "/api/v1/services",
      "1",
      () => undefined,
      AbortSignal.abort(reason),
    );
    await expect(watching).rejects.toBe(reason);
  });
});
