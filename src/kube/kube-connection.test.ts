import { createServer } from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeRest } from "./kube-rest.js";
import { PooledKubeConfig } from "./pooled-kube-config.js";

// A tiny HTTPS "apiserver" that counts TLS connections: the observable cost of client-node's per-call Agent.
let server: ReturnType<typeof createServer>;
let connections = 0;
const authorizations: (string | undefined)[] = [];
let dir: string;
let url: string;
let ca: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pooled-kc-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  ca = readFileSync(join(dir, "cert.pem"), "utf8");
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: ca }, (req, res) => {
    authorizations.push(req.headers.authorization);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }));
  });
  server.on("secureConnection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(kc: KubeConfig): KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: "c", server: url, caData: Buffer.from(ca).toString("base64"), skipTLSVerify: false }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

async function connectionsFor(kc: KubeConfig, calls: number): Promise<number> {
  const before = connections;
  const api = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < calls; i++) await api.readNamespace({ name: "x" });
  return connections - before;
}

describe("PooledKubeConfig", () => {
  // The pool may open a second connection while the first response is still being released; what matters is
  // that connections stop growing with the number of calls.
  it("keeps reusing its connections where plain client-node opens one per call", async () => {
    expect(await connectionsFor(config(new KubeConfig()), 10)).toBe(10);
    expect(await connectionsFor(config(new PooledKubeConfig()), 30)).toBeLessThanOrEqual(2);
  });

  it("copies contexts, clusters and users from another KubeConfig", async () => {
    const pooled = PooledKubeConfig.from(config(new KubeConfig()));
    expect(pooled.getCurrentCluster()?.server).toBe(url);
    expect(await connectionsFor(pooled, 10)).toBeLessThanOrEqual(2);
  });

  it("sends KubeRest's writes with the user's token over the pooled connections", async () => {
    const rest = new KubeRest(config(new PooledKubeConfig()));
    const before = connections;
    authorizations.length = 0;
    for (let i = 0; i < 20; i++) await rest.post("/api/v1/namespaces/x/events", { i });
    expect(connections - before).toBeLessThanOrEqual(2);
    expect(authorizations).toEqual(Array(20).fill("Bearer t"));
  });
});
