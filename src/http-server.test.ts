import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startHttpServer } from "./http-server.js";
import { ControllerMetrics } from "./metrics.js";

describe("http server", () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  async function serve(health: { live: () => boolean; ready: () => boolean }) {
    const metrics = new ControllerMetrics({ processMetrics: false });
    metrics.reconcileTotal.inc({ verdict: "success" }, 3);
    const server = await startHttpServer({ host: "127.0.0.1", port: 0, registry: metrics.registry, health });
    close = () => server.close();
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("serves Prometheus metrics, and health and readiness from the health source", async () => {
    let ready = false;
    const base = await serve({ live: () => true, ready: () => ready });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/text\/plain/);
    expect(await metrics.text()).toMatch(/^lb_operator_reconcile_total\{verdict="success"\} 3$/m);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("reports an unhealthy process on /healthz", async () => {
    const base = await serve({ live: () => false, ready: () => true });
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
  });
});
