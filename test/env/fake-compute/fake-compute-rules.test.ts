// The fake Compute API's faults, call record, addresses, firewalls and wire details, through the real clients
// (CRUD, operations and the load-balancer rules are in test/integration/fake-compute.test.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GceClients } from "../../../providers/gce/gce-types.js";
import { extraClientsFor, gceClientsFor, startFakeCompute, type FakeCompute } from "./index.js";
import { createBackendBase, DEFAULT_WORLD, done, operationOf, rejectionOf, untilDone } from "./testing.js";

const { region, zoneA, zoneB, network, subnetwork } = DEFAULT_WORLD;
let clock = 1_800_000_000_000;
let fake: FakeCompute;
let clients: GceClients;
let project: string;

beforeAll(async () => {
  fake = await startFakeCompute({
    now: () => clock,
    instances: [{ name: "node-a1", zone: DEFAULT_WORLD.zoneA, networkIP: "10.128.0.2" }],
  });
  clients = gceClientsFor(fake);
  project = fake.project;
});
afterAll(async () => fake.stop());
beforeEach(() => {
  fake.reset();
  fake.setOperationPolls(2);
});

const hcInsert = (name: string) => clients.healthChecks.insert({ project, healthCheckResource: { name, type: "TCP" } });

describe("faults", () => {
  it("failNext answers the status with Compute's error, consumes the fault and does nothing", async () => {
    fake.faults.failNext("healthChecks.insert", 429);
    const err = await rejectionOf(hcInsert("hc"));
    expect(err).toMatchObject({ code: 8, httpStatusCode: 429 });
    expect(fake.operations()).toEqual([]);
    expect(fake.calls({ method: "healthChecks.insert" }).map((c) => c.status)).toEqual([429]);
    expect(fake.faults.pending()).toEqual([]);
    await done(clients, project, hcInsert("hc"));
  });

  it("the clients retry an idempotent get on 503, never a mutating call; 403 is PERMISSION_DENIED", async () => {
    await done(clients, project, hcInsert("hc"));
    fake.clearCalls();
    fake.faults.failNext("healthChecks.get", 503);
    expect((await clients.healthChecks.get({ project, healthCheck: "hc" }))[0].name).toBe("hc");
    expect(fake.calls({ method: "healthChecks.get" }).map((c) => c.status)).toEqual([503, 200]);
    fake.faults.failNext("healthChecks.delete", 503);
    expect(await rejectionOf(clients.healthChecks.delete({ project, healthCheck: "hc" }))).toMatchObject({
      code: 14,
      httpStatusCode: 503,
    });
    expect(fake.calls({ method: "healthChecks.delete" })).toHaveLength(1);
    fake.faults.failNext("*", 403, { times: 2, message: "Required 'compute.firewalls.create' permission" });
    expect(await rejectionOf(hcInsert("other"))).toMatchObject({
      code: 7,
      httpStatusCode: 403,
      message: "Required 'compute.firewalls.create' permission",
    });
    expect(fake.faults.pending()).toEqual([{ method: "*", kind: "http", remaining: 1 }]);
    fake.faults.clear();
    await done(clients, project, hcInsert("other"));
  });

  it("a fault for a method the fake does not serve is refused (a typo would never fire)", () => {
    expect(() => fake.faults.failNext("forwardingRule.insert", 503)).toThrow(
      /serves no method 'forwardingRule.insert'/,
    );
  });

  it("delayNext answers late and then does the work", async () => {
    fake.faults.delayNext("healthChecks.insert", 300);
    const started = performance.now();
    await done(clients, project, hcInsert("hc"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("operations", () => {
  it("operationPolls 0 answers DONE; an unpolled operation is DONE once settleAfterMs passed", async () => {
    fake.setOperationPolls(0);
    expect(operationOf(await hcInsert("now"))).toMatchObject({ status: "DONE" });
    expect(fake.resources("healthChecks").map((h) => h.name)).toEqual(["now"]);
    fake.setOperationPolls(5);
    operationOf(await hcInsert("later"));
    expect(fake.resources("healthChecks")).toHaveLength(1);
    clock += 2_000;
    expect((await clients.healthChecks.get({ project, healthCheck: "later" }))[0].name).toBe("later");
  });

  it("a repeated requestId returns the same operation and creates nothing twice", async () => {
    const first = operationOf(
      await clients.healthChecks.insert({
        project,
        requestId: "5b1c9a4e-0000-4000-8000-000000000001",
        healthCheckResource: { name: "hc", type: "TCP" },
      }),
    );
    const again = operationOf(
      await clients.healthChecks.insert({
        project,
        requestId: "5b1c9a4e-0000-4000-8000-000000000001",
        healthCheckResource: { name: "hc", type: "TCP" },
      }),
    );
    expect(again.name).toBe(first.name);
    await untilDone(clients, first, { project });
    expect(fake.resources("healthChecks")).toHaveLength(1);
  });
});

describe("call record", () => {
  it("tells mutating calls from reads (listInstances is a read) and keeps method, path, query and body", async () => {
    await done(
      clients,
      project,
      clients.instanceGroups.insert({ project, zone: DEFAULT_WORLD.zoneA, instanceGroupResource: { name: "ig" } }),
    );
    await clients.instanceGroups.listInstances({
      project,
      zone: DEFAULT_WORLD.zoneA,
      instanceGroup: "ig",
      instanceGroupsListInstancesRequestResource: { instanceState: "ALL" },
    });
    expect(fake.calls().map((c) => [c.method, c.mutating])).toEqual([
      ["instanceGroups.insert", true],
      ["zoneOperations.wait", false],
      ["zoneOperations.wait", false],
      ["instanceGroups.listInstances", false],
    ]);
    const [insert] = fake.calls({ mutating: true });
    expect(insert).toMatchObject({
      httpMethod: "POST",
      path: `/compute/v1/projects/${project}/zones/us-central1-a/instanceGroups`,
      body: { name: "ig" },
      status: 200,
    });
    expect(fake.calls({ method: /^zoneOperations\./ })).toHaveLength(2);
  });
});

describe("addresses", () => {
  const insert = (name: string, extra: object = {}) =>
    clients.addresses.insert({
      project,
      region,
      addressResource: { name, addressType: "INTERNAL", subnetwork, ...extra },
    });

  it("reserve with and without an address, conflicts, range, filter by IP", async () => {
    await done(clients, project, insert("held", { address: "10.128.0.9" }));
    await done(clients, project, insert("auto"));
    const [held] = await clients.addresses.get({ project, region, address: "held" });
    expect(held).toMatchObject({
      kind: "compute#address",
      address: "10.128.0.9",
      addressType: "INTERNAL",
      status: "RESERVED",
      purpose: "GCE_ENDPOINT",
    });
    expect((await clients.addresses.get({ project, region, address: "auto" }))[0].address).toBe("10.128.0.3");
    expect(await rejectionOf(insert("dup", { address: "10.128.0.9" }))).toMatchObject({
      code: 10,
      httpStatusCode: 409,
    });
    expect(await rejectionOf(insert("node", { address: "10.128.0.2" }))).toMatchObject({ code: 10 });
    expect((await rejectionOf(insert("out", { address: "10.0.0.9" }))).message).toContain(
      "outside the subnetwork's range",
    );
    expect(
      (await rejectionOf(clients.addresses.insert({ project, region, addressResource: { name: "ext" } }))).message,
    ).toContain("INTERNAL");
    expect(
      (
        await rejectionOf(
          clients.addresses.insert({ project, region, addressResource: { name: "x", addressType: "INTERNAL" } }),
        )
      ).message,
    ).toContain("subnetwork");
    const [found] = await clients.addresses.list({ project, region, filter: 'address = "10.128.0.9"' });
    expect(found.map((a) => a.name)).toEqual(["held"]);
    expect(await rejectionOf(clients.addresses.list({ project, region, filter: "address ~ x" }))).toMatchObject({
      code: 3,
    });
  });

  it("a forwarding rule may use a held address, which is IN_USE until the rule goes; the hold can be released first", async () => {
    const base = await createBackendBase(clients, project, "lb");
    await done(clients, project, insert("hold", { address: "10.128.0.50" }));
    const fr = {
      name: "fr",
      loadBalancingScheme: "INTERNAL",
      IPProtocol: "TCP",
      backendService: base.backendService,
      network,
      subnetwork,
      ports: ["80"],
      IPAddress: "10.128.0.50",
    };
    await done(clients, project, clients.forwardingRules.insert({ project, region, forwardingRuleResource: fr }));
    const [hold] = await clients.addresses.get({ project, region, address: "hold" });
    expect(hold).toMatchObject({
      status: "IN_USE",
      users: [expect.stringContaining("/forwardingRules/fr") as unknown],
    });
    await done(clients, project, clients.addresses.delete({ project, region, address: "hold" }));
    expect((await clients.forwardingRules.get({ project, region, forwardingRule: "fr" }))[0].IPAddress).toBe(
      "10.128.0.50",
    );
    await done(clients, project, insert("again", { address: "10.128.0.50" }));
    expect((await clients.addresses.get({ project, region, address: "again" }))[0].status).toBe("IN_USE");
    await done(clients, project, insert("named", { address: "10.128.0.60" }));
    await done(
      clients,
      project,
      clients.forwardingRules.insert({
        project,
        region,
        forwardingRuleResource: { ...fr, name: "fr2", IPAddress: `regions/${region}/addresses/named` },
      }),
    );
    expect((await clients.forwardingRules.get({ project, region, forwardingRule: "fr2" }))[0].IPAddress).toBe(
      "10.128.0.60",
    );
  });
});

describe("firewalls", () => {
  const base = { network, allowed: [{ IPProtocol: "tcp", ports: ["80", "8080-8082"] }], targetTags: ["k8s-node"] };

  it("insert, get, patch, update, list and delete", async () => {
    await done(
      clients,
      project,
      clients.firewalls.insert({
        project,
        firewallResource: {
          name: "k8s-fw-a",
          ...base,
          sourceRanges: ["10.0.0.0/8"],
          destinationRanges: ["10.128.0.5"],
        },
      }),
    );
    const [fw] = await clients.firewalls.get({ project, firewall: "k8s-fw-a" });
    expect(fw).toMatchObject({
      kind: "compute#firewall",
      direction: "INGRESS",
      priority: 1000,
      sourceRanges: ["10.0.0.0/8"],
      destinationRanges: ["10.128.0.5"],
      targetTags: ["k8s-node"],
      allowed: [{ IPProtocol: "tcp", ports: ["80", "8080-8082"] }],
    });
    expect(fw.network).toBe(`https://www.googleapis.com/compute/v1/projects/${project}/global/networks/default`);
    await done(
      clients,
      project,
      clients.firewalls.patch({
        project,
        firewall: "k8s-fw-a",
        firewallResource: { sourceRanges: ["192.168.0.0/16"] },
      }),
    );
    expect((await clients.firewalls.get({ project, firewall: "k8s-fw-a" }))[0]).toMatchObject({
      sourceRanges: ["192.168.0.0/16"],
      targetTags: ["k8s-node"],
      destinationRanges: ["10.128.0.5"],
    });
    await done(
      clients,
      project,
      clients.firewalls.update({
        project,
        firewall: "k8s-fw-a",
        firewallResource: { name: "k8s-fw-a", ...base, sourceRanges: ["10.1.0.0/16"] },
      }),
    );
    const [updated] = await clients.firewalls.get({ project, firewall: "k8s-fw-a" });
    expect(updated.destinationRanges).toEqual([]);
    expect(updated.id).toBe(fw.id);
    await done(clients, project, clients.firewalls.delete({ project, firewall: "k8s-fw-a" }));
    expect((await clients.firewalls.list({ project }))[0]).toEqual([]);
  });

  it("an INGRESS rule without sources is open to 0.0.0.0/0, as in Compute (kubernetes/kubernetes#56371)", async () => {
    await done(clients, project, clients.firewalls.insert({ project, firewallResource: { name: "open", ...base } }));
    expect((await clients.firewalls.get({ project, firewall: "open" }))[0].sourceRanges).toEqual(["0.0.0.0/0"]);
  });

  it("validates network, ranges, rules and ports", async () => {
    const insert = (extra: object) =>
      rejectionOf(clients.firewalls.insert({ project, firewallResource: { name: "fw", ...base, ...extra } }));
    expect(await insert({ network: "global/networks/none" })).toMatchObject({ code: 5 });
    expect((await insert({ sourceRanges: ["10.0.0.1/8"] })).message).toContain("valid IPv4 CIDR");
    expect((await insert({ allowed: [{ IPProtocol: "icmp", ports: ["80"] }] })).message).toContain(
      "only for tcp, udp and sctp",
    );
    expect((await insert({ allowed: [{ IPProtocol: "tcp", ports: ["70000"] }] })).code).toBe(3);
    expect((await insert({ denied: [{ IPProtocol: "udp" }] })).message).toContain("only one of allowed and denied");
    expect(await insert({ allowed: [] })).toMatchObject({ message: "Required field 'resource.allowed' not specified" });
  });

  it("lists page by page with maxResults (the client follows nextPageToken)", async () => {
    fake.setOperationPolls(0);
    for (const name of ["fw-1", "fw-2", "fw-3"])
      await clients.firewalls.insert({ project, firewallResource: { name, ...base } });
    const [all] = await clients.firewalls.list({ project, maxResults: 2 });
    expect(all.map((f) => f.name)).toEqual(["fw-1", "fw-2", "fw-3"]);
    expect(fake.calls({ method: "firewalls.list" }).map((c) => c.query["pageToken"])).toEqual([undefined, "2"]);
  });
});

describe("backend service protocol and forwarding rules", () => {
  it("an update may not change the protocol away from its forwarding rules'", async () => {
    const lb = await createBackendBase(clients, project, "lb");
    const fr = {
      name: "fr",
      loadBalancingScheme: "INTERNAL",
      IPProtocol: "TCP",
      backendService: lb.backendService,
      network,
      subnetwork,
      allPorts: true,
    };
    await done(clients, project, clients.forwardingRules.insert({ project, region, forwardingRuleResource: fr }));
    const [bs] = await clients.backendServices.get({ project, region, backendService: "lb-bs" });
    const toUdp = () =>
      clients.backendServices.update({
        project,
        region,
        backendService: "lb-bs",
        backendServiceResource: { ...bs, protocol: "UDP" },
      });
    expect((await rejectionOf(toUdp())).message).toContain("must match the IPProtocol 'TCP'");
    await done(clients, project, clients.forwardingRules.delete({ project, region, forwardingRule: "fr" }));
    await done(clients, project, toUdp());
    expect((await clients.backendServices.get({ project, region, backendService: "lb-bs" }))[0].protocol).toBe("UDP");
  });
});

describe("wire", () => {
  it("answers Compute's error body; unknown paths and other projects are 404; unknown query parameters are ignored", async () => {
    const res = await fetch(
      `${fake.endpoint}/compute/v1/projects/${project}/global/healthChecks/none?$alt=json;enum-encoding=int&whatever=1`,
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        code: 404,
        message: `The resource 'projects/${project}/global/healthChecks/none' was not found`,
        errors: [
          {
            domain: "global",
            reason: "notFound",
            message: `The resource 'projects/${project}/global/healthChecks/none' was not found`,
          },
        ],
      },
    });
    expect((await fetch(`${fake.endpoint}/compute/v1/projects/${project}/global/things`)).status).toBe(404);
    expect(await rejectionOf(clients.healthChecks.list({ project: "someone-else" }))).toMatchObject({ code: 5 });
    const list = await fetch(`${fake.endpoint}/compute/v1/projects/${project}/global/healthChecks`);
    expect(await list.json()).toMatchObject({ kind: "compute#healthCheckList" });
  });

  it("serves the seeded subnetworks to the SubnetworksClient", async () => {
    const [subnet] = await clients.subnetworks.get({ project, region, subnetwork: "default" });
    expect(subnet).toMatchObject({
      kind: "compute#subnetwork",
      ipCidrRange: "10.128.0.0/20",
      gatewayAddress: "10.128.0.1",
      network: expect.stringMatching(/\/global\/networks\/default$/) as unknown,
    });
    expect(await rejectionOf(clients.subnetworks.get({ project, region, subnetwork: "nope" }))).toMatchObject({
      code: 5,
    });
  });
});

describe("zones", () => {
  it("lists the region's zones with a filter", async () => {
    const { zones } = extraClientsFor(fake);
    const [list] = await zones.list({ project, filter: `region eq .*/regions/${region}` });
    expect(list.map((z) => z.name)).toEqual([zoneA, zoneB, "us-central1-c"]);
    expect((await zones.list({ project, filter: "region eq .*/regions/europe-west1" }))[0]).toEqual([]);
  });
});
