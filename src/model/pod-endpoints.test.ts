import type { V1EndpointSlice } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  newEndpointSlice,
  newService,
  tweakNamespace,
  tweakPodMode,
  tweakPorts,
} from "../../test/fixtures/services.js";
import type { IPFamily, PortSpec } from "../provider.js";
import { deepFreeze } from "./freeze.js";
import { derivePodEndpoints } from "./pod-endpoints.js";
import { derivePorts } from "./ports.js";

const svc = deepFreeze(
  newService(
    "web",
    tweakPorts({ name: "http", port: 80, targetPort: "http" }, { name: "metrics", port: 9090, targetPort: 9090 }),
    tweakPodMode(),
  ),
);
const ports: readonly PortSpec[] = derivePorts(svc, true);
const V4: IPFamily[] = ["IPv4"];
const HTTP = { name: "http", port: 8080 };
const METRICS = { name: "metrics", port: 9090 };

function derive(slices: V1EndpointSlice[], families: IPFamily[] = V4) {
  return derivePodEndpoints(svc, ports, deepFreeze(slices), families);
}

function v6(slice: V1EndpointSlice): V1EndpointSlice {
  slice.addressType = "IPv6";
  return slice;
}

describe("derivePodEndpoints", () => {
  it("resolves named target ports per slice: two slices may carry different numbers", () => {
    const got = derive([
      newEndpointSlice("web", "web-new", [{ name: "http", port: 8081 }, METRICS], [{ ip: "10.0.0.2", nodeName: "n2" }]),
      newEndpointSlice("web", "web-old", [{ name: "http", port: 8080 }, METRICS], [{ ip: "10.0.0.1", nodeName: "n1" }]),
    ]);
    expect(got).toEqual([
      {
        ip: "10.0.0.1",
        ports: { http: 8080, metrics: 9090 },
        nodeName: "n1",
        zone: undefined,
        ready: true,
        serving: true,
      },
      {
        ip: "10.0.0.2",
        ports: { http: 8081, metrics: 9090 },
        nodeName: "n2",
        zone: undefined,
        ready: true,
        serving: true,
      },
    ]);
  });

  it("ignores other Services' slices, other namespaces, FQDN slices and families the Service lacks", () => {
    const fqdn = newEndpointSlice("web", "web-fqdn", [HTTP], [{ ip: "10.0.0.5" }]);
    fqdn.addressType = "FQDN";
    const got = derive([
      newEndpointSlice("web", "web-a", [HTTP], [{ ip: "10.0.0.1" }]),
      newEndpointSlice("api", "api-a", [HTTP], [{ ip: "10.0.0.2" }]),
      newEndpointSlice("web", "web-b", [HTTP], [{ ip: "10.0.0.3" }], "prod"),
      v6(newEndpointSlice("web", "web-v6", [HTTP], [{ ip: "fd00::1" }])),
      fqdn,
    ]);
    expect(got.map((e) => e.ip)).toEqual(["10.0.0.1"]);
  });

  it("uses the Service's own namespace", () => {
    const prod = deepFreeze(newService("web", tweakNamespace("prod"), tweakPodMode()));
    const got = derivePodEndpoints(
      prod,
      derivePorts(prod, true),
      [
        newEndpointSlice("web", "web-a", [HTTP], [{ ip: "10.0.0.1" }]),
        newEndpointSlice("web", "web-b", [HTTP], [{ ip: "10.0.0.3" }], "prod"),
      ],
      V4,
    );
    expect(got.map((e) => e.ip)).toEqual(["10.0.0.3"]);
  });

  it("includes both families for a dual-stack Service, IPv4 first, IPv6 canonical", () => {
    const got = derive(
      [
        v6(newEndpointSlice("web", "web-v6", [HTTP], [{ ip: "FD00:0::1" }])),
        newEndpointSlice("web", "web-v4", [HTTP], [{ ip: "10.0.0.1" }]),
      ],
      ["IPv6", "IPv4"],
    );
    expect(got.map((e) => e.ip)).toEqual(["10.0.0.1", "fd00::1"]);
  });

  it("sorts by IP numerically", () => {
    const got = derive([
      newEndpointSlice("web", "s", [HTTP], [{ ip: "10.0.0.10" }, { ip: "10.0.0.9" }, { ip: "9.0.0.1" }]),
    ]);
    expect(got.map((e) => e.ip)).toEqual(["9.0.0.1", "10.0.0.9", "10.0.0.10"]);
  });

  it("keeps only ready endpoints when some are ready", () => {
    const got = derive([
      newEndpointSlice(
        "web",
        "s",
        [HTTP],
        [
          { ip: "10.0.0.1" },
          { ip: "10.0.0.2", ready: false, serving: false },
          { ip: "10.0.0.3", ready: false, serving: true, terminating: true },
        ],
      ),
    ]);
    expect(got.map((e) => e.ip)).toEqual(["10.0.0.1"]);
  });

  it("falls back to serving terminating endpoints when none are ready (kube-proxy)", () => {
    const got = derive([
      newEndpointSlice(
        "web",
        "s",
        [HTTP],
        [
          { ip: "10.0.0.1", ready: false, serving: false, terminating: true },
          { ip: "10.0.0.2", ready: false, serving: true, terminating: true },
          { ip: "10.0.0.3", ready: false, serving: false },
        ],
      ),
    ]);
    expect(got).toEqual([
      { ip: "10.0.0.2", ports: { http: 8080 }, nodeName: undefined, zone: undefined, ready: false, serving: true },
    ]);
  });

  it("returns nothing when nothing is ready or serving, or there are no slices", () => {
    expect(derive([newEndpointSlice("web", "s", [HTTP], [{ ip: "10.0.0.1", ready: false, serving: false }])])).toEqual(
      [],
    );
    expect(derive([])).toEqual([]);
  });

  it("treats unset conditions as ready and serving", () => {
    const slice = newEndpointSlice("web", "s", [HTTP], [{ ip: "10.0.0.1" }]);
    delete slice.endpoints![0]!.conditions;
    expect(derive([slice])).toMatchObject([{ ip: "10.0.0.1", ready: true, serving: true }]);
  });

  it("deduplicates an IP seen in two slices: first slice by name wins ports, flags are OR-ed", () => {
    const a = newEndpointSlice(
      "web",
      "a",
      [{ name: "http", port: 8080 }],
      [{ ip: "10.0.0.1", ready: false, serving: false, nodeName: "n1" }],
    );
    const b = newEndpointSlice(
      "web",
      "b",
      [{ name: "http", port: 9999 }, METRICS],
      [{ ip: "10.0.0.1", nodeName: "n9" }],
    );
    const want = [
      {
        ip: "10.0.0.1",
        ports: { http: 8080, metrics: 9090 },
        nodeName: "n1",
        zone: undefined,
        ready: true,
        serving: true,
      },
    ];
    expect(derive([a, b])).toEqual(want);
    expect(derive([b, a])).toEqual(want);
  });

  it("an endpoint lacking a port lacks that key; lacking all, it is dropped", () => {
    const got = derive([
      newEndpointSlice("web", "only-metrics", [METRICS], [{ ip: "10.0.0.1" }]),
      newEndpointSlice("web", "none", [{ name: "other", port: 1 }], [{ ip: "10.0.0.2" }]),
    ]);
    expect(got).toEqual([
      { ip: "10.0.0.1", ports: { metrics: 9090 }, nodeName: undefined, zone: undefined, ready: true, serving: true },
    ]);
  });

  it("matches slice ports by protocol as well as name, and ignores a port without a number", () => {
    const slice = newEndpointSlice(
      "web",
      "s",
      [
        { name: "http", port: 8080, protocol: "UDP" },
        { name: "metrics", port: 0 },
      ],
      [{ ip: "10.0.0.1" }],
    );
    expect(derive([slice])).toEqual([]);
  });

  it("uses only the first address and skips unparsable or wrong-family ones", () => {
    const slice = newEndpointSlice("web", "s", [HTTP], [{ ip: "10.0.0.1" }, { ip: "not-an-ip" }, { ip: "fd00::1" }]);
    slice.endpoints![0]!.addresses = ["10.0.0.1", "10.0.0.99"];
    expect(derive([slice]).map((e) => e.ip)).toEqual(["10.0.0.1"]);
  });

  it("copies zone and nodeName", () => {
    const slice = newEndpointSlice("web", "s", [HTTP], [{ ip: "10.0.0.1", nodeName: "n1" }]);
    slice.endpoints![0]!.zone = "zone-a";
    expect(derive([slice])).toMatchObject([{ nodeName: "n1", zone: "zone-a" }]);
  });

  it("does not depend on slice order", () => {
    const slices = [
      newEndpointSlice("web", "a", [HTTP], [{ ip: "10.0.0.3" }, { ip: "10.0.0.1" }]),
      newEndpointSlice("web", "b", [{ name: "http", port: 8081 }], [{ ip: "10.0.0.2" }, { ip: "10.0.0.1" }]),
      newEndpointSlice("web", "c", [METRICS], [{ ip: "10.0.0.4", ready: false }]),
    ];
    expect(derive([...slices].reverse())).toEqual(derive(slices));
  });

  it("handles port names that collide with Object.prototype", () => {
    const odd = deepFreeze(newService("web", tweakPorts({ name: "constructor", port: 80 }), tweakPodMode()));
    const slice = newEndpointSlice("web", "s", [{ name: "constructor", port: 8080 }], [{ ip: "10.0.0.1" }]);
    expect(derivePodEndpoints(odd, derivePorts(odd, true), [slice], V4)[0]?.ports).toEqual({ constructor: 8080 });
  });
});
