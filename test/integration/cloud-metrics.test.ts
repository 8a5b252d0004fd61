/**
 * The controller's cloud API metrics on moto, scraped over HTTP: the AWS provider's clients report through the
 * controller's CloudCallObserver (as `lb-operator run` wires them), and after an NLB Service is created and
 * deleted, lb_operator_cloud_api_calls_total per API and operation equals what the call counter saw sent.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { observeAwsClients } from "../../providers/aws/aws-call-metrics.js";
import { awsProviderFor } from "../../providers/aws/create-aws-provider.js";
import { startHttpServer } from "../../src/http-server.js";
import { ControllerMetrics } from "../../src/metrics.js";
import { eventually } from "../../testing/eventually.js";
import { type CallCounter, countCalls } from "../env/aws-call-counter.js";
import { createAwsWorld } from "../env/aws-world.js";
import { type RunningController, startController, useTestCluster } from "../env/controller-harness.js";
import { type MotoServer, startMoto } from "../env/moto.js";
import { apiService } from "../fixtures/api-services.js";

const CLASS = "lb-operator.io/aws";
const CLUSTER = "test-cluster";
const cluster = useTestCluster();
/** What beforeAll starts: moto, the controller on call-counted clients, and the metrics server. */
const parts: { moto?: MotoServer; counter?: CallCounter; controller?: RunningController; server?: Server } = {};

beforeAll(async () => {
  const moto = (parts.moto = await startMoto());
  const world = await createAwsWorld(moto.clients(), { clusterId: CLUSTER, nodes: 2 });
  for (const node of world.nodes()) {
    const created = await cluster.kube.core.createNode({ body: { metadata: node.metadata, spec: node.spec } });
    await cluster.kube.core.replaceNodeStatus({
      name: created.metadata?.name ?? "",
      body: { ...created, status: node.status },
    });
  }
  const metrics = new ControllerMetrics({ processMetrics: false });
  const clients = moto.clients();
  observeAwsClients(clients, metrics.cloudCallObserver("aws"));
  const counter = (parts.counter = countCalls(clients));
  const provider = awsProviderFor(counter.clients, pino({ level: "silent" }));
  const controller = (parts.controller = await startController(
    cluster.cp.kubeConfig(),
    provider,
    { clusterId: CLUSTER, classOptions: { loadBalancerClass: CLASS, isDefaultClass: false } },
    undefined,
    metrics,
  ));
  parts.server = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    registry: metrics.registry,
    health: { live: () => true, ready: () => controller.state.ready() },
  });
});

afterAll(async () => {
  parts.server?.close();
  await parts.controller?.stop();
  await parts.moto?.stop();
});

/** `name{labels} value` lines of one metric from a scrape, as label maps with values. */
async function scrape(metric: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const { port } = parts.server?.address() as AddressInfo;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) => {
      const match = /^[^{]+\{(.*)\} (\S+)$/.exec(line);
      const labelText = match?.[1] ?? "";
      const value = match?.[2] ?? "";
      const labels: Record<string, string> = {};
      for (const m of labelText.matchAll(/(\w+)="([^"]*)"/g)) labels[m[1] ?? ""] = m[2] ?? "";
      return { labels, value: Number(value) };
    });
}

/** Scraped calls as the counter keys them ("api:Operation"), all outcomes summed. */
async function scrapedCalls(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of await scrape("lb_operator_cloud_api_calls_total")) {
    expect(labels.provider).toBe("aws");
    const key = `${labels.api}:${labels.operation}`;
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

describe("cloud API metrics on moto", () => {
  it("count every AWS call the provider sends, per API and operation, as the call counter does", async () => {
    const { kube } = cluster;
    const ns = await kube.createNamespace("metrics");
    const svc = apiService(ns, "web", CLASS, (s) => {
      s.metadata!.annotations = { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" };
    });
    await kube.core.createNamespacedService({ namespace: ns, body: svc });
    await eventually(
      "an NLB hostname",
      async () => (await kube.service(ns, "web"))?.status?.loadBalancer?.ingress?.[0]?.hostname,
      {
        timeoutMs: 60_000,
      },
    );
    await kube.core.deleteNamespacedService({ namespace: ns, name: "web" });
    await eventually("the Service gone", async () => (await kube.service(ns, "web")) === undefined, {
      timeoutMs: 60_000,
    });

    // The counter counts a call when it is sent, the metric when it is answered: equal once the provider is idle.
    const expected = await eventually(
      "the scraped calls to equal the counted ones",
      async () => {
        const counted = parts.counter?.byOperation({ qualified: true }) ?? {};
        const scraped = await scrapedCalls();
        return JSON.stringify(sorted(scraped)) === JSON.stringify(sorted(counted)) ? counted : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(expected["elbv2:CreateLoadBalancer"]).toBe(1);
    expect(expected["elbv2:DeleteLoadBalancer"]).toBe(1);
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(8);
    const outcomes = new Set((await scrape("lb_operator_cloud_api_calls_total")).map((s) => s.labels.outcome));
    expect(outcomes.has("success")).toBe(true);
    // Each call was timed too, and each reconcile under the provider's name and its verdict.
    const timed = await scrape("lb_operator_cloud_api_call_duration_seconds_count");
    expect(timed.reduce((sum, s) => sum + s.value, 0)).toBe(parts.counter?.count());
    const reconciles = await scrape("lb_operator_reconcile_duration_seconds_count");
    expect(
      reconciles.find((r) => r.labels.provider === "aws" && r.labels.verdict === "success")?.value,
    ).toBeGreaterThanOrEqual(2);
  });
});

function sorted(record: Record<string, number>): [string, number][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
