/**
 * Fresh AWS worlds on moto for the AWS tests: one moto per test file, and per test a reset moto, a new world
 * (createAwsWorld) and the whole AWS provider (awsProviderFor) on recorded clients. awsContractWorld is the same
 * world as a ProviderTestWorld for the contract suite (testing/contract-suite.ts).
 */
import pino from "pino";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import type { V1Node } from "@kubernetes/client-node";
import { securityGroupName } from "../../providers/aws/names.js";
import type { LoadBalancerId } from "../../src/provider.js";
import type { AwsProvider } from "../../providers/aws/aws-provider.js";
import type { AwsClients } from "../../providers/aws/aws-types.js";
import { awsProviderFor } from "../../providers/aws/create-aws-provider.js";
import type { ProviderTestWorld } from "../../testing/call-recorder.js";
import { newSpec, type NewSpecOptions, type SpecNode } from "../../testing/new-spec.js";
import { countCalls, type CallCounter } from "./aws-call-counter.js";
import { createAwsWorld, listOwned, type AwsWorld, type AwsWorldOptions } from "./aws-world.js";
import { startMoto, type MotoServer } from "./moto.js";

/** What records the provider's calls: the provider is built on its `clients`. */
export interface ClientRecorder {
  readonly clients: AwsClients;
}

export interface FreshAwsWorld<R extends ClientRecorder> {
  readonly moto: MotoServer;
  /** Unrecorded clients, for the test's own assertions. */
  readonly raw: AwsClients;
  readonly world: AwsWorld;
  readonly recorder: R;
  readonly provider: AwsProvider;
}

/** Resets `moto` and builds a world and a provider on `record(new clients)`. */
export async function freshAwsWorld<R extends ClientRecorder>(
  moto: MotoServer,
  options: AwsWorldOptions,
  record: (clients: AwsClients, raw: AwsClients) => R,
): Promise<FreshAwsWorld<R>> {
  await moto.reset();
  const raw = moto.clients();
  const world = await createAwsWorld(raw, options);
  const recorder = record(moto.clients(), raw);
  return { moto, raw, world, recorder, provider: awsProviderFor(recorder.clients, pino({ level: "silent" })) };
}

/**
 * Registers the hooks: moto started once for the file (beforeAll, stopped afterAll), a fresh world before each
 * test. Returns a live view of the current test's world: read its fields inside hooks and tests, not at load time.
 */
export function freshAwsWorldPerTest(options: AwsWorldOptions): FreshAwsWorld<CallCounter>;
export function freshAwsWorldPerTest<R extends ClientRecorder>(
  options: AwsWorldOptions,
  record: (clients: AwsClients, raw: AwsClients) => R,
): FreshAwsWorld<R>;
export function freshAwsWorldPerTest(
  options: AwsWorldOptions,
  record: (clients: AwsClients, raw: AwsClients) => ClientRecorder = countCalls,
): FreshAwsWorld<ClientRecorder> {
  let moto: MotoServer | undefined;
  let current: FreshAwsWorld<ClientRecorder> | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    if (moto === undefined) throw new Error("moto did not start");
    current = await freshAwsWorld(moto, options, record);
  });
  const now = (): FreshAwsWorld<ClientRecorder> => {
    if (current === undefined) throw new Error("no AWS world yet: read it inside a test or hook");
    return current;
  };
  return {
    get moto() {
      return now().moto;
    },
    get raw() {
      return now().raw;
    },
    get world() {
      return now().world;
    },
    get recorder() {
      return now().recorder;
    },
    get provider() {
      return now().provider;
    },
  };
}

/** The nodes of a world as newSpec takes them. */
export function specNodes(nodes: readonly V1Node[]): SpecNode[] {
  return nodes.map((n) => ({
    name: n.metadata?.name ?? "",
    zone: n.metadata?.labels?.["topology.kubernetes.io/zone"],
    providerID: n.spec?.providerID,
    labels: n.metadata?.labels,
    addresses: n.status?.addresses,
  }));
}

/**
 * A fresh moto world as a ProviderTestWorld: specs are newSpec(`spec`) with the world's nodes; resources are
 * what listOwned finds for the Services the world handed specs out for.
 */
export async function awsContractWorld(
  moto: MotoServer,
  clusterId: string,
  spec: Omit<NewSpecOptions, "name" | "clusterId" | "nodes"> = {},
): Promise<ProviderTestWorld> {
  const fresh = await freshAwsWorld(moto, { clusterId, nodes: 2 }, countCalls);
  const names = new Set<string>();
  return {
    provider: fresh.provider,
    spec(name) {
      names.add(name);
      return newSpec({ ...spec, name, clusterId, nodes: specNodes(fresh.world.nodes()) });
    },
    calls: () => fresh.recorder.calls().map((c) => ({ operation: `${c.api}:${c.operation}`, mutating: c.mutating })),
    clearCalls: () => fresh.recorder.reset(),
    async resources() {
      const left: string[] = [];
      for (const name of names) {
        const o = await listOwned(fresh.raw, { clusterId, namespace: "default", name });
        left.push(
          ...o.loadBalancers,
          ...o.classicLoadBalancers,
          ...o.targetGroups,
          ...o.listeners,
          ...o.securityGroups,
        );
      }
      return left;
    },
    failNthMutatingCall: (n) => fresh.recorder.failNthMutating(n),
  };
}

/** The id of the security group called `name` (it must exist). */
export async function groupIdByName(raw: AwsClients, name: string): Promise<string> {
  const out = await raw.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [name] }] }),
  );
  const id = out.SecurityGroups?.[0]?.GroupId;
  if (id === undefined) throw new Error(`no security group ${name}`);
  return id;
}

/** Ingress rules of the Service's frontend group as "proto:from-to:cidr", sorted. */
export async function frontendRulesOf(raw: AwsClients, id: LoadBalancerId): Promise<string[]> {
  const gid = await groupIdByName(raw, securityGroupName(id));
  const out = await raw.ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [gid] }] }),
  );
  return (out.SecurityGroupRules ?? [])
    .filter((r) => r.IsEgress !== true)
    .map((r) => `${r.IpProtocol}:${r.FromPort}-${r.ToPort}:${r.CidrIpv4}`)
    .sort();
}
