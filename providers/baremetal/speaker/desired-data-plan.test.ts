import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  type ServiceTweak,
  newEndpointSlice,
  newNode,
  newService,
  nodeLabel,
  tweakClass,
  tweakDeleting,
  tweakLocal,
  tweakPodMode,
  tweakSourceRanges,
  tweakType,
} from "../../../test/fixtures/services.js";
import { electAnnouncer } from "./announcer-election.js";
import type { ProbeTarget } from "./data-plan.js";
import { type SpeakerInputs, decideDataPlan } from "./desired-data-plan.js";
import { probeKey } from "./health/probe-target.js";

const CLASS = "lb-operator.io/baremetal";
const VIP = "192.0.2.100";
const NODES = ["node-1", "node-2", "node-3"];
const nodeIP = (n: string): string => `192.0.2.${10 + Number(n.slice(5))}`;

const withVIP = (...ips: string[]): ServiceTweak => (svc) => {
  svc.status = { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: "Proxy" })) } };
};

function svc(name: string, ...tweaks: ServiceTweak[]): V1Service {
  return newService(name, tweakClass(CLASS), withVIP(VIP), ...tweaks);
}

function inputs(over: Partial<SpeakerInputs> & { nodeName: string }): SpeakerInputs {
  return {
    services: [svc("web")],
    endpointSlices: [newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [{ ip: "198.51.100.17", nodeName: "node-1" }])],
    nodes: NODES.map((n) => newNode(n, nodeIP(n))),
    liveSpeakers: new Set(NODES),
    deadSpeakers: new Set(),
    classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
    announceOnly: false,
    isHealthy: () => true,
    ...over,
  };
}

/** Runs the decision on every node, as every speaker would. */
function everyNode(over: Partial<SpeakerInputs> = {}): Map<string, ReturnType<typeof decideDataPlan>> {
  return new Map(NODES.map((n) => [n, decideDataPlan(inputs({ ...over, nodeName: n }))]));
}

const announcersOf = (decisions: Map<string, ReturnType<typeof decideDataPlan>>): string[] =>
  [...decisions].filter(([, d]) => d.plan.announced.includes(VIP)).map(([n]) => n);

describe("decideDataPlan: who announces", () => {
  it("exactly one node announces, the first by MetalLB's hash, and all nodes agree on it", () => {
    const decisions = everyNode();
    const expected = electAnnouncer(VIP, NODES);
    expect(announcersOf(decisions)).toEqual([expected]);
    for (const d of decisions.values()) expect(d.announcers.get(VIP)).toBe(expected);
  });

  it("a speaker that is not live is never chosen, and another node takes over", () => {
    const first = electAnnouncer(VIP, NODES)!;
    const rest = NODES.filter((n) => n !== first);
    const decisions = everyNode({ liveSpeakers: new Set(rest) });
    expect(announcersOf(decisions)).toEqual([electAnnouncer(VIP, rest)]);
  });

  it("excluded and deleting nodes never announce", () => {
    const nodes = [
      newNode("node-1", nodeIP("node-1"), nodeLabel("node.kubernetes.io/exclude-from-external-load-balancers", "true")),
      newNode("node-2", nodeIP("node-2"), (n) => void (n.metadata!.deletionTimestamp = new Date())),
      newNode("node-3", nodeIP("node-3")),
    ];
    expect(announcersOf(everyNode({ nodes }))).toEqual(["node-3"]);
  });

  it("with externalTrafficPolicy Local only a node with a ready local endpoint announces", () => {
    const services = [svc("web", tweakLocal(32000))];
    const endpointSlices = [
      newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [
        { ip: "198.51.100.33", nodeName: "node-2" },
        { ip: "198.51.100.49", nodeName: "node-3", ready: false, serving: false },
      ]),
    ];
    expect(announcersOf(everyNode({ services, endpointSlices }))).toEqual(["node-2"]);
  });

  it("nobody announces a Service without serving endpoints (MetalLB rule 1)", () => {
    expect(announcersOf(everyNode({ endpointSlices: [] }))).toEqual([]);
  });

  it("nothing is announced for other classes, other types, deleting Services or Services without an address", () => {
    for (const s of [
      newService("web", tweakClass("other"), withVIP(VIP)),
      svc("web", tweakType("NodePort")),
      svc("web", tweakDeleting()),
      newService("web", tweakClass(CLASS)),
    ]) {
      expect(announcersOf(everyNode({ services: [s] }))).toEqual([]);
    }
  });

  it("a shared address is announced by one node that every Service on it accepts", () => {
    const services = [svc("a", tweakLocal(32000)), svc("b", tweakLocal(32001), (s) => void (s.spec!.ports![0]!.port = 81))];
    const endpointSlices = [
      newEndpointSlice("a", "a-1", [{ name: "http", port: 8080 }], [{ ip: "198.51.100.17", nodeName: "node-1" }, { ip: "198.51.100.33", nodeName: "node-2" }]),
      newEndpointSlice("b", "b-1", [{ name: "http", port: 8080 }], [{ ip: "198.51.100.34", nodeName: "node-2" }, { ip: "198.51.100.49", nodeName: "node-3" }]),
    ];
    const decisions = everyNode({ services, endpointSlices });
    expect(announcersOf(decisions)).toEqual(["node-2"]);
    expect(decisions.get("node-2")!.plan.rules.map((r) => r.port)).toEqual([80, 81]);
  });
});

describe("decideDataPlan: what the announcer forwards", () => {
  const announcer = electAnnouncer(VIP, NODES)!;

  it("nodePort mode, Cluster: every healthy node's NodePort, masqueraded; probes kube-proxy :10256/healthz", () => {
    const sick: ProbeTarget = { kind: "http", ip: nodeIP("node-2"), port: 10256, path: "/healthz" };
    const d = decideDataPlan(inputs({ nodeName: announcer, isHealthy: (t) => probeKey(t) !== probeKey(sick) }));
    expect(d.plan.rules).toEqual([
      {
        vip: VIP, protocol: "TCP", port: 80, clientIPAffinity: false, masquerade: true, sourceRanges: [], service: "default/web",
        destinations: [{ ip: nodeIP("node-1"), port: 30080 }, { ip: nodeIP("node-3"), port: 30080 }],
      },
    ]);
    expect(d.probes.map(probeKey).sort()).toEqual(NODES.map((n) => `http://${nodeIP(n)}:10256/healthz`));
  });

  it("nodePort mode, Cluster: a node whose speaker died is no longer a destination", () => {
    const others = NODES.filter((n) => n !== announcer);
    const d = decideDataPlan(inputs({ nodeName: announcer, deadSpeakers: new Set([others[0]!]) }));
    expect(d.plan.rules[0]!.destinations.map((x) => x.ip)).not.toContain(nodeIP(others[0]!));
    expect(d.plan.rules[0]!.destinations).toHaveLength(2);
  });

  it("nodePort mode, Local: only this node's NodePort, not masqueraded, gated by healthCheckNodePort", () => {
    const services = [svc("web", tweakLocal(32000))];
    const endpointSlices = [newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [{ ip: "198.51.100.33", nodeName: "node-2" }])];
    const d = decideDataPlan(inputs({ nodeName: "node-2", services, endpointSlices }));
    expect(d.plan.rules[0]).toMatchObject({ masquerade: false, destinations: [{ ip: nodeIP("node-2"), port: 30080 }] });
    expect(d.probes).toEqual([{ kind: "http", ip: nodeIP("node-2"), port: 32000, path: "/healthz" }]);
    const failing = decideDataPlan(inputs({ nodeName: "node-2", services, endpointSlices, isHealthy: () => false }));
    expect(failing.plan.announced).toEqual([VIP]);
    expect(failing.plan.rules[0]!.destinations).toEqual([]);
  });

  it("pod mode: ready pods' target ports with TCP probes; Local keeps this node's pods only", () => {
    const endpointSlices = [
      newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [
        { ip: "198.51.100.17", nodeName: "node-1" },
        { ip: "198.51.100.33", nodeName: "node-2" },
        { ip: "198.51.100.34", nodeName: "node-2", ready: false, serving: false },
      ]),
    ];
    const cluster = decideDataPlan(inputs({ nodeName: announcer, services: [svc("web", tweakPodMode())], endpointSlices }));
    expect(cluster.plan.rules[0]).toMatchObject({ masquerade: true, destinations: [{ ip: "198.51.100.17", port: 8080 }, { ip: "198.51.100.33", port: 8080 }] });
    expect(cluster.probes).toContainEqual({ kind: "tcp", ip: "198.51.100.33", port: 8080 });

    const localSvc = svc("web", tweakPodMode(), (s) => void (s.spec!.externalTrafficPolicy = "Local"));
    const localAnnouncer = electAnnouncer(VIP, ["node-1", "node-2"])!;
    const local = decideDataPlan(inputs({ nodeName: localAnnouncer, services: [localSvc], endpointSlices }));
    const expectedIP = localAnnouncer === "node-1" ? "198.51.100.17" : "198.51.100.33";
    expect(local.plan.rules[0]).toMatchObject({ masquerade: false, destinations: [{ ip: expectedIP, port: 8080 }] });
  });

  it("carries source ranges, ClientIP affinity and UDP ports", () => {
    const s = svc("web", tweakSourceRanges("192.0.2.0/28", "2001:db8::/64"), (x) => {
      x.spec!.sessionAffinity = "ClientIP";
      x.spec!.ports = [
        { name: "dns", protocol: "UDP", port: 53, targetPort: 5353, nodePort: 30053 },
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
      ];
    });
    const endpointSlices = [newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }, { name: "dns", port: 5353, protocol: "UDP" }], [{ ip: "198.51.100.17", nodeName: "node-1" }])];
    const d = decideDataPlan(inputs({ nodeName: announcer, services: [s], endpointSlices }));
    expect(d.plan.rules.map((r) => [r.protocol, r.port, r.clientIPAffinity, r.sourceRanges])).toEqual([
      ["TCP", 80, true, ["192.0.2.0/28"]],
      ["UDP", 53, true, ["192.0.2.0/28"]],
    ]);
  });

  it("announce-only mode announces and forwards nothing", () => {
    const d = decideDataPlan(inputs({ nodeName: announcer, announceOnly: true }));
    expect(d.plan).toEqual({ announced: [VIP], rules: [] });
    expect(d.probes).toEqual([]);
  });

  it("non-announcers program nothing", () => {
    for (const n of NODES.filter((x) => x !== announcer)) {
      expect(decideDataPlan(inputs({ nodeName: n })).plan).toEqual({ announced: [], rules: [] });
    }
  });

  it("a port claimed twice on one address is forwarded for the first Service only, and the other is reported", () => {
    const endpointSlices = ["a", "b"].map((n) => newEndpointSlice(n, `${n}-1`, [{ name: "http", port: 8080 }], [{ ip: "198.51.100.17", nodeName: "node-1" }]));
    const d = decideDataPlan(inputs({ nodeName: announcer, services: [svc("b"), svc("a")], endpointSlices }));
    expect(d.plan.rules.map((r) => r.service)).toEqual(["default/a"]);
    expect(d.skipped).toEqual([{ service: "default/b", kind: "forwarding", reason: `${VIP}/TCP/80 is already forwarded for default/a` }]);
  });
});
