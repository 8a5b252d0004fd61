import { describe, expect, it } from "vitest";
import {
  type ServiceTweak,
  newNode,
  newService,
  tweakLocal,
  tweakPodMode,
  tweakPorts,
} from "../test/fixtures/services.js";
import type { ElectionNode } from "./announcer-election.js";
import { type NodeView, backendsFor, servingEndpoints } from "./forwarding-backends.js";
import { nodePortKey } from "./node-port-settling.js";
import type { PodEndpoint } from "../src/index.js";
import { deriveSpec } from "../src/model/index.js";

const endpoint = (ip: string, nodeName: string, over: Partial<PodEndpoint> = {}): PodEndpoint => ({
  ip,
  ports: { http: 8080 },
  nodeName,
  zone: undefined,
  ready: true,
  serving: true,
  ...over,
});

const node = (name: string, ip: string): ElectionNode => ({ name, ip, eligible: true });
const SELF = node("node-1", "192.0.2.11");
const VIEW: NodeView = {
  self: SELF,
  nodes: new Map(
    [SELF, node("node-2", "192.0.2.12"), { name: "node-3", ip: "192.0.2.13", eligible: false }].map((n) => [n.name, n]),
  ),
  dead: new Set(),
};

function specOf(...tweaks: ServiceTweak[]): ReturnType<typeof deriveSpec> {
  return deriveSpec(newService("web", ...tweaks), [], [newNode("node-1", "192.0.2.11")], { clusterId: "test" });
}

describe("servingEndpoints", () => {
  it("keeps the ready endpoints, and the serving ones only when none is ready (kube-proxy's terminating fallback)", () => {
    const ready = endpoint("198.51.100.1", "node-1");
    const unready = endpoint("198.51.100.2", "node-1", { ready: false, serving: false });
    const terminating = endpoint("198.51.100.3", "node-1", { ready: false, serving: true });
    expect(servingEndpoints([ready, unready, terminating])).toEqual([ready]);
    expect(servingEndpoints([unready, terminating])).toEqual([terminating]);
    expect(servingEndpoints([unready])).toEqual([]);
  });
});

describe("backendsFor", () => {
  it("nodePort Cluster: other eligible nodes' NodePorts behind :10256, the own serving pods with no probe", () => {
    const spec = specOf();
    const endpoints = [
      endpoint("198.51.100.1", "node-1"),
      endpoint("198.51.100.2", "node-1", { ready: false, serving: false }),
      endpoint("198.51.100.3", "node-2"),
    ];
    expect(backendsFor({ spec, endpoints }, spec.ports[0]!, VIEW)).toEqual([
      {
        destination: { ip: "192.0.2.12", port: 30080 },
        probe: { kind: "http", ip: "192.0.2.12", port: 10256, path: "/healthz" },
      },
      { destination: { ip: "198.51.100.1", port: 8080 }, probe: undefined },
    ]);
  });

  it("nodePort Cluster: a NodePort too new for the other kube-proxies goes to the own pods only, while there are any", () => {
    const spec = specOf();
    const port = spec.ports[0]!;
    const settled = new Set([nodePortKey(spec.id.uid, port.protocol, port.nodePort!)]);
    const withOwn = [endpoint("198.51.100.1", "node-1"), endpoint("198.51.100.3", "node-2")];
    expect(
      backendsFor({ spec, endpoints: withOwn }, port, { ...VIEW, settledNodePorts: new Set() }).map(
        (b) => b.destination,
      ),
    ).toEqual([{ ip: "198.51.100.1", port: 8080 }]);
    expect(backendsFor({ spec, endpoints: withOwn }, port, { ...VIEW, settledNodePorts: settled })).toHaveLength(2);
    // Nothing of its own: the other nodes at once, refused connections included, rather than nothing.
    const onlyRemote = [endpoint("198.51.100.3", "node-2")];
    expect(
      backendsFor({ spec, endpoints: onlyRemote }, port, { ...VIEW, settledNodePorts: new Set() }).map(
        (b) => b.destination,
      ),
    ).toEqual([{ ip: "192.0.2.12", port: 30080 }]);
  });

  it("nodePort Local: every own serving pod, by readiness only (not gated by the lagging healthCheckNodePort)", () => {
    const spec = specOf(tweakLocal(32001));
    const endpoints = [
      endpoint("198.51.100.1", "node-1"),
      endpoint("198.51.100.4", "node-1"),
      endpoint("198.51.100.3", "node-2"),
    ];
    expect(backendsFor({ spec, endpoints }, spec.ports[0]!, VIEW)).toEqual([
      { destination: { ip: "198.51.100.1", port: 8080 }, probe: undefined },
      { destination: { ip: "198.51.100.4", port: 8080 }, probe: undefined },
    ]);
  });

  it("pod mode: TCP ports carry a TCP probe, UDP ports none", () => {
    const spec = specOf(
      tweakPorts(
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080 },
        { name: "syslog", protocol: "UDP", port: 514, targetPort: 5514 },
      ),
      tweakPodMode(),
    );
    const endpoints = [endpoint("198.51.100.3", "node-2", { ports: { http: 8080, syslog: 5514 } })];
    const [tcp, udp] = spec.ports;
    expect(backendsFor({ spec, endpoints }, tcp!, VIEW)).toEqual([
      { destination: { ip: "198.51.100.3", port: 8080 }, probe: { kind: "tcp", ip: "198.51.100.3", port: 8080 } },
    ]);
    expect(backendsFor({ spec, endpoints }, udp!, VIEW)).toEqual([
      { destination: { ip: "198.51.100.3", port: 5514 }, probe: undefined },
    ]);
  });

  it("reads an endpoint's own port keys only: a port named like an Object.prototype member is not invented", () => {
    const spec = specOf(
      tweakPorts({ name: "constructor", protocol: "TCP", port: 80, targetPort: 8080 }),
      tweakPodMode(),
    );
    const endpoints = [endpoint("198.51.100.3", "node-2", { ports: {} })];
    expect(backendsFor({ spec, endpoints }, spec.ports[0]!, VIEW)).toEqual([]);
  });
});
