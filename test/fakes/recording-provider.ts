import type {
  ExistingLoadBalancer,
  LoadBalancerId,
  LoadBalancerProvider,
  LoadBalancerSpec,
  LoadBalancerStatus,
} from "../../src/provider.js";
import { CallLog, type ProviderTestWorld } from "../../testing/call-recorder.js";
import { newSpec } from "../../testing/new-spec.js";

export interface ProviderCall {
  op: "ensure" | "delete" | "restore";
  key: string;
  spec?: LoadBalancerSpec;
  at: number;
}

/** Decides the outcome of one call: return an error to throw it, undefined to succeed. */
export type FaultInjector = (op: "ensure" | "delete", key: string) => Error | undefined;

/**
 * A provider that records every call and can be told to fail. Its "load balancers" are entries in a map:
 * `ensure` assigns each Service a stable address from 198.51.100.0/24 and `delete` removes it, so tests can
 * assert what exists after any sequence of calls.
 */
export class RecordingProvider implements LoadBalancerProvider {
  readonly name = "recording";
  readonly calls: ProviderCall[] = [];
  readonly live = new Map<string, { spec: LoadBalancerSpec | undefined; ip: string }>();
  /** Its "cloud" calls: a write when an entry of `live` is added, changed or removed, a read otherwise. */
  readonly cloud = new CallLog();
  private nextHost = 10;
  fault: FaultInjector = () => undefined;
  /** Runs inside each call before it does anything, e.g. to look at the Service in the API at that moment. */
  beforeEnsure: (spec: LoadBalancerSpec) => Promise<void> = async () => undefined;
  beforeDelete: (id: LoadBalancerId) => Promise<void> = async () => undefined;
  /** The ipMode every ensure reports (a provider that forwards itself reports Proxy). */
  ipMode: "VIP" | "Proxy" = "VIP";

  async restore(existing: readonly ExistingLoadBalancer[]): Promise<void> {
    for (const lb of existing) {
      const ip = lb.status.ingress[0]?.ip;
      this.calls.push({ op: "restore", key: keyOf(lb.id), at: Date.now() });
      if (ip) this.live.set(keyOf(lb.id), { spec: undefined, ip });
    }
  }

  async ensure(spec: LoadBalancerSpec, _signal: AbortSignal): Promise<LoadBalancerStatus> {
    const key = keyOf(spec.id);
    this.calls.push({ op: "ensure", key, spec, at: Date.now() });
    await this.beforeEnsure(spec);
    const err = this.fault("ensure", key);
    if (err) throw err;
    const current = this.live.get(key);
    const changed = current === undefined || JSON.stringify(current.spec) !== JSON.stringify(spec);
    this.cloud.record(`${changed ? "put" : "get"} ${key}`, changed);
    const ip = current?.ip ?? `198.51.100.${this.nextHost++}`;
    this.live.set(key, { spec, ip });
    return {
      ingress: [{ ip, ipMode: this.ipMode, ports: spec.ports.map((p) => ({ port: p.port, protocol: p.protocol })) }],
    };
  }

  async delete(id: LoadBalancerId, _signal: AbortSignal): Promise<void> {
    const key = keyOf(id);
    this.calls.push({ op: "delete", key, at: Date.now() });
    await this.beforeDelete(id);
    const err = this.fault("delete", key);
    if (err) throw err;
    const exists = this.live.has(key);
    this.cloud.record(`${exists ? "delete" : "get"} ${key}`, exists);
    this.live.delete(key);
  }

  callsFor(key: string, op?: ProviderCall["op"]): ProviderCall[] {
    return this.calls.filter((c) => c.key === key && (op === undefined || c.op === op));
  }

  lastSpec(key: string): LoadBalancerSpec | undefined {
    return this.callsFor(key, "ensure").at(-1)?.spec;
  }
}

function keyOf(id: LoadBalancerId): string {
  return `${id.namespace}/${id.name}`;
}

/** A RecordingProvider as a ProviderTestWorld for the contract suite: its resources are the keys of `live`. */
export async function recordingProviderWorld(provider = new RecordingProvider()): Promise<ProviderTestWorld> {
  return {
    provider,
    spec: (name) => newSpec({ name, clusterId: "recording" }),
    calls: () => provider.cloud.calls(),
    clearCalls: () => provider.cloud.clear(),
    resources: async () => [...provider.live.keys()],
    failNthMutatingCall: (n) => provider.cloud.failNth(n),
  };
}
