import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_ECHO_IMAGE, DataPathOptionsError, dataPathFromFlags, freshHttpGet } from "./data-path.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A loopback server; `connections` counts TCP connections, so a reused one shows. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer(handler);
  server.on("connection", () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe("freshHttpGet", () => {
  it("answers with the status and body, each request on its own connection", async () => {
    const { url, connections } = await serve((req, res) =>
      res.end(`${req.url ?? ""} from ${req.socket.remotePort ?? 0}`),
    );
    const first = await freshHttpGet(`${url}/hostname`, { timeoutMs: 2_000 });
    const second = await freshHttpGet(`${url}/hostname`, { timeoutMs: 2_000 });
    expect(first).toMatchObject({ ok: true, status: 200 });
    expect(first.body).toMatch(/^\/hostname from \d+$/);
    expect(second.body).not.toBe(first.body);
    expect(connections()).toBe(2);
  });

  it("reports a non-2xx answer as not ok, with its status and body", async () => {
    const { url } = await serve((_req, res) => res.writeHead(503).end("no endpoints"));
    expect(await freshHttpGet(url, { timeoutMs: 2_000 })).toEqual({ ok: false, status: 503, body: "no endpoints" });
  });

  it("resolves with the error when the connection is refused", async () => {
    const { url } = await serve(() => undefined);
    const closed = servers.pop()!;
    await new Promise((r) => closed.close(r));
    const response = await freshHttpGet(url, { timeoutMs: 2_000 });
    expect(response.ok).toBe(false);
    expect(response.error).toMatch(/ECONNREFUSED/);
  });

  it("gives up after the timeout when nothing answers (a dropped request)", async () => {
    const { url } = await serve(() => undefined);
    const started = Date.now();
    expect(await freshHttpGet(url, { timeoutMs: 200 })).toEqual({ ok: false, error: "no answer within 200 ms" });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("resolves, not throws, on an invalid URL", async () => {
    expect((await freshHttpGet("not a url", { timeoutMs: 200 })).ok).toBe(false);
  });
});

describe("dataPathFromFlags", () => {
  it("gives no data path without --data-path", () => {
    expect(dataPathFromFlags({})).toBeUndefined();
  });

  it("gives the client address, the default echo image and the fresh-connection GET", () => {
    const dp = dataPathFromFlags({ dataPath: true, clientAddress: "192.0.2.10" });
    expect(dp).toMatchObject({ clientAddress: "192.0.2.10", echoImage: DEFAULT_ECHO_IMAGE, get: freshHttpGet });
    expect(
      dataPathFromFlags({ dataPath: true, clientAddress: "2001:db8::10", echoImage: "example.com/echo:1" })?.echoImage,
    ).toBe("example.com/echo:1");
  });

  it("requires a valid --client-address with --data-path, and --data-path with --client-address", () => {
    expect(() => dataPathFromFlags({ dataPath: true })).toThrow(DataPathOptionsError);
    expect(() => dataPathFromFlags({ dataPath: true })).toThrow(/--data-path needs --client-address <ip>/);
    expect(() => dataPathFromFlags({ dataPath: true, clientAddress: "client.example" })).toThrow(
      /expected an IPv4 or IPv6 address, got "client.example"/,
    );
    expect(() => dataPathFromFlags({ clientAddress: "192.0.2.10" })).toThrow(
      /--client-address is only used with --data-path/,
    );
  });
});
