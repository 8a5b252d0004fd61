/**
 * One phase of bench/allocation.ts against whichever implementation runs: N LoadBalancer Services of its class
 * created at once, all selecting the same few pods, and per Service the time from its create call returning to
 * (1) a watch in this process seeing `status.loadBalancer.ingress` set and (2) the first request through that VIP
 * answered by a pod, from the lab's client. All times are Date.now() of this machine (the client agent's loop
 * reports its own Date.now(), same clock).
 */
import { LbOperatorError } from "../../src/errors.js";
import type { Lab } from "../../test/env/lab/lab.js";
import { KubeHttp, type ServiceLike, loadKubeconfig } from "./kube-http.js";
import { ServiceWatch } from "./service-watch.js";

export class AllocationRaceError extends LbOperatorError {}

/** Label on every Service a phase creates, valued with the implementation's name: what the cleanup deletes. */
export const ALLOCATION_LABEL = "bench.lb-operator.io/allocation";

export interface AllocationOptions {
  readonly namespace: string;
  readonly implementation: string;
  readonly loadBalancerClass: string;
  /** Pod label the Services select (the pods already run). */
  readonly selector: Readonly<Record<string, string>>;
  readonly services: number;
  /** VIPs polled at once; a VIP waits for a free slot once its ingress is seen. */
  readonly probeConcurrency: number;
  /** From the first create: a Service without an answer by then is reported as not answered. */
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

export interface ServiceTiming {
  readonly name: string;
  readonly vip: string | undefined;
  /** create returned -> ingress seen; undefined when never seen. */
  readonly ingressMs: number | undefined;
  /** create returned -> first answered request; undefined when none answered before the timeout. */
  readonly answeredMs: number | undefined;
  /** ingress seen -> a probe slot free (0 unless more VIPs than `probeConcurrency` waited at once). */
  readonly probeWaitMs: number | undefined;
}

interface Pending {
  createdAt?: number;
  ingressAt?: number;
  vip?: string;
  probeStartAt?: number;
  answeredAt?: number;
}

const PROBE_EVERY_MS = 20;
const PROBE_TIMEOUT_MS = 100;

export const allocationServiceName = (i: number): string => `svc-${String(i).padStart(3, "0")}`;

export async function raceAllocation(lab: Lab, options: AllocationOptions): Promise<ServiceTiming[]> {
  const http = new KubeHttp(loadKubeconfig(lab.cp.kubeconfigPath), { maxSockets: 32 });
  const names = Array.from({ length: options.services }, (_, i) => allocationServiceName(i));
  const state = new Map<string, Pending>(names.map((n) => [n, {}]));
  const firstCreate = Date.now();
  const deadline = firstCreate + options.timeoutMs;
  const queue: string[] = [];
  const probes: Promise<void>[] = [];
  let probing = 0;
  let answered = 0;
  const allAnswered = Promise.withResolvers<void>();

  const probe = async (name: string, s: Pending, vip: string): Promise<void> => {
    s.probeStartAt = Date.now();
    const r = await lab.client.agent.loop({
      protocol: "TCP",
      ip: vip,
      port: 80,
      everyMs: PROBE_EVERY_MS,
      timeoutMs: PROBE_TIMEOUT_MS,
      startAt: s.probeStartAt,
      deadline,
    });
    if (r.ok && r.at !== undefined) {
      s.answeredAt = r.at;
      if (++answered % Math.max(1, Math.floor(options.services / 10)) === 0)
        options.log(`${options.implementation}: ${answered}/${options.services} answered (${name} at ${vip})`);
      if (answered === options.services) allAnswered.resolve();
    }
  };
  const pump = (): void => {
    while (probing < options.probeConcurrency && queue.length > 0) {
      const name = queue.shift() ?? "";
      const s = state.get(name);
      if (!s?.vip) continue;
      probing++;
      probes.push(probe(name, s, s.vip).finally(() => (probing--, pump())));
    }
  };
  const watch = new ServiceWatch(
    http,
    `/api/v1/namespaces/${options.namespace}/services`,
    (type, svc: ServiceLike) => {
      const s = state.get(svc.metadata?.name ?? "");
      const ip = (svc.status?.loadBalancer?.ingress?.[0] as { ip?: string } | undefined)?.ip;
      if (type === "DELETED" || !s || s.ingressAt !== undefined || !ip) return;
      s.ingressAt = Date.now();
      s.vip = ip;
      queue.push(svc.metadata?.name ?? "");
      pump();
    },
    (message) => options.log(`${options.implementation} watch: ${message}`),
  );
  await watch.start();
  try {
    await Promise.all(
      names.map(async (name) => {
        await http.call("POST", `/api/v1/namespaces/${options.namespace}/services`, serviceBody(name, options));
        const s = state.get(name);
        if (s) s.createdAt = Date.now();
      }),
    );
    options.log(`${options.implementation}: ${names.length} Services created in ${Date.now() - firstCreate} ms`);
    const timer = setTimeout(allAnswered.resolve, Math.max(0, deadline - Date.now()));
    await allAnswered.promise;
    clearTimeout(timer);
    // Loops still running end at the deadline; wait so none outlives the phase.
    await Promise.all(probes);
  } finally {
    await watch.stop();
    http.close();
  }
  return names.map((name) => {
    const s = state.get(name) ?? {};
    const since = (t: number | undefined): number | undefined =>
      t === undefined || s.createdAt === undefined ? undefined : t - s.createdAt;
    return {
      name,
      vip: s.vip,
      ingressMs: since(s.ingressAt),
      answeredMs: since(s.answeredAt),
      probeWaitMs: s.probeStartAt === undefined || s.ingressAt === undefined ? undefined : s.probeStartAt - s.ingressAt,
    };
  });
}

function serviceBody(name: string, options: AllocationOptions): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: options.namespace, labels: { [ALLOCATION_LABEL]: options.implementation } },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: options.loadBalancerClass,
      selector: options.selector,
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
    },
  };
}
