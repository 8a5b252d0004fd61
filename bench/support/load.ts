/**
 * One measured phase: create N LoadBalancer Services of a class at a fixed client concurrency and record,
 * per Service, when its create call returned and when a watch in this process first saw an address in its
 * status. Times are performance.now() of this process, so both ends of each latency use one clock.
 */
import { performance } from "node:perf_hooks";
import { type KubeHttp, KubeHttpError, type ServiceLike, hasIngress, listAll } from "./kube-http.js";
import { ServiceWatch } from "./service-watch.js";

export interface LoadOptions {
  http: KubeHttp;
  namespace: string;
  /** Undefined: class-less Services (the upstream controller handles only those). */
  loadBalancerClass: string | undefined;
  n: number;
  concurrency: number;
  /** From the first create: fail the phase if not every Service has an address by then. */
  timeoutMs: number;
  /** Progress lines (stderr) are prefixed with this. */
  label: string;
  log: (line: string) => void;
  /** Checked every second while waiting; throw to abort the phase (e.g. the controller died). */
  check?: () => void;
}

export interface LoadTimings {
  n: number;
  /** performance.now() when the first create was sent. */
  firstCreateStart: number;
  /** When the last create returned. */
  lastCreateEnd: number;
  /** When the last address was seen. */
  lastStatus: number;
  createdAt: Float64Array;
  statusAt: Float64Array;
  /** Creates that needed a retry (429/5xx/timeouts). */
  createRetries: number;
}

export class PhaseTimeoutError extends Error {}

export const serviceName = (i: number): string => `svc-${String(i).padStart(5, "0")}`;

function serviceBody(namespace: string, name: string, loadBalancerClass: string | undefined): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "lb-operator-bench" } },
    spec: {
      type: "LoadBalancer",
      ...(loadBalancerClass === undefined ? {} : { loadBalancerClass }),
      selector: { app: name },
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
    },
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadTimings> {
  const { http, namespace, n } = options;
  const createdAt = new Float64Array(n).fill(Number.NaN);
  const statusAt = new Float64Array(n).fill(Number.NaN);
  let created = 0;
  let withStatus = 0;
  let createRetries = 0;
  let firstCreateStart = Number.NaN;
  let lastCreateEnd = 0;
  let lastStatus = 0;
  let lastDecile = { created: -1, status: -1 };
  const allDone = Promise.withResolvers<void>();

  const progress = (): void => {
    const d = { created: Math.floor((created * 10) / n), status: Math.floor((withStatus * 10) / n) };
    if (d.created === lastDecile.created && d.status === lastDecile.status) return;
    lastDecile = d;
    const t = Number.isNaN(firstCreateStart) ? 0 : (performance.now() - firstCreateStart) / 1000;
    options.log(
      `${options.label} ${t.toFixed(1).padStart(6)} s  created ${created}/${n}  with address ${withStatus}/${n}`,
    );
  };

  const observer = new ServiceWatch(
    http,
    `/api/v1/namespaces/${namespace}/services`,
    (type, svc: ServiceLike) => {
      if (type === "DELETED" || !hasIngress(svc)) return;
      const m = /^svc-(\d+)$/.exec(svc.metadata?.name ?? "");
      const i = m ? Number(m[1]) : -1;
      if (i < 0 || i >= n || !Number.isNaN(statusAt[i]!)) return;
      const now = performance.now();
      statusAt[i] = now;
      lastStatus = Math.max(lastStatus, now);
      withStatus++;
      progress();
      if (withStatus === n) allDone.resolve();
    },
    (message) => options.log(`${options.label} observer: ${message}`),
  );
  await observer.start();

  let next = 0;
  let failure: Error | undefined;
  const create = async (i: number): Promise<void> => {
    const name = serviceName(i);
    const body = serviceBody(namespace, name, options.loadBalancerClass);
    for (let attempt = 0; ; attempt++) {
      try {
        await http.call("POST", `/api/v1/namespaces/${namespace}/services`, body);
        return;
      } catch (err) {
        // A create that timed out may have happened: 409 on a retry means it did.
        if (attempt > 0 && err instanceof KubeHttpError && err.status === 409) return;
        const retriable =
          !(err instanceof KubeHttpError) || err.status === undefined || err.status === 429 || err.status >= 500;
        if (!retriable || attempt >= 5) throw err;
        createRetries++;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  };
  const creator = async (): Promise<void> => {
    while (failure === undefined && next < n) {
      const i = next++;
      try {
        await create(i);
      } catch (err) {
        failure ??= asError(err);
        allDone.resolve();
        return;
      }
      const now = performance.now();
      createdAt[i] = now;
      lastCreateEnd = Math.max(lastCreateEnd, now);
      created++;
      progress();
    }
  };

  firstCreateStart = performance.now();
  const creators = Promise.all(Array.from({ length: Math.min(options.concurrency, n) }, creator));
  const ticker = setInterval(() => {
    try {
      options.check?.();
      if (performance.now() - firstCreateStart > options.timeoutMs) {
        throw new PhaseTimeoutError(
          `${options.label}: no convergence within ${options.timeoutMs / 1000} s of the first create ` +
            `(created ${created}/${n}, with address ${withStatus}/${n})`,
        );
      }
    } catch (err) {
      failure ??= asError(err);
      allDone.resolve();
    }
  }, 1_000);
  try {
    // A function, so the check after `await creators` is not narrowed away by the one before it.
    const throwIfFailed = (): void => {
      if (failure !== undefined) throw failure;
    };
    await allDone.promise;
    throwIfFailed();
    await creators;
    throwIfFailed();
  } finally {
    clearInterval(ticker);
    await observer.stop();
  }
  return { n, firstCreateStart, lastCreateEnd, lastStatus, createdAt, statusAt, createRetries };
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Deletes every Service of the namespace, `concurrency` at a time, and waits until the apiserver has also
 * released their ClusterIPs (IPAddress objects), so the next phase starts from the same apiserver state. A
 * controller that put its finalizer on them must still run.
 */
export async function deleteServices(
  http: KubeHttp,
  namespace: string,
  concurrency: number,
  log: (line: string) => void,
): Promise<void> {
  const started = performance.now();
  const { items } = await listAll<ServiceLike>(http, `/api/v1/namespaces/${namespace}/services`);
  const names = items.map((s) => s.metadata?.name ?? "").filter((n) => n !== "");
  const ipsBefore = (await listAll<unknown>(http, "/apis/networking.k8s.io/v1/ipaddresses")).items.length;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++]!;
      for (let attempt = 0; ; attempt++) {
        try {
          await http.call("DELETE", `/api/v1/namespaces/${namespace}/services/${name}`);
          break;
        } catch (err) {
          if (err instanceof KubeHttpError && err.status === 404) break;
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  // A controller's finalizers go first (about three writes per Service for the upstream one): allow for them.
  const waitMs = 60_000 + 20 * names.length;
  const deadline = performance.now() + waitMs;
  for (;;) {
    const left = (await listAll<ServiceLike>(http, `/api/v1/namespaces/${namespace}/services`)).items.length;
    const ips = (await listAll<unknown>(http, "/apis/networking.k8s.io/v1/ipaddresses")).items.length;
    if (left === 0 && ips <= ipsBefore - names.length) {
      log(
        `deleted ${names.length} Services of ${namespace} in ${((performance.now() - started) / 1000).toFixed(1)} s (IPAddress objects left: ${ips})`,
      );
      return;
    }
    if (performance.now() > deadline)
      throw new Error(
        `${namespace}: ${left} Services and ${ips} IPAddress objects still there ${waitMs / 1000} s after deleting`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}
