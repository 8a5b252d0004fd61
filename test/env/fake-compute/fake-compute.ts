/**
 * startFakeCompute(): the fake Compute API's handle for tests (server.ts serves it). Seed data is configured at
 * start and may change afterwards (nodes join and leave); everything else is created through the API.
 */
import type { Server } from "node:http";
import { FaultBook, type RecordedCall } from "./faults.js";
import { OperationBook } from "./operations.js";
import { makeRef } from "./refs.js";
import { ROUTES } from "./router.js";
import { listen } from "./server.js";
import { ComputeStore } from "./store.js";
import {
  DEFAULT_NETWORKS,
  DEFAULT_ZONES,
  seedInstance,
  seedNetwork,
  seedZone,
  type SeedInstance,
  type SeedNetwork,
  type SeedZone,
} from "./seed.js";
import type { Collection, Instance, Operation, ResourceOf } from "./types.js";

export interface FakeComputeOptions {
  /** The one project served; other projects are 404. Default "test-project". */
  readonly project?: string;
  /** Default us-central1-a/b/c in us-central1. */
  readonly zones?: readonly SeedZone[];
  /** Default network "default" with subnetwork "default" 10.128.0.0/20 in us-central1. */
  readonly networks?: readonly SeedNetwork[];
  readonly instances?: readonly SeedInstance[];
  /** get/wait calls an operation needs to reach DONE; 0: DONE in the mutating call's answer. Default 2. */
  readonly operationPolls?: number;
  /** An operation older than this is DONE at the next request, polled or not. Default 2000 ms. */
  readonly settleAfterMs?: number;
  /** Clock for timestamps and settleAfterMs; default Date.now. */
  readonly now?: () => number;
  /** Default 127.0.0.1. */
  readonly host?: string;
}

export interface CallFilter {
  /** `<collection>.<verb>` exactly, or a RegExp over it. */
  readonly method?: string | RegExp;
  readonly mutating?: boolean;
}

export interface FakeCompute {
  readonly project: string;
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly endpoint: string;
  /** failNext / failNextOperation / delayNext / pending / clear. */
  readonly faults: FaultBook;
  calls(filter?: CallFilter): RecordedCall[];
  clearCalls(): void;
  /** Current resources of a collection (deep copies, key order). */
  resources<C extends Collection>(collection: C): ResourceOf[C][];
  /** Member instance links of zonal instance group `name`. */
  members(zone: string, name: string): string[];
  addInstance(seed: SeedInstance): Instance;
  /** Deletes a seeded instance; Compute drops it from its instance groups. */
  removeInstance(zone: string, name: string): void;
  addNetwork(seed: SeedNetwork): void;
  operations(): Operation[];
  /** Finishes every operation not yet DONE (as if time passed). */
  settleOperations(): void;
  setOperationPolls(polls: number): void;
  /** Removes every API-created resource, operation, call and fault; seeds stay. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startFakeCompute(options: FakeComputeOptions = {}): Promise<FakeCompute> {
  const project = options.project ?? "test-project";
  const now = options.now ?? Date.now;
  const host = options.host ?? "127.0.0.1";
  const store = new ComputeStore(now);
  const ops = new OperationBook(store, now, {
    polls: options.operationPolls ?? 2,
    settleAfterMs: options.settleAfterMs ?? 2000,
  });
  const faults = new FaultBook(ROUTES.map((r) => r.id));
  const calls: RecordedCall[] = [];
  const requestIds = new Map<string, { project: string; op: Operation }>();
  const seeds = {
    zones: options.zones ?? DEFAULT_ZONES,
    networks: [...(options.networks ?? DEFAULT_NETWORKS)],
    instances: [...(options.instances ?? [])],
  };
  const seedAll = () => {
    for (const z of seeds.zones) seedZone(store, project, z);
    for (const n of seeds.networks) seedNetwork(store, project, n);
    for (const vm of seeds.instances) seedInstance(store, project, vm);
  };
  seedAll();
  const { server, port } = await listen({ store, ops, faults, calls, requestIds, project }, host);
  return {
    project,
    host,
    port,
    endpoint: `http://${host}:${port}`,
    faults,
    calls: (filter = {}) =>
      calls.filter(
        (c) =>
          (filter.mutating === undefined || c.mutating === filter.mutating) &&
          (filter.method === undefined ||
            (typeof filter.method === "string" ? c.method === filter.method : filter.method.test(c.method))),
      ),
    clearCalls: () => void calls.splice(0),
    resources: (collection) => store.list(collection, project),
    members: (zone, name) =>
      store.membersOf(makeRef(project, { kind: "zone", name: zone }, "instanceGroups", name).key),
    addInstance: (seed) => {
      seeds.instances.push(seed);
      return seedInstance(store, project, seed);
    },
    removeInstance: (zone, name) => {
      const ref = makeRef(project, { kind: "zone", name: zone }, "instances", name);
      const vm = store.require("instances", ref);
      store.delete(ref);
      for (const key of store.dropMember(vm.selfLink ?? "")) {
        const group = store.get("instanceGroups", key);
        if (group)
          store.put("instanceGroups", key, {
            ...group,
            size: store.membersOf(key).length,
            fingerprint: store.nextFingerprint(),
          });
      }
      seeds.instances.splice(
        seeds.instances.findIndex((s) => s.zone === zone && s.name === name),
        1,
      );
    },
    addNetwork: (seed) => {
      seeds.networks.push(seed);
      seedNetwork(store, project, seed);
    },
    operations: () => ops.all(),
    settleOperations: () => ops.settleAll(),
    setOperationPolls: (polls) => {
      ops.settings = { ...ops.settings, polls };
    },
    reset: () => {
      store.clear();
      ops.clear();
      faults.clear();
      calls.splice(0);
      requestIds.clear();
      seedAll();
    },
    stop: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}
