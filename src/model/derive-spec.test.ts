import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import {
  newEndpointSlice,
  newNode,
  newService,
  nodeLabel,
  nodeTaint,
  tweakAnnotation,
  tweakLocal,
  tweakPodMode,
  tweakPorts,
  tweakSourceRanges,
} from "../../test/fixtures/services.js";
import type { ServiceTweak } from "../../test/fixtures/services.js";
import type { LoadBalancerSpec } from "../provider.js";
import {
  EXCLUDE_FROM_LOAD_BALANCERS_LABEL,
  REQUESTED_IPS_ANNOTATION,
  SOURCE_RANGES_ANNOTATION,
  TO_BE_DELETED_TAINT,
} from "./annotations.js";
import { deriveSpec } from "./derive-spec.js";
import { deepFreeze } from "./freeze.js";
import { loadBalancerId } from "./load-balancer-id.js";

const OPTIONS = { clusterId: "lab" };

const nodes = (): V1Node[] => [
  newNode("node-b", "198.51.100.2"),
  newNode("node-a", "198.51.100.1"),
  newNode("node-x", "198.51.100.3", nodeLabel(EXCLUDE_FROM_LOAD_BALANCERS_LABEL, "true")),
  newNode("node-y", "198.51.100.4", nodeTaint(TO_BE_DELETED_TAINT)),
];

const podService = (...tweaks: ServiceTweak[]): V1Service =>
  newService(
    "web",
    tweakPorts(
      { name: "http", port: 80, targetPort: "http" },
      { name: "dns", protocol: "UDP", port: 53, targetPort: 5353 },
    ),
    tweakPodMode(),
    ...tweaks,
  );

const slices = (): V1EndpointSlice[] => [
  newEndpointSlice(
    "web",
    "web-2",
    [
      { name: "http", port: 8081 },
      { name: "dns", port: 5353, protocol: "UDP" },
    ],
    [{ ip: "10.0.0.2", nodeName: "node-b" }],
  ),
  newEndpointSlice(
    "web",
    "web-1",
    [{ name: "http", port: 8080 }],
    [
      { ip: "10.0.0.1", nodeName: "node-a" },
      { ip: "10.0.0.9", ready: false, serving: false, nodeName: "node-a" },
    ],
  ),
  newEndpointSlice("api", "api-1", [{ name: "http", port: 8080 }], [{ ip: "10.0.0.7" }]),
];

function derive(svc: V1Service, s: V1EndpointSlice[] = slices(), n: V1Node[] = nodes()): LoadBalancerSpec {
  return deriveSpec(deepFreeze(svc), deepFreeze(s), deepFreeze(n), OPTIONS);
}

describe("deriveSpec", () => {
  it("nodePort mode, Cluster policy: the full spec", () => {
    const svc = newService("web", tweakAnnotation("example.com/b", "2"), tweakAnnotation("example.com/a", "1"), (s) => {
      s.metadata!.labels = { tier: "gold", app: "web" };
    });
    expect(derive(svc)).toEqual({
      id: loadBalancerId(svc, "lab"),
      ports: [{ name: "http", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined }],
      backends: {
        mode: "nodePort",
        nodes: [
          {
            name: "node-a",
            addresses: [
              { type: "InternalIP", address: "198.51.100.1" },
              { type: "Hostname", address: "node-a" },
            ],
            providerID: "test://node-a",
            zone: "zone-a",
            labels: { "topology.kubernetes.io/zone": "zone-a" },
          },
          {
            name: "node-b",
            addresses: [
              { type: "InternalIP", address: "198.51.100.2" },
              { type: "Hostname", address: "node-b" },
            ],
            providerID: "test://node-b",
            zone: "zone-a",
            labels: { "topology.kubernetes.io/zone": "zone-a" },
          },
        ],
      },
      healthCheck: { kind: "http", source: "kubeProxy", port: 10256, path: "/healthz" },
      externalTrafficPolicy: "Cluster",
      sourceRanges: [],
      requestedIPs: [],
      ipFamilies: ["IPv4"],
      sessionAffinity: { type: "None" },
      annotations: { "example.com/a": "1", "example.com/b": "2" },
      selector: { app: "web" },
      labels: { app: "web", tier: "gold" },
    } satisfies LoadBalancerSpec);
  });

  it("nodePort mode, Local policy: healthCheckNodePort", () => {
    const spec = derive(newService("web", tweakLocal(32500)));
    expect(spec.externalTrafficPolicy).toBe("Local");
    expect(spec.healthCheck).toEqual({ kind: "http", source: "healthCheckNodePort", port: 32500, path: "/healthz" });
    expect(spec.backends.mode).toBe("nodePort");
  });

  it("pod mode: endpoints with per-slice named targetPorts, TCP health check, no nodePorts", () => {
    const spec = derive(podService());
    expect(spec.ports).toEqual([
      { name: "http", protocol: "TCP", port: 80, nodePort: undefined, appProtocol: undefined },
      { name: "dns", protocol: "UDP", port: 53, nodePort: undefined, appProtocol: undefined },
    ]);
    expect(spec.backends).toEqual({
      mode: "pod",
      endpoints: [
        { ip: "10.0.0.1", ports: { http: 8080 }, nodeName: "node-a", zone: undefined, ready: true, serving: true },
        {
          ip: "10.0.0.2",
          ports: { http: 8081, dns: 5353 },
          nodeName: "node-b",
          zone: undefined,
          ready: true,
          serving: true,
        },
      ],
    });
    expect(spec.healthCheck).toEqual({ kind: "tcp", source: "targetPort" });
  });

  it("carries source ranges, requested IPs, families and session affinity", () => {
    const spec = derive(
      newService(
        "web",
        tweakAnnotation(SOURCE_RANGES_ANNOTATION, "203.0.113.7/24"),
        tweakAnnotation(REQUESTED_IPS_ANNOTATION, "2001:db8::5,192.0.2.5"),
        (s) => {
          s.spec!.ipFamilies = ["IPv6", "IPv4"];
          s.spec!.sessionAffinity = "ClientIP";
        },
      ),
    );
    expect(spec.sourceRanges).toEqual(["203.0.113.0/24"]);
    expect(spec.requestedIPs).toEqual(["2001:db8::5", "192.0.2.5"]);
    expect(spec.ipFamilies).toEqual(["IPv6", "IPv4"]);
    expect(spec.sessionAffinity).toEqual({ type: "ClientIP", timeoutSeconds: 10800 });
  });

  it.each<{ name: string; svc: V1Service; field: string; text: string }>([
    { name: "no ports", svc: newService("web", tweakPorts()), field: "spec.ports", text: "at least one port" },
    {
      name: "unknown protocol",
      svc: newService("web", tweakPorts({ name: "x", protocol: "ICMP", port: 1, nodePort: 30001 })),
      field: "spec.ports[0].protocol",
      text: '"ICMP"',
    },
    {
      name: "missing nodePort",
      svc: newService("web", tweakPorts({ name: "x", port: 80 })),
      field: "spec.ports[0].nodePort",
      text: "no nodePort",
    },
    {
      name: "Local without healthCheckNodePort",
      svc: newService("web", (s) => void (s.spec!.externalTrafficPolicy = "Local")),
      field: "spec.healthCheckNodePort",
      text: "Local",
    },
    {
      name: "invalid CIDR",
      svc: newService("web", tweakSourceRanges("192.0.2.0/24", "10.0.0.0/8", "10.0.0.0/99")),
      field: "spec.loadBalancerSourceRanges[2]",
      text: '"10.0.0.0/99"',
    },
    {
      name: "bad requested IP",
      svc: newService("web", (s) => void (s.spec!.loadBalancerIP = "192.0.2.999")),
      field: "spec.loadBalancerIP",
      text: '"192.0.2.999"',
    },
    {
      name: "conflicting requested IPs",
      svc: newService(
        "web",
        (s) => void (s.spec!.loadBalancerIP = "192.0.2.1"),
        tweakAnnotation(REQUESTED_IPS_ANNOTATION, "192.0.2.2"),
      ),
      field: `metadata.annotations[${REQUESTED_IPS_ANNOTATION}]`,
      text: "conflicts",
    },
  ])("rejects $name with InvalidSpecError naming $field", ({ svc, field, text }) => {
    let caught: unknown;
    try {
      derive(svc);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidSpecError);
    expect((caught as InvalidSpecError).field).toBe(field);
    expect((caught as InvalidSpecError).message).toContain(text);
  });

  it("is deterministic: list order does not change the spec or its serialisation", () => {
    for (const svc of [newService("web"), podService()]) {
      const a = derive(svc, slices(), nodes());
      const b = derive(svc, [...slices()].reverse(), [...nodes()].reverse());
      expect(b).toEqual(a);
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    }
  });

  it("never mutates its inputs", () => {
    const svc = podService(
      tweakLocal(),
      tweakSourceRanges("10.0.0.1/8"),
      tweakAnnotation(REQUESTED_IPS_ANNOTATION, "192.0.2.5"),
    );
    const inputs = { svc, slices: slices(), nodes: nodes() };
    const before = structuredClone(inputs);
    deepFreeze(inputs);
    // Frozen inputs make any write throw (ESM is strict mode); the comparison catches anything subtler.
    deriveSpec(inputs.svc, inputs.slices, inputs.nodes, OPTIONS);
    expect(inputs).toEqual(before);
  });

  it("returns a deeply frozen spec that shares no objects with the Service", () => {
    const svc = deepFreeze(newService("web", tweakAnnotation("k", "v")));
    const spec = deriveSpec(svc, [], deepFreeze(nodes()), OPTIONS);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.ports[0])).toBe(true);
    expect(Object.isFrozen(spec.backends)).toBe(true);
    expect(Object.isFrozen(spec.annotations)).toBe(true);
    expect(spec.annotations).not.toBe(svc.metadata!.annotations);
    expect(() => (spec.sourceRanges as string[]).push("0.0.0.0/0")).toThrow(TypeError);
  });

  it("derives an empty node list (not an error) when no node is eligible", () => {
    const spec = derive(newService("web"), [], [newNode("n", "198.51.100.9", nodeTaint(TO_BE_DELETED_TAINT))]);
    expect(spec.backends).toEqual({ mode: "nodePort", nodes: [] });
  });
});
