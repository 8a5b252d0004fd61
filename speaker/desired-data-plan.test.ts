import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  type EndpointFixture,
  type ServiceTweak,
  newEndpointSlice,
  newNode,
  newService,
  nodeLabel,
  tweakClass,
  tweakDeleting,
  tweakLocal,
  tweakPodMode,
  tweakPorts,
  tweakSourceRanges,
  tweakType,
} from "../test/fixtures/services.js";
import { electAnnouncer } from "./announcer-election.js";
import type { ProbeTarget } from "./data-plan.js";
import { type SpeakerInputs, decideDataPlan } from "./desired-data-plan.js";
import { probeKey } from "./health/probe-target.js";
import { placementFor } from "../providers/baremetal/speaker-placement.js";

const CLASS = "lb-operator.io/baremetal";
const VIP = "192.0.2.100";
const NODES = ["node-1", "node-2", "node-3"];
const nodeIP = (n: string): string => `192.0.2.${10 + Number(n.slice(5))}`;

const withVIP =
  (...ips: string[]): ServiceTweak =>
  (svc) => {
    svc.status = { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: "Proxy" })) } };
  };

function svc(name: string, ...tweaks: ServiceTweak[]): V1Service {
  return newService(name, tweakClass(CLASS), withVIP(VIP), ...tweaks);
}

function inputs(over: Partial<SpeakerInputs> & { nodeName: string }): SpeakerInputs {
  return {
    services: [svc("web")],
    endpointSlices: [
      newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [{ ip: "198.51.100.17", nodeName: "node-1" }]),
    ],
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
      newEndpointSlice(
        "web",
        "web-1",
        [{ name: "http", port: 8080 }],
        [
          { ip: "198.51.100.33", nodeName: "node-2" },
          { ip: "198.51.100.49", nodeName: "node-3", ready: false, serving: false },
        ],
      ),
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
    const services = [
      svc("a", tweakLocal(32000)),
      svc("b", tweakLocal(32001), (s) => void (s.spec!.ports![0]!.port = 81)),
    ];
    const endpointSlices = [
      newEndpointSlice(
        "a",
        "a-1",
        [{ name: "http", port: 8080 }],
        [
          { ip: "198.51.100.17", nodeName: "node-1" },
          { ip: "198.51.100.33", nodeName: "node-2" },
        ],
      ),
      newEndpointSlice(
        "b",
        "b-1",
        [{ name: "http", port: 8080 }],
        [
          { ip: "198.51.100.34", nodeName: "node-2" },
          { ip: "198.51.100.49", nodeName: "node-3" },
        ],
      ),
    ];
    const decisions = everyNode({ services, endpointSlices });
    expect(announcersOf(decisions)).toEqual(["node-2"]);
    expect(decisions.get("node-2")!.plan.rules.map((r) => r.port)).toEqual([80, 81]);
    // Its owners, for the per-Service metrics: both Services, on the announcer only.
    expect([...decisions.get("node-2")!.owners]).toEqual([[VIP, ["default/a", "default/b"]]]);
    expect(decisions.get("node-1")!.owners.size).toBe(0);
  });
});

describe("decideDataPlan: what the announcer forwards", () => {
  const announcer = electAnnouncer(VIP, NODES)!;
  const others = NODES.filter((n) => n !== announcer);
  /** Pod addresses by node: node-1 has 198.51.100.17.., node-2 198.51.100.33.., node-3 198.51.100.49.. */
  const podOn = (node: string, extra = 0): string => `198.51.100.${16 * Number(node.slice(5)) + 1 + extra}`;
  const slice = (
    endpoints: EndpointFixture[],
    ports: { name: string; port: number; protocol?: string }[] = [{ name: "http", port: 8080 }],
  ) => newEndpointSlice("web", "web-1", ports, endpoints);
  const onePodPerNode = slice(NODES.map((n) => ({ ip: podOn(n), nodeName: n })));

  it("nodePort mode, Cluster: other healthy nodes' NodePorts plus the announcer's own ready pods, masqueraded", () => {
    const sick: ProbeTarget = { kind: "http", ip: nodeIP(others[0]!), port: 10256, path: "/healthz" };
    const d = decideDataPlan(
      inputs({
        nodeName: announcer,
        endpointSlices: [onePodPerNode],
        isHealthy: (t) => probeKey(t) !== probeKey(sick),
      }),
    );
    expect(d.plan.rules).toEqual([
      {
        vip: VIP,
        protocol: "TCP",
        port: 80,
        clientIPAffinity: false,
        masquerade: true,
        sourceRanges: [],
        service: "default/web",
        destinations: [
          { ip: nodeIP(others[1]!), port: 30080 },
          { ip: podOn(announcer), port: 8080 },
        ],
      },
    ]);
    // kube-proxy's health of the other nodes only: the announcer's own pods are judged by readiness.
    expect(d.probes.map(probeKey).sort()).toEqual(others.map((n) => `http://${nodeIP(n)}:10256/healthz`));
  });

  it("nodePort mode, Cluster: an announcer without local pods forwards to the other nodes only", () => {
    const endpointSlices = [slice(others.map((n) => ({ ip: podOn(n), nodeName: n })))];
    const d = decideDataPlan(inputs({ nodeName: announcer, endpointSlices }));
    expect(d.plan.rules[0]!.destinations).toEqual(others.map((n) => ({ ip: nodeIP(n), port: 30080 })));
  });

  it("nodePort mode, Cluster: a node whose speaker died is no longer a destination", () => {
    const d = decideDataPlan(
      inputs({ nodeName: announcer, endpointSlices: [onePodPerNode], deadSpeakers: new Set([others[0]!]) }),
    );
    expect(d.plan.rules[0]!.destinations).toEqual([
      { ip: nodeIP(others[1]!), port: 30080 },
      { ip: podOn(announcer), port: 8080 },
    ]);
  });

  it("nodePort mode, Local: the announcer's own ready pods, not masqueraded, whatever kube-proxy's health check says", () => {
    const services = [svc("web", tweakLocal(32000))];
    const endpointSlices = [
      slice([
        { ip: "198.51.100.33", nodeName: "node-2" },
        { ip: "198.51.100.34", nodeName: "node-2", ready: false, serving: false },
        { ip: "198.51.100.35", nodeName: "node-2" },
      ]),
    ];
    const d = decideDataPlan(inputs({ nodeName: "node-2", services, endpointSlices }));
    expect(d.plan.rules[0]).toMatchObject({
      masquerade: false,
      destinations: [
        { ip: "198.51.100.33", port: 8080 },
        { ip: "198.51.100.35", port: 8080 },
      ],
    });
    expect(d.probes).toEqual([]);
    // kube-proxy not yet caught up (its healthCheckNodePort answers 503): the ready pods keep their traffic.
    const lagging = decideDataPlan(inputs({ nodeName: "node-2", services, endpointSlices, isHealthy: () => false }));
    expect(lagging.plan.announced).toEqual([VIP]);
    expect(lagging.plan.rules[0]!.destinations).toEqual(d.plan.rules[0]!.destinations);
  });

  it("never DNATs to the announcer's own NodePort, in either mode and either policy", () => {
    const variants: [string, ServiceTweak[]][] = [
      ["nodePort Cluster", []],
      ["nodePort Local", [tweakLocal(32000)]],
      ["pod Cluster", [tweakPodMode()]],
      ["pod Local", [tweakPodMode(), (s) => void (s.spec!.externalTrafficPolicy = "Local")]],
    ];
    for (const [name, tweaks] of variants) {
      const decisions = everyNode({ services: [svc("web", ...tweaks)], endpointSlices: [onePodPerNode] });
      const [node, d] = [...decisions].find(([, x]) => x.plan.rules.length > 0) ?? [];
      expect(d?.plan.rules[0]?.destinations, name).toContainEqual({ ip: podOn(node!), port: 8080 });
      for (const dest of d!.plan.rules.flatMap((r) => r.destinations)) {
        expect(dest, name).not.toEqual({ ip: nodeIP(node!), port: 30080 });
      }
    }
  });

  it("uses ready endpoints only, and serving terminating ones only when none is ready (kube-proxy's fallback)", () => {
    const own = (extra: number): string => podOn(announcer, extra);
    const mixed = slice([
      { ip: own(0), nodeName: announcer },
      { ip: own(1), nodeName: announcer, ready: false, serving: false },
      { ip: own(2), nodeName: announcer, ready: false, serving: true, terminating: true },
    ]);
    const ready = decideDataPlan(inputs({ nodeName: announcer, endpointSlices: [mixed] }));
    expect(ready.plan.rules[0]!.destinations.filter((x) => x.port === 8080)).toEqual([{ ip: own(0), port: 8080 }]);

    const terminating = slice([
      { ip: own(1), nodeName: announcer, ready: false, serving: false },
      { ip: own(2), nodeName: announcer, ready: false, serving: true, terminating: true },
    ]);
    const fallback = decideDataPlan(inputs({ nodeName: announcer, endpointSlices: [terminating] }));
    expect(fallback.plan.rules[0]!.destinations.filter((x) => x.port === 8080)).toEqual([{ ip: own(2), port: 8080 }]);
  });

  it("pod mode: ready pods' target ports with TCP probes; Local keeps this node's pods only", () => {
    const endpointSlices = [
      newEndpointSlice(
        "web",
        "web-1",
        [{ name: "http", port: 8080 }],
        [
          { ip: "198.51.100.17", nodeName: "node-1" },
          { ip: "198.51.100.33", nodeName: "node-2" },
          { ip: "198.51.100.34", nodeName: "node-2", ready: false, serving: false },
        ],
      ),
    ];
    const cluster = decideDataPlan(
      inputs({ nodeName: announcer, services: [svc("web", tweakPodMode())], endpointSlices }),
    );
    expect(cluster.plan.rules[0]).toMatchObject({
      masquerade: true,
      destinations: [
        { ip: "198.51.100.17", port: 8080 },
        { ip: "198.51.100.33", port: 8080 },
      ],
    });
    expect(cluster.probes).toContainEqual({ kind: "tcp", ip: "198.51.100.33", port: 8080 });

    const localSvc = svc("web", tweakPodMode(), (s) => void (s.spec!.externalTrafficPolicy = "Local"));
    const localAnnouncer = electAnnouncer(VIP, ["node-1", "node-2"])!;
    const local = decideDataPlan(inputs({ nodeName: localAnnouncer, services: [localSvc], endpointSlices }));
    const expectedIP = localAnnouncer === "node-1" ? "198.51.100.17" : "198.51.100.33";
    expect(local.plan.rules[0]).toMatchObject({ masquerade: false, destinations: [{ ip: expectedIP, port: 8080 }] });
  });

  it("pod mode: UDP ports are judged by readiness, never by a TCP connect, even when every TCP probe fails", () => {
    const syslog = { name: "syslog", protocol: "UDP", port: 514, targetPort: 5514 };
    const udpOnly = svc("web", tweakPorts(syslog), tweakPodMode());
    const slices = [
      slice(
        NODES.map((n) => ({ ip: podOn(n), nodeName: n })),
        [{ name: "syslog", port: 5514, protocol: "UDP" }],
      ),
    ];
    const tcpFails = (t: ProbeTarget): boolean => t.kind !== "tcp";
    const d = decideDataPlan(
      inputs({ nodeName: announcer, services: [udpOnly], endpointSlices: slices, isHealthy: tcpFails }),
    );
    expect(d.plan.rules).toHaveLength(1);
    expect(d.plan.rules[0]).toMatchObject({
      protocol: "UDP",
      port: 514,
      destinations: NODES.map((n) => ({ ip: podOn(n), port: 5514 })),
    });
    expect(d.probes).toEqual([]);

    // Beside a TCP port on the same pods, only the TCP port is probed, and only its rule loses the failing pods.
    const both = svc(
      "web",
      tweakPorts(syslog, { name: "http", protocol: "TCP", port: 80, targetPort: 8080 }),
      tweakPodMode(),
    );
    const bothSlices = [
      slice(
        NODES.map((n) => ({ ip: podOn(n), nodeName: n })),
        [
          { name: "syslog", port: 5514, protocol: "UDP" },
          { name: "http", port: 8080 },
        ],
      ),
    ];
    const mixed = decideDataPlan(
      inputs({ nodeName: announcer, services: [both], endpointSlices: bothSlices, isHealthy: tcpFails }),
    );
    expect(mixed.plan.rules.map((r) => [r.protocol, r.destinations.length])).toEqual([
      ["TCP", 0],
      ["UDP", 3],
    ]);
    expect(mixed.probes.map((p) => [p.kind, p.port])).toEqual(NODES.map(() => ["tcp", 8080]));
  });

  it("nodePort mode: a UDP port has no TCP probe either", () => {
    const dns = svc("web", tweakPorts({ name: "dns", protocol: "UDP", port: 53, targetPort: 5353, nodePort: 30053 }));
    const slices = [
      slice(
        NODES.map((n) => ({ ip: podOn(n), nodeName: n })),
        [{ name: "dns", port: 5353, protocol: "UDP" }],
      ),
    ];
    const d = decideDataPlan(
      inputs({ nodeName: announcer, services: [dns], endpointSlices: slices, isHealthy: (t) => t.kind !== "tcp" }),
    );
    expect(d.plan.rules[0]!.destinations).toEqual([
      ...others.map((n) => ({ ip: nodeIP(n), port: 30053 })),
      { ip: podOn(announcer), port: 5353 },
    ]);
    expect(d.probes.every((p) => p.kind === "http")).toBe(true);
  });

  it("carries source ranges, ClientIP affinity and UDP ports", () => {
    const s = svc("web", tweakSourceRanges("192.0.2.0/28", "2001:db8::/64"), (x) => {
      x.spec!.sessionAffinity = "ClientIP";
      x.spec!.ports = [
        { name: "dns", protocol: "UDP", port: 53, targetPort: 5353, nodePort: 30053 },
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
      ];
    });
    const endpointSlices = [
      newEndpointSlice(
        "web",
        "web-1",
        [
          { name: "http", port: 8080 },
          { name: "dns", port: 5353, protocol: "UDP" },
        ],
        [{ ip: "198.51.100.17", nodeName: "node-1" }],
      ),
    ];
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
    const endpointSlices = ["a", "b"].map((n) =>
      newEndpointSlice(n, `${n}-1`, [{ name: "http", port: 8080 }], [{ ip: "198.51.100.17", nodeName: "node-1" }]),
    );
    const d = decideDataPlan(inputs({ nodeName: announcer, services: [svc("b"), svc("a")], endpointSlices }));
    expect(d.plan.rules.map((r) => r.service)).toEqual(["default/a"]);
    expect(d.skipped).toEqual([
      { service: "default/b", kind: "forwarding", reason: `${VIP}/TCP/80 is already forwarded for default/a` },
    ]);
  });
});

describe("pool placement (L2Advertisement nodeSelectors and interfaces on the pool)", () => {
  const pool = {
    name: "racked",
    addresses: ["192.0.2.96/28"],
    autoAssign: true,
    avoidBuggyIPs: false,
    nodeSelectors: [{ matchLabels: { rack: "r1" } }],
    interfaces: ["eth1"],
  };

  it("never elects a node outside the pool's node selector, even the one the election would pick", () => {
    const favourite = electAnnouncer(VIP, NODES)!;
    const others = NODES.filter((n) => n !== favourite);
    const nodes = NODES.map((n) => newNode(n, nodeIP(n), ...(n === favourite ? [] : [nodeLabel("rack", "r1")])));
    const decisions = everyNode({ nodes, placement: placementFor([pool]) });
    expect(announcersOf(decisions)).toEqual([electAnnouncer(VIP, others)]);
    expect(decisions.get(favourite)?.announcers.get(VIP)).toBe(electAnnouncer(VIP, others));
    const [winner] = announcersOf(decisions);
    expect(decisions.get(winner!)?.interfaces.get(VIP)).toEqual(["eth1"]);
    // No node matching: nobody announces, rather than a node the admin excluded.
    const none = everyNode({ nodes: NODES.map((n) => newNode(n, nodeIP(n))), placement: placementFor([pool]) });
    expect(announcersOf(none)).toEqual([]);
  });

  it("leaves addresses of pools without a selector, and of no known pool, to every node", () => {
    const open = { ...pool, nodeSelectors: [], interfaces: [] };
    expect(announcersOf(everyNode({ placement: placementFor([open]) }))).toEqual([electAnnouncer(VIP, NODES)]);
    expect(announcersOf(everyNode({ placement: placementFor([]) }))).toEqual([electAnnouncer(VIP, NODES)]);
  });
});
