/**
 * The baseline of bench/reconcile.ts: the least work that gives a LoadBalancer Service an address. A bare
 * client (bench/support/kube-http.ts, one keep-alive agent) watches Services cluster-wide, as the controller
 * does, and for each new Service of its class without an address sends one merge patch to the status
 * subresource with the next address of 198.18.0.0/15 (RFC 2544's benchmarking range; the address only
 * appears in status, no traffic is ever sent). `--workers` patches run at once, like the controller's workers.
 *
 * Run as a child process by bench/reconcile.ts (so it has its own event loop, as the controller has):
 *   node --import tsx bench/baseline-patcher.ts --kubeconfig <path> --class <class> --workers <n>
 * Prints "ready" on stdout once its watch is connected.
 */
import { parseArgs } from "node:util";
import { KubeHttp, KubeHttpError, type ServiceLike, hasIngress, loadKubeconfig } from "./support/kube-http.js";
import { ServiceWatch } from "./support/service-watch.js";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    class: { type: "string" },
    workers: { type: "string", default: "5" },
  },
});
const kubeconfig = values.kubeconfig;
const cls = values.class;
const workers = Number(values.workers);
if (!kubeconfig || !cls || !Number.isInteger(workers) || workers < 1) {
  process.stderr.write("usage: baseline-patcher --kubeconfig PATH --class CLASS [--workers N]\n");
  process.exit(2);
}

/** 198.18.0.0/15 holds 131,072 addresses; start at .1 and count up. */
const BASE = ((198 << 24) >>> 0) | (18 << 16);
let nextAddress = 1;
function allocate(): string {
  const v = (BASE + nextAddress++) >>> 0;
  if (nextAddress >= 1 << 17) throw new Error("198.18.0.0/15 exhausted");
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

const http = new KubeHttp(loadKubeconfig(kubeconfig), { maxSockets: workers });
const seen = new Set<string>();
const queue: ServiceLike[] = [];
const idle: (() => void)[] = [];
let patched = 0;
let failed = 0;

function onService(type: string, svc: ServiceLike): void {
  if (type === "DELETED") return;
  const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
  if (svc.spec?.type !== "LoadBalancer" || svc.spec.loadBalancerClass !== cls) return;
  if (svc.metadata?.deletionTimestamp || hasIngress(svc) || seen.has(key)) return;
  seen.add(key);
  queue.push(svc);
  idle.shift()?.();
}

async function patch(svc: ServiceLike): Promise<void> {
  const ns = svc.metadata?.namespace ?? "default";
  const name = svc.metadata?.name ?? "";
  const ports = (svc.spec?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" }));
  // The same shape the controller writes: ip, ipMode and ports.
  const body = { status: { loadBalancer: { ingress: [{ ip: allocate(), ipMode: "VIP", ports }] } } };
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(name)}/status`;
  for (let attempt = 0; ; attempt++) {
    try {
      await http.call("PATCH", path, body, "application/merge-patch+json");
      patched++;
      return;
    } catch (err) {
      if (err instanceof KubeHttpError && err.status === 404) return;
      if (attempt >= 5) {
        failed++;
        process.stderr.write(`baseline-patcher: giving up on ${ns}/${name}: ${String(err)}\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}

async function worker(): Promise<void> {
  for (;;) {
    const svc = queue.shift();
    if (svc === undefined) {
      await new Promise<void>((r) => idle.push(r));
      continue;
    }
    await patch(svc);
  }
}

const watch = new ServiceWatch(http, "/api/v1/services", onService, (m) =>
  process.stderr.write(`baseline-patcher: ${m}\n`),
);
process.on("SIGTERM", () => {
  process.stderr.write(`baseline-patcher: patched ${patched}, failed ${failed}\n`);
  process.exit(0);
});
await watch.start();
for (let i = 0; i < workers; i++) void worker();
process.stdout.write("ready\n");
