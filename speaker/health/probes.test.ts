import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HealthProber } from "./health-prober.js";
import type { ProbeTarget } from "./probe-target.js";
import { PROBE_USER_AGENT, probeHttp, probeTcp } from "./probes.js";

const INTERVAL = 100;
const TIMEOUT = 50;
/** Real timers on a shared machine: slack above the contract for scheduling delays. */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
  return Date.now();
}

async function listen(server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** An HTTP server answering `status.code`, recording requests and connections. */
async function healthz() {
  const status = { code: 200 };
  const requests: http.IncomingHttpHeaders[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    res.writeHead(status.code, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ localEndpoints: status.code === 200 ? 1 : 0 }));
  });
  server.on("connection", (s) => {
    connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const port = await listen(server);
  cleanups.push(() => closeServer(server, sockets));
  return { status, requests, port, connections: () => connections };
}

/** Accepts connections and never writes a byte. */
async function blackHole() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
  });
  const port = await listen(server);
  cleanups.push(() => closeServer(server, sockets));
  return port;
}

function prober() {
  let changes = 0;
  const lines: Array<{ msg: string; detail?: string }> = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
  const p = new HealthProber({ intervalMs: INTERVAL, timeoutMs: TIMEOUT, logger, onChange: () => void changes++ });
  cleanups.push(async () => p.stop());
  return { p, lines, changes: () => changes };
}

describe("HealthProber against real local servers", () => {
  // The two-interval bound is checked on a fake clock (health-prober.test.ts); real time on a loaded 2-core machine
  // only shows the transitions happen.
  it("HTTP: 200 healthy, 503 unhealthy, 200 healthy again; onChange on transitions only", async () => {
    const srv = await healthz();
    const { p, changes } = prober();
    const target: ProbeTarget = { kind: "http", ip: "127.0.0.1", port: srv.port, path: "/healthz" };
    p.setTargets([target]);
    await waitFor(() => srv.requests.length >= 2, "two probes");
    expect(p.isHealthy(target)).toBe(true);

    srv.status.code = 503;
    await waitFor(() => !p.isHealthy(target), "unhealthy");
    await delay(2 * INTERVAL);
    expect(p.isHealthy(target)).toBe(false);

    srv.status.code = 200;
    await waitFor(() => p.isHealthy(target), "healthy again");
    await delay(INTERVAL);
    expect(changes()).toBe(2);

    // One connection per probe, no keep-alive (the next probe's connection may be open before its request).
    const requests = srv.requests.length;
    expect(requests).toBeGreaterThanOrEqual(5);
    expect(srv.connections()).toBeGreaterThanOrEqual(requests);
    expect(srv.connections()).toBeLessThanOrEqual(requests + 1);
    // Host and a short User-Agent are sent.

    expect(srv.requests[0]).toMatchObject({
      host: `127.0.0.1:${srv.port}`,
      "user-agent": PROBE_USER_AGENT,
      connection: "close",
    });
  });

  it("TCP: healthy while the server listens, unhealthy once it closes", async () => {
    const sockets = new Set<net.Socket>();
    let accepted = 0;
    const server = net.createServer((s) => {
      accepted++;
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    const port = await listen(server);
    const { p, changes } = prober();
    const target: ProbeTarget = { kind: "tcp", ip: "127.0.0.1", port };
    p.setTargets([target]);
    await waitFor(() => accepted >= 2, "two probes");
    expect(p.isHealthy(target)).toBe(true);
    expect(changes()).toBe(0);

    await closeServer(server, sockets);
    await waitFor(() => !p.isHealthy(target), "unhealthy");
    await delay(INTERVAL);
    expect(changes()).toBe(1);
  });

  it("a server that accepts but never answers is unhealthy through the timeout", async () => {
    const port = await blackHole();
    const { p, lines } = prober();
    const target: ProbeTarget = { kind: "http", ip: "127.0.0.1", port, path: "/healthz" };
    const start = Date.now();
    p.setTargets([target]);
    expect(p.isHealthy(target)).toBe(true);
    const unhealthyAt = await waitFor(() => !p.isHealthy(target), "unhealthy");
    // Not before the timeout (an early verdict would mean the probe did not wait); the upper bound is a fake-clock test.
    expect(unhealthyAt - start).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(lines.find((l) => l.msg === "backend unhealthy")?.detail).toBe(`no answer within ${TIMEOUT} ms`);
  });
});

describe("one-shot probes", () => {
  it("treats any status but 200 as unhealthy", async () => {
    const srv = await healthz();
    const target = { kind: "http", ip: "127.0.0.1", port: srv.port, path: "healthz" } as const;
    expect(await probeHttp(target, new AbortController().signal)).toEqual({ ok: true, detail: "HTTP 200" });
    for (const code of [301, 500, 503]) {
      srv.status.code = code;
      expect(await probeHttp(target, new AbortController().signal)).toEqual({ ok: false, detail: `HTTP ${code}` });
    }
  });

  it("reports a refused connection and settles when aborted", async () => {
    const server = net.createServer();
    const port = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const refused = await probeTcp({ kind: "tcp", ip: "127.0.0.1", port }, new AbortController().signal);
    expect(refused.ok).toBe(false);
    expect(refused.detail).toContain("ECONNREFUSED");

    const hole = await blackHole();
    const abort = new AbortController();
    const pending = probeHttp({ kind: "http", ip: "127.0.0.1", port: hole, path: "/" }, abort.signal);
    setTimeout(() => abort.abort(), 20);
    expect(await pending).toEqual({ ok: false, detail: "aborted" });
  });
});
