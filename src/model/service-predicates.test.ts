import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  newService,
  tweakAnnotation,
  tweakClass,
  tweakDeleting,
  tweakFinalizer,
  tweakLocal,
  tweakPodMode,
  tweakPorts,
  tweakSourceRanges,
  tweakType,
} from "../../test/fixtures/services.js";
import type { ServiceTweak } from "../../test/fixtures/services.js";
import { deepFreeze } from "./freeze.js";
import {
  hasFinalizer,
  isOurs,
  isPodMode,
  needsCleanup,
  needsUpdate,
  usesEndpoints,
  wantsLoadBalancer,
} from "./service-predicates.js";
import type { ClassOptions } from "./service-predicates.js";

const OURS = "lb-operator.io/lb";
const asDefault: ClassOptions = { loadBalancerClass: OURS, isDefaultClass: true };
const notDefault: ClassOptions = { loadBalancerClass: OURS, isDefaultClass: false };

function svc(...tweaks: ServiceTweak[]): V1Service {
  return deepFreeze(newService("web", ...tweaks));
}

describe("isOurs / wantsLoadBalancer", () => {
  it.each([
    { name: "no class, we are default", s: svc(), opts: asDefault, ours: true, wants: true },
    { name: "no class, not default", s: svc(), opts: notDefault, ours: false, wants: false },
    { name: "our class", s: svc(tweakClass(OURS)), opts: notDefault, ours: true, wants: true },
    {
      name: "another class, even as default",
      s: svc(tweakClass("other.io/lb")),
      opts: asDefault,
      ours: false,
      wants: false,
    },
    { name: "ClusterIP", s: svc(tweakType("ClusterIP")), opts: asDefault, ours: true, wants: false },
    { name: "NodePort", s: svc(tweakType("NodePort")), opts: asDefault, ours: true, wants: false },
    { name: "being deleted", s: svc(tweakDeleting()), opts: asDefault, ours: true, wants: false },
  ])("$name", ({ s, opts, ours, wants }) => {
    expect(isOurs(s, opts)).toBe(ours);
    expect(wantsLoadBalancer(s, opts)).toBe(wants);
  });
});

describe("hasFinalizer / needsCleanup", () => {
  it.each([
    { name: "no finalizer", s: svc(tweakDeleting()), opts: asDefault, has: false, cleanup: false },
    { name: "finalizer, still wanted", s: svc(tweakFinalizer()), opts: asDefault, has: true, cleanup: false },
    {
      name: "finalizer + deleting",
      s: svc(tweakFinalizer(), tweakDeleting()),
      opts: asDefault,
      has: true,
      cleanup: true,
    },
    {
      name: "finalizer + type ClusterIP",
      s: svc(tweakFinalizer(), tweakType("ClusterIP")),
      opts: asDefault,
      has: true,
      cleanup: true,
    },
    { name: "finalizer + no longer default", s: svc(tweakFinalizer()), opts: notDefault, has: true, cleanup: true },
    {
      name: "finalizer + other class",
      s: svc(tweakFinalizer(), tweakClass("x.io/y")),
      opts: asDefault,
      has: true,
      cleanup: true,
    },
    {
      name: "someone else's finalizer",
      s: svc(tweakFinalizer("example.com/other"), tweakDeleting()),
      opts: asDefault,
      has: false,
      cleanup: false,
    },
  ])("$name", ({ s, opts, has, cleanup }) => {
    expect(hasFinalizer(s)).toBe(has);
    expect(needsCleanup(s, opts)).toBe(cleanup);
  });
});

describe("isPodMode / usesEndpoints", () => {
  it.each([
    { name: "default", s: svc(), pod: false, endpoints: false },
    {
      name: "allocateLoadBalancerNodePorts=true",
      s: svc((x) => void (x.spec!.allocateLoadBalancerNodePorts = true)),
      pod: false,
      endpoints: false,
    },
    { name: "pod mode", s: svc(tweakPodMode()), pod: true, endpoints: true },
    { name: "Local", s: svc(tweakLocal()), pod: false, endpoints: true },
  ])("$name", ({ s, pod, endpoints }) => {
    expect(isPodMode(s)).toBe(pod);
    expect(usesEndpoints(s)).toBe(endpoints);
  });
});

describe("needsUpdate", () => {
  const base = svc();
  it.each<{ name: string; tweak: ServiceTweak; want: boolean }>([
    { name: "nothing changed", tweak: () => undefined, want: false },
    {
      name: "resourceVersion/status only",
      tweak: (s) => (
        (s.metadata!.resourceVersion = "9"),
        (s.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } })
      ),
      want: false,
    },
    { name: "labels only", tweak: (s) => void (s.metadata!.labels = { a: "b" }), want: false },
    { name: "selector only", tweak: (s) => void (s.spec!.selector = { app: "other" }), want: false },
    { name: "type LoadBalancer -> ClusterIP", tweak: tweakType("ClusterIP"), want: true },
    { name: "source ranges", tweak: tweakSourceRanges("192.0.2.0/24"), want: true },
    { name: "port name", tweak: (s) => void (s.spec!.ports![0]!.name = "web"), want: true },
    { name: "port protocol", tweak: (s) => void (s.spec!.ports![0]!.protocol = "UDP"), want: true },
    { name: "port number", tweak: (s) => void (s.spec!.ports![0]!.port = 81), want: true },
    { name: "nodePort", tweak: (s) => void (s.spec!.ports![0]!.nodePort = 30081), want: true },
    { name: "targetPort", tweak: (s) => void (s.spec!.ports![0]!.targetPort = "http"), want: true },
    { name: "appProtocol", tweak: (s) => void (s.spec!.ports![0]!.appProtocol = "kubernetes.io/h2c"), want: true },
    {
      name: "port count",
      tweak: tweakPorts({ name: "http", port: 80, nodePort: 30080 }, { name: "https", port: 443, nodePort: 30443 }),
      want: true,
    },
    { name: "sessionAffinity", tweak: (s) => void (s.spec!.sessionAffinity = "ClientIP"), want: true },
    {
      name: "sessionAffinityConfig",
      tweak: (s) => void (s.spec!.sessionAffinityConfig = { clientIP: { timeoutSeconds: 60 } }),
      want: true,
    },
    { name: "loadBalancerIP", tweak: (s) => void (s.spec!.loadBalancerIP = "192.0.2.10"), want: true },
    { name: "externalIPs", tweak: (s) => void (s.spec!.externalIPs = ["192.0.2.20"]), want: true },
    { name: "an annotation added", tweak: tweakAnnotation("example.com/x", "1"), want: true },
    { name: "UID (re-created)", tweak: (s) => void (s.metadata!.uid = "uid-web-2"), want: true },
    { name: "externalTrafficPolicy", tweak: tweakLocal(), want: true },
    { name: "healthCheckNodePort", tweak: (s) => void (s.spec!.healthCheckNodePort = 32001), want: true },
    { name: "number of ipFamilies", tweak: (s) => void (s.spec!.ipFamilies = ["IPv4", "IPv6"]), want: true },
    { name: "allocateLoadBalancerNodePorts (ours)", tweak: tweakPodMode(), want: true },
    { name: "loadBalancerClass (ours)", tweak: tweakClass(OURS), want: true },
    { name: "deletionTimestamp appears (ours)", tweak: tweakDeleting(), want: true },
  ])("$name -> $want", ({ tweak, want }) => {
    const changed = deepFreeze(newService("web", tweak));
    expect(needsUpdate(base, changed, asDefault)).toBe(want);
  });

  it("annotation value change and removal count", () => {
    const a = svc(tweakAnnotation("k", "1"));
    expect(needsUpdate(a, svc(tweakAnnotation("k", "2")), asDefault)).toBe(true);
    expect(needsUpdate(a, svc(), asDefault)).toBe(true);
    expect(needsUpdate(svc(tweakAnnotation("k", "1")), a, asDefault)).toBe(false);
  });

  it("missing and empty lists compare equal (apiserver round trips)", () => {
    const withEmpty = svc((s) => ((s.spec!.externalIPs = []), (s.spec!.loadBalancerSourceRanges = [])));
    expect(needsUpdate(base, withEmpty, asDefault)).toBe(false);
  });

  it("is false when neither version wants a load balancer (upstream short-circuit)", () => {
    const a = svc(tweakType("ClusterIP"));
    const b = svc(tweakType("ClusterIP"), tweakAnnotation("k", "v"));
    expect(needsUpdate(a, b, asDefault)).toBe(false);
    expect(needsUpdate(svc(), svc(tweakAnnotation("k", "v")), notDefault)).toBe(false);
  });

  it("is true when a Service becomes ours or stops being ours", () => {
    expect(needsUpdate(svc(tweakType("ClusterIP")), svc(tweakClass(OURS)), notDefault)).toBe(true);
    expect(needsUpdate(svc(tweakClass(OURS)), svc(tweakType("ClusterIP")), notDefault)).toBe(true);
  });
});
