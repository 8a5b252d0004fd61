// The fake Compute API (test/env/fake-compute/) through the real @google-cloud/compute 7.8 clients: CRUD of each
// resource, response shapes as the client types them, the errors the client surfaces, the operation lifecycle,
// in-use rules and the 5-port rule. Faults, addresses, firewalls and the wire details are in
// test/env/fake-compute/fake-compute-rules.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { extraClientsFor, gceClientsFor, startFakeCompute, type FakeCompute } from "../env/fake-compute/index.js";
import { ComputeProtos, responseTypeOf } from "../env/fake-compute/proto-shapes.js";
import {
  createBackendBase,
  DEFAULT_WORLD,
  done,
  operationOf,
  rejectionOf,
  untilDone,
} from "../env/fake-compute/testing.js";
import type { GceClients } from "../../providers/gce/gce-types.js";

const { region, zoneA, zoneB, network, subnetwork } = DEFAULT_WORLD;
let fake: FakeCompute;
let clients: GceClients;
let project: string;

beforeAll(async () => {
  fake = await startFakeCompute({
    instances: [
      { name: "node-a1", zone: zoneA, tags: ["k8s-node"] },
      { name: "node-a2", zone: zoneA, tags: ["k8s-node"] },
      { name: "node-b1", zone: zoneB, tags: ["k8s-node"] },
    ],
  });
  clients = gceClientsFor(fake);
  project = fake.project;
});
afterAll(async () => fake.stop());
beforeEach(() => fake.reset());

const frBody = (name: string, backendService: string, extra: object = {}) => ({
  name,
  loadBalancingScheme: "INTERNAL",
  IPProtocol: "TCP",
  backendService,
  network,
  subnetwork,
  ports: ["80"],
  ...extra,
});

describe("operations", () => {
  it("a mutating call answers a PENDING operation; the effect shows at DONE, reached through wait", async () => {
    const op = operationOf(
      await clients.healthChecks.insert({
        project,
        healthCheckResource: { name: "hc", type: "TCP", tcpHealthCheck: { port: 443 } },
      }),
    );
    expect(op).toMatchObject({ kind: "compute#operation", status: "PENDING", operationType: "insert" });
    expect(op.targetLink).toBe(`https://www.googleapis.com/compute/v1/projects/${project}/global/healthChecks/hc`);
    expect(op.selfLink).toMatch(new RegExp(`/projects/${project}/global/operations/${op.name}$`));
    expect(typeof op.id).toBe("string");
    expect((await rejectionOf(clients.healthChecks.get({ project, healthCheck: "hc" }))).code).toBe(5);

    const [running] = await clients.globalOperations.wait({ project, operation: op.name ?? "" });
    expect(running.status).toBe("RUNNING");
    const [finished] = await clients.globalOperations.get({ project, operation: op.name ?? "" });
    expect(finished).toMatchObject({ status: "DONE", progress: 100 });
    expect(finished.error).toBeFalsy();
    const [hc] = await clients.healthChecks.get({ project, healthCheck: "hc" });
    expect(hc).toMatchObject({
      name: "hc",
      type: "TCP",
      tcpHealthCheck: { port: 443 },
      checkIntervalSec: 5,
      timeoutSec: 5,
    });
  });

  it("zonal and regional operations are polled through their own clients", async () => {
    const ig = operationOf(
      await clients.instanceGroups.insert({ project, zone: zoneA, instanceGroupResource: { name: "ig" } }),
    );
    expect(ig.zone).toMatch(/\/zones\/us-central1-a$/);
    const { polls } = await untilDone(clients, ig, { project });
    expect(polls).toBe(2);
    expect(fake.calls({ method: "zoneOperations.wait" })).toHaveLength(2);
  });

  it("an injected operation failure ends DONE with error and httpErrorStatusCode, and applies nothing", async () => {
    fake.faults.failNextOperation("healthChecks.insert", {
      status: 403,
      reason: "forbidden",
      message: "no permission",
    });
    const op = operationOf(
      await clients.healthChecks.insert({ project, healthCheckResource: { name: "hc", type: "TCP" } }),
    );
    const { operation } = await untilDone(clients, op, { project, allowError: true });
    expect(operation).toMatchObject({
      status: "DONE",
      httpErrorStatusCode: 403,
      error: { errors: [{ code: "FORBIDDEN", message: "no permission" }] },
    });
    expect(fake.resources("healthChecks")).toEqual([]);
  });

  it("a check failing at DONE (health check deleted meanwhile) fails the operation", async () => {
    await done(
      clients,
      project,
      clients.healthChecks.insert({ project, healthCheckResource: { name: "hc", type: "TCP" } }),
    );
    await done(
      clients,
      project,
      clients.instanceGroups.insert({ project, zone: zoneA, instanceGroupResource: { name: "ig" } }),
    );
    const bs = operationOf(
      await clients.backendServices.insert({
        project,
        region,
        backendServiceResource: {
          name: "bs",
          protocol: "TCP",
          loadBalancingScheme: "INTERNAL",
          healthChecks: ["global/healthChecks/hc"],
        },
      }),
    );
    await done(clients, project, clients.healthChecks.delete({ project, healthCheck: "hc" }));
    const { operation } = await untilDone(clients, bs, { project, allowError: true });
    expect(operation).toMatchObject({ httpErrorStatusCode: 404, error: { errors: [{ code: "RESOURCE_NOT_FOUND" }] } });
  });

  it("a target with a pending operation refuses other mutations (resourceNotReady) and a second insert (409)", async () => {
    const op = operationOf(
      await clients.healthChecks.insert({ project, healthCheckResource: { name: "hc", type: "TCP" } }),
    );
    const dup = await rejectionOf(
      clients.healthChecks.insert({ project, healthCheckResource: { name: "hc", type: "TCP" } }),
    );
    expect(dup).toMatchObject({ code: 10, httpStatusCode: 409 });
    await untilDone(clients, op, { project });
    const del = operationOf(await clients.healthChecks.delete({ project, healthCheck: "hc" }));
    const busy = await rejectionOf(
      clients.healthChecks.patch({ project, healthCheck: "hc", healthCheckResource: { timeoutSec: 2 } }),
    );
    expect(busy).toMatchObject({ code: 3, message: expect.stringContaining("is not ready") as unknown });
    await untilDone(clients, del, { project });
  });
});

describe("health checks", () => {
  it("insert, get, list, patch, update and delete", async () => {
    await done(
      clients,
      project,
      clients.healthChecks.insert({
        project,
        healthCheckResource: {
          name: "k8s-hc",
          type: "HTTP",
          httpHealthCheck: { port: 10256, requestPath: "/healthz" },
          checkIntervalSec: 8,
          timeoutSec: 1,
          healthyThreshold: 1,
          unhealthyThreshold: 3,
          description: "d",
        },
      }),
    );
    const [hc] = await clients.healthChecks.get({ project, healthCheck: "k8s-hc" });
    expect(hc).toMatchObject({
      kind: "compute#healthCheck",
      type: "HTTP",
      httpHealthCheck: { port: 10256, requestPath: "/healthz" },
      checkIntervalSec: 8,
      timeoutSec: 1,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
      description: "d",
    });
    expect(hc.selfLink).toBe(`https://www.googleapis.com/compute/v1/projects/${project}/global/healthChecks/k8s-hc`);
    expect(hc.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);

    await done(
      clients,
      project,
      clients.healthChecks.patch({
        project,
        healthCheck: "k8s-hc",
        healthCheckResource: { httpHealthCheck: { port: 31000 } },
      }),
    );
    const [patched] = await clients.healthChecks.get({ project, healthCheck: "k8s-hc" });
    expect(patched.httpHealthCheck).toMatchObject({ port: 31000, requestPath: "/healthz" });
    expect(patched.id).toBe(hc.id);

    await done(
      clients,
      project,
      clients.healthChecks.update({
        project,
        healthCheck: "k8s-hc",
        healthCheckResource: { name: "k8s-hc", type: "HTTP", httpHealthCheck: { port: 10256 } },
      }),
    );
    const [updated] = await clients.healthChecks.get({ project, healthCheck: "k8s-hc" });
    expect(updated).toMatchObject({
      httpHealthCheck: { port: 10256, requestPath: "/" },
      checkIntervalSec: 5,
      description: "",
    });

    const [list] = await clients.healthChecks.list({ project });
    expect(list.map((h) => h.name)).toEqual(["k8s-hc"]);
    await done(clients, project, clients.healthChecks.delete({ project, healthCheck: "k8s-hc" }));
    expect((await rejectionOf(clients.healthChecks.get({ project, healthCheck: "k8s-hc" }))).message).toContain(
      "was not found",
    );
  });

  it("validates type, timeoutSec <= checkIntervalSec and the RFC 1035 name", async () => {
    const insert = (healthCheckResource: object) =>
      rejectionOf(clients.healthChecks.insert({ project, healthCheckResource }));
    expect(await insert({ name: "hc" })).toMatchObject({
      code: 3,
      message: "Required field 'resource.type' not specified",
    });
    expect((await insert({ name: "hc", type: "TCP", timeoutSec: 10, checkIntervalSec: 5 })).message).toContain(
      "timeout",
    );
    expect((await insert({ name: "Hc", type: "TCP" })).message).toContain("Must be a match of regex");
    expect((await insert({ name: "a".repeat(64), type: "TCP" })).code).toBe(3);
    expect((await insert({ name: "hc-", type: "TCP" })).code).toBe(3);
    await done(
      clients,
      project,
      clients.healthChecks.insert({ project, healthCheckResource: { name: "a".repeat(63), type: "TCP" } }),
    );
    await done(
      clients,
      project,
      clients.healthChecks.insert({ project, healthCheckResource: { name: "hc", type: "TCP" } }),
    );
    expect(await insert({ name: "hc", type: "TCP" })).toMatchObject({
      code: 10,
      httpStatusCode: 409,
      message: expect.stringContaining("already exists") as unknown,
    });
  });
});

describe("instance groups", () => {
  it("insert, add/list/remove members (instance URLs), validation of members, delete", async () => {
    await done(
      clients,
      project,
      clients.instanceGroups.insert({ project, zone: zoneA, instanceGroupResource: { name: "k8s-ig--c1" } }),
    );
    const [ig] = await clients.instanceGroups.get({ project, zone: zoneA, instanceGroup: "k8s-ig--c1" });
    expect(ig).toMatchObject({ kind: "compute#instanceGroup", name: "k8s-ig--c1", size: 0 });
    expect(ig.zone).toMatch(/\/zones\/us-central1-a$/);
    const vm = (name: string, zone: string = zoneA) => ({
      instance: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/${name}`,
    });
    const add = (instances: object[]) =>
      clients.instanceGroups.addInstances({
        project,
        zone: zoneA,
        instanceGroup: "k8s-ig--c1",
        instanceGroupsAddInstancesRequestResource: { instances },
      });
    await done(clients, project, add([vm("node-a1"), { instance: `zones/${zoneA}/instances/node-a2` }]));
    const [members] = await clients.instanceGroups.listInstances({
      project,
      zone: zoneA,
      instanceGroup: "k8s-ig--c1",
      instanceGroupsListInstancesRequestResource: { instanceState: "ALL" },
    });
    expect(members).toEqual(
      [
        { ...vm("node-a1"), status: "RUNNING" },
        { ...vm("node-a2"), status: "RUNNING" },
      ].map((m) => expect.objectContaining(m) as unknown),
    );
    expect((await clients.instanceGroups.get({ project, zone: zoneA, instanceGroup: "k8s-ig--c1" }))[0]).toMatchObject({
      size: 2,
      network: expect.stringContaining("/global/networks/default") as unknown,
    });

    expect((await rejectionOf(add([vm("node-a1")]))).message).toContain("already a member");
    expect((await rejectionOf(add([vm("node-b1", zoneB)]))).message).toContain("must be in zone");
    expect(await rejectionOf(add([vm("ghost")]))).toMatchObject({ code: 5 });
    await done(
      clients,
      project,
      clients.instanceGroups.removeInstances({
        project,
        zone: zoneA,
        instanceGroup: "k8s-ig--c1",
        instanceGroupsRemoveInstancesRequestResource: { instances: [vm("node-a1")] },
      }),
    );
    expect(fake.members(zoneA, "k8s-ig--c1")).toEqual([vm("node-a2").instance]);
    fake.removeInstance(zoneA, "node-a2");
    expect(fake.members(zoneA, "k8s-ig--c1")).toEqual([]);
    await done(clients, project, clients.instanceGroups.delete({ project, zone: zoneA, instanceGroup: "k8s-ig--c1" }));
    expect((await clients.instanceGroups.list({ project, zone: zoneA }))[0]).toEqual([]);
    fake.addInstance({ name: "node-a2", zone: zoneA, tags: ["k8s-node"] });
  });
});

describe("backend services", () => {
  it("insert with its health check and group; PUT needs the current fingerprint (400 missing, 412 stale)", async () => {
    const base = await createBackendBase(clients, project, "lb");
    const [bs] = await clients.backendServices.get({ project, region, backendService: "lb-bs" });
    expect(bs).toMatchObject({
      kind: "compute#backendService",
      protocol: "TCP",
      loadBalancingScheme: "INTERNAL",
      sessionAffinity: "NONE",
      healthChecks: [base.healthCheck],
      backends: [expect.objectContaining({ group: base.group, balancingMode: "CONNECTION" }) as unknown],
    });
    expect(bs.region).toMatch(/\/regions\/us-central1$/);
    expect(bs.fingerprint).toBeTruthy();
    const put = (fingerprint?: string) =>
      clients.backendServices.update({
        project,
        region,
        backendService: "lb-bs",
        backendServiceResource: {
          ...bs,
          sessionAffinity: "CLIENT_IP",
          ...(fingerprint === undefined ? { fingerprint: null } : { fingerprint }),
        },
      });
    expect(await rejectionOf(put())).toMatchObject({
      code: 3,
      message: "Required field 'resource.fingerprint' not specified",
    });
    expect(await rejectionOf(put("c3RhbGU="))).toMatchObject({
      code: 9,
      httpStatusCode: 412,
      message: "Invalid fingerprint.",
    });
    await done(clients, project, put(bs.fingerprint ?? ""));
    const [after] = await clients.backendServices.get({ project, region, backendService: "lb-bs" });
    expect(after.sessionAffinity).toBe("CLIENT_IP");
    expect(after.fingerprint).not.toBe(bs.fingerprint);
    expect(await rejectionOf(put(bs.fingerprint ?? ""))).toMatchObject({ code: 9 });
  });

  it("rejects a non-INTERNAL protocol, zero or two health checks, a missing one, and a group outside the region", async () => {
    const base = await createBackendBase(clients, project, "x");
    const insert = (extra: object) =>
      rejectionOf(
        clients.backendServices.insert({
          project,
          region,
          backendServiceResource: {
            name: "bs",
            loadBalancingScheme: "INTERNAL",
            protocol: "TCP",
            healthChecks: [base.healthCheck],
            ...extra,
          },
        }),
      );
    expect((await insert({ protocol: "HTTP" })).message).toContain("must use TCP, UDP or UNSPECIFIED");
    expect((await insert({ healthChecks: [] })).message).toContain("Exactly one health check");
    expect(await insert({ healthChecks: ["global/healthChecks/none"] })).toMatchObject({ code: 5 });
    expect(await insert({ loadBalancingScheme: null })).toMatchObject({
      message: "Required field 'resource.loadBalancingScheme' not specified",
    });
    expect((await insert({ backends: [{ group: base.group }, { group: base.group }] })).message).toContain("Duplicate");
  });
});

describe("forwarding rules", () => {
  it("insert assigns an IP from the subnetwork; the rule reads back as sent; delete", async () => {
    const base = await createBackendBase(clients, project, "lb");
    await done(
      clients,
      project,
      clients.forwardingRules.insert({
        project,
        region,
        forwardingRuleResource: frBody("lb-fr", base.backendService, { allowGlobalAccess: true, description: "{}" }),
      }),
    );
    const [fr] = await clients.forwardingRules.get({ project, region, forwardingRule: "lb-fr" });
    expect(fr).toMatchObject({
      kind: "compute#forwardingRule",
      IPAddress: "10.128.0.5",
      IPProtocol: "TCP",
      ports: ["80"],
      allowGlobalAccess: true,
      loadBalancingScheme: "INTERNAL",
      backendService: base.backendService,
      description: "{}",
    });
    expect(fr.subnetwork).toBe(
      `https://www.googleapis.com/compute/v1/projects/${project}/regions/${region}/subnetworks/default`,
    );
    expect(fr.allPorts ?? false).toBe(false);
    await done(clients, project, clients.forwardingRules.delete({ project, region, forwardingRule: "lb-fr" }));
    expect((await clients.forwardingRules.list({ project, region }))[0]).toEqual([]);
  });

  it("at most 5 ports, else 400 'Too many ports specified. Maximum is 5'; allPorts instead; not both", async () => {
    const base = await createBackendBase(clients, project, "lb");
    const insert = (name: string, extra: object) =>
      clients.forwardingRules.insert({
        project,
        region,
        forwardingRuleResource: frBody(name, base.backendService, extra),
      });
    const six = await rejectionOf(insert("six", { ports: ["1", "2", "3", "4", "5", "6"] }));
    expect(six).toMatchObject({ code: 3, httpStatusCode: 400 });
    expect(six.message).toContain("Too many ports specified. Maximum is 5");
    await done(clients, project, insert("five", { ports: ["1", "2", "3", "4", "5"] }));
    await done(clients, project, insert("all", { ports: [], allPorts: true }));
    expect((await clients.forwardingRules.get({ project, region, forwardingRule: "all" }))[0]).toMatchObject({
      allPorts: true,
      ports: [],
    });
    expect((await rejectionOf(insert("both", { allPorts: true }))).message).toContain("both ports and allPorts");
    expect(await rejectionOf(insert("none", { ports: [] }))).toMatchObject({
      message: "Required field 'resource.ports' not specified",
    });
  });

  it("validates required fields, the requested IP against the subnetwork and the protocol against the backend service", async () => {
    const base = await createBackendBase(clients, project, "lb");
    const insert = (extra: object) =>
      rejectionOf(
        clients.forwardingRules.insert({
          project,
          region,
          forwardingRuleResource: frBody("fr", base.backendService, extra),
        }),
      );
    for (const field of ["loadBalancingScheme", "IPProtocol", "backendService", "network", "subnetwork"]) {
      expect((await insert({ [field]: null })).message).toBe(`Required field 'resource.${field}' not specified`);
    }
    expect((await insert({ IPAddress: "192.0.2.10" })).message).toContain("outside the subnetwork's range");
    expect((await insert({ IPAddress: "10.128.0.1" })).message).toContain("outside the subnetwork's range");
    expect((await insert({ IPProtocol: "UDP" })).message).toContain("must match the protocol 'TCP'");
    expect(await insert({ backendService: `regions/${region}/backendServices/none` })).toMatchObject({ code: 5 });
    expect((await insert({ backendService: "not a link/x/y" })).message).toContain("malformed");
    await done(
      clients,
      project,
      clients.forwardingRules.insert({
        project,
        region,
        forwardingRuleResource: frBody("fr", base.backendService, { IPAddress: "10.128.0.200" }),
      }),
    );
    expect(await insert({ IPAddress: "10.128.0.200", name: "fr2" })).toMatchObject({ code: 10 });
  });
});

describe("in-use rules", () => {
  it("health check, instance group and backend service cannot be deleted while referenced", async () => {
    const base = await createBackendBase(clients, project, "lb");
    await done(
      clients,
      project,
      clients.forwardingRules.insert({ project, region, forwardingRuleResource: frBody("lb-fr", base.backendService) }),
    );
    const hc = await rejectionOf(clients.healthChecks.delete({ project, healthCheck: "lb-hc" }));
    expect(hc).toMatchObject({ code: 3, httpStatusCode: 400 });
    expect(hc.message).toBe(
      `The resource 'projects/${project}/global/healthChecks/lb-hc' is already being used by '${base.backendService}'`,
    );
    expect(
      (await rejectionOf(clients.instanceGroups.delete({ project, zone: zoneA, instanceGroup: "lb-ig" }))).message,
    ).toContain("already being used");
    expect(
      (await rejectionOf(clients.backendServices.delete({ project, region, backendService: "lb-bs" }))).message,
    ).toContain("forwardingRules/lb-fr");
    await done(clients, project, clients.forwardingRules.delete({ project, region, forwardingRule: "lb-fr" }));
    await done(clients, project, clients.backendServices.delete({ project, region, backendService: "lb-bs" }));
    await done(clients, project, clients.healthChecks.delete({ project, healthCheck: "lb-hc" }));
    await done(clients, project, clients.instanceGroups.delete({ project, zone: zoneA, instanceGroup: "lb-ig" }));
  });
});

describe("response shapes", () => {
  it("every answer of a full load balancer's life fits the client's proto messages; errors have Compute's body", async () => {
    const protos = ComputeProtos.load();
    expect(protos.problems("ForwardingRule", { IPAdress: "10.0.0.1" })).toEqual([
      "ForwardingRule.IPAdress: not a field of ForwardingRule",
    ]);
    expect(protos.problems("Operation", { targetId: null, status: "FINISHED" })).toHaveLength(2);

    const base = await createBackendBase(clients, project, "lb");
    const add = { instances: [{ instance: `zones/${zoneA}/instances/node-a1` }] };
    await done(
      clients,
      project,
      clients.instanceGroups.addInstances({
        project,
        zone: zoneA,
        instanceGroup: "lb-ig",
        instanceGroupsAddInstancesRequestResource: add,
      }),
    );
    await clients.instanceGroups.listInstances({
      project,
      zone: zoneA,
      instanceGroup: "lb-ig",
      instanceGroupsListInstancesRequestResource: {},
    });
    await done(
      clients,
      project,
      clients.addresses.insert({
        project,
        region,
        addressResource: { name: "lb", addressType: "INTERNAL", subnetwork },
      }),
    );
    await done(
      clients,
      project,
      clients.forwardingRules.insert({ project, region, forwardingRuleResource: frBody("lb-fr", base.backendService) }),
    );
    await done(
      clients,
      project,
      clients.firewalls.insert({
        project,
        firewallResource: { name: "lb-fw", network, allowed: [{ IPProtocol: "tcp", ports: ["80"] }] },
      }),
    );
    fake.faults.failNextOperation("firewalls.delete");
    await untilDone(clients, operationOf(await clients.firewalls.delete({ project, firewall: "lb-fw" })), {
      project,
      allowError: true,
    });
    const { zones, instances } = extraClientsFor(fake);
    await Promise.all([
      clients.instanceGroups.get({ project, zone: zoneA, instanceGroup: "lb-ig" }),
      clients.instanceGroups.list({ project, zone: zoneA }),
      clients.healthChecks.list({ project }),
      clients.backendServices.list({ project, region }),
      clients.backendServices.get({ project, region, backendService: "lb-bs" }),
      clients.forwardingRules.list({ project, region }),
      clients.forwardingRules.get({ project, region, forwardingRule: "lb-fr" }),
      clients.firewalls.list({ project }),
      clients.addresses.list({ project, region }),
      clients.subnetworks.list({ project, region }),
      zones.list({ project }),
      instances.get({ project, zone: zoneA, instance: "node-a1" }),
      instances.list({ project, zone: zoneA }),
      rejectionOf(clients.healthChecks.get({ project, healthCheck: "none" })),
    ]);
    const calls = fake.calls();
    expect(new Set(calls.map((c) => c.method)).size).toBeGreaterThanOrEqual(25);
    for (const call of calls.filter((c) => c.status === 200))
      expect([call.method, protos.problems(responseTypeOf(call.method), call.response)]).toEqual([call.method, []]);
    for (const call of calls.filter((c) => c.status !== 200)) {
      expect(call.response).toEqual({
        error: {
          code: call.status,
          message: expect.any(String) as unknown,
          errors: [{ domain: "global", reason: expect.any(String) as unknown, message: expect.any(String) as unknown }],
        },
      });
    }
  });
});
