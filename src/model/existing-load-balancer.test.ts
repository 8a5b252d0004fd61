import { describe, expect, it } from "vitest";
import {
  newService,
  tweakAnnotation,
  tweakClass,
  tweakFinalizer,
  tweakPorts,
  tweakType,
  type ServiceTweak,
} from "../../test/fixtures/services.js";
import type { LoadBalancerStatus } from "../provider.js";
import { existingLoadBalancer } from "./existing-load-balancer.js";
import { loadBalancerId } from "./load-balancer-id.js";
import type { ClassOptions } from "./service-predicates.js";
import { encodeStatus, statusEqual } from "./status-codec.js";

const CLUSTER = "test-cluster";
const OURS = "lb-operator.io/test";
const AS_DEFAULT: ClassOptions = { loadBalancerClass: OURS, isDefaultClass: true };
const NOT_DEFAULT: ClassOptions = { loadBalancerClass: OURS, isDefaultClass: false };

const withIngress =
  (...ingress: { ip?: string; hostname?: string; ipMode?: string }[]): ServiceTweak =>
  (svc) => {
    svc.status = { loadBalancer: { ingress } };
  };

describe("existingLoadBalancer", () => {
  it("returns the id, ports, annotations and addresses of one of ours", () => {
    const svc = newService(
      "web",
      tweakFinalizer(),
      tweakAnnotation("lb-operator.io/pool", "blue"),
      withIngress({ ip: "192.0.2.10", ipMode: "VIP" }),
    );
    expect(existingLoadBalancer(svc, CLUSTER, AS_DEFAULT)).toEqual({
      id: loadBalancerId(svc, CLUSTER),
      ports: [{ name: "http", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined }],
      annotations: { "lb-operator.io/pool": "blue" },
      externalTrafficPolicy: "Cluster",
      selector: { app: "web" },
      status: { ingress: [{ ip: "192.0.2.10", ipMode: "VIP" }] },
    });
  });

  it.each([
    { what: "without our finalizer", svc: newService("web", withIngress({ ip: "192.0.2.10" })), opts: AS_DEFAULT },
    {
      what: "with only someone else's finalizer",
      svc: newService("web", tweakFinalizer("example.com/other"), withIngress({ ip: "192.0.2.10" })),
      opts: AS_DEFAULT,
    },
    {
      what: "of another class",
      svc: newService("web", tweakFinalizer(), tweakClass("other.io/lb"), withIngress({ ip: "192.0.2.10" })),
      opts: AS_DEFAULT,
    },
    {
      what: "class-less when we are not the default",
      svc: newService("web", tweakFinalizer(), withIngress({ ip: "192.0.2.10" })),
      opts: NOT_DEFAULT,
    },
    { what: "with no ingress", svc: newService("web", tweakFinalizer()), opts: AS_DEFAULT },
    {
      what: "with no status at all",
      svc: newService("web", tweakFinalizer(), (s) => delete s.status),
      opts: AS_DEFAULT,
    },
  ])("is undefined for a Service $what", ({ svc, opts }) => {
    expect(existingLoadBalancer(svc, CLUSTER, opts)).toBeUndefined();
  });

  it("decodes the whole status the provider reported, ports included, so encoding it again is no change", () => {
    const reported: LoadBalancerStatus = {
      ingress: [
        { ip: "192.0.2.10", ipMode: "Proxy", ports: [{ port: 80, protocol: "TCP" }] },
        { ip: "2001:db8::10", ipMode: "Proxy", ports: [{ port: 80, protocol: "TCP", error: "PortUnavailable" }] },
      ],
    };
    const svc = newService("web", tweakFinalizer(), (s) => (s.status = { loadBalancer: encodeStatus(reported) }));
    const existing = existingLoadBalancer(svc, CLUSTER, AS_DEFAULT);
    expect(existing?.status).toStrictEqual(reported);
    expect(statusEqual(encodeStatus(existing?.status ?? { ingress: [] }), svc.status?.loadBalancer)).toBe(true);
  });

  it("is tolerant of ports deriveSpec would reject: no name, no protocol, no nodePort, odd protocols, duplicates", () => {
    const svc = newService(
      "web",
      tweakFinalizer(),
      withIngress({ ip: "192.0.2.10" }),
      tweakPorts(
        { port: 80 },
        { name: "dns", protocol: "UDP", port: 53, nodePort: 30053, appProtocol: "dns" },
        { name: "weird", protocol: "ICMP", port: 0 },
        { name: "dup", protocol: "UDP", port: 53 },
      ),
    );
    expect(existingLoadBalancer(svc, CLUSTER, AS_DEFAULT)?.ports).toEqual([
      { name: "", protocol: "TCP", port: 80, nodePort: undefined, appProtocol: undefined },
      { name: "dns", protocol: "UDP", port: 53, nodePort: 30053, appProtocol: "dns" },
      { name: "weird", protocol: "ICMP", port: 0, nodePort: undefined, appProtocol: undefined },
      { name: "dup", protocol: "UDP", port: 53, nodePort: undefined, appProtocol: undefined },
    ]);
  });

  it("holds on to the address of a Service with no ports or one changing type (cleanup still pending)", () => {
    const noPorts = newService("a", tweakFinalizer(), withIngress({ ip: "192.0.2.10" }), (s) => delete s.spec!.ports);
    expect(existingLoadBalancer(noPorts, CLUSTER, AS_DEFAULT)?.ports).toEqual([]);
    const leaving = newService("b", tweakFinalizer(), tweakType("ClusterIP"), withIngress({ ip: "192.0.2.11" }));
    expect(existingLoadBalancer(leaving, CLUSTER, AS_DEFAULT)?.status.ingress).toEqual([{ ip: "192.0.2.11" }]);
  });

  it("copies the annotations rather than sharing them", () => {
    const svc = newService("web", tweakFinalizer(), tweakAnnotation("k", "v"), withIngress({ ip: "192.0.2.10" }));
    const existing = existingLoadBalancer(svc, CLUSTER, AS_DEFAULT);
    svc.metadata!.annotations!.k = "changed";
    expect(existing?.annotations).toEqual({ k: "v" });
  });

  it("works for our explicit class when we are not the default", () => {
    const svc = newService("web", tweakFinalizer(), tweakClass(OURS), withIngress({ ip: "192.0.2.10" }));
    expect(existingLoadBalancer(svc, CLUSTER, NOT_DEFAULT)?.id.name).toBe("web");
  });
});
