import type { V1LoadBalancerStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { newService } from "../../test/fixtures/services.js";
import { currentStatus, statusEqual, toApiStatus } from "./status.js";

describe("toApiStatus", () => {
  it("keeps only the fields that are set, with no undefined members", () => {
    const api = toApiStatus({
      ingress: [
        { ip: "192.0.2.1" },
        { hostname: "lb.example.com", ipMode: undefined, ports: [] },
        { ip: "192.0.2.2", ipMode: "Proxy", ports: [{ port: 53, protocol: "UDP", error: undefined }] },
      ],
    });
    expect(api).toStrictEqual({
      ingress: [
        { ip: "192.0.2.1" },
        { hostname: "lb.example.com" },
        { ip: "192.0.2.2", ipMode: "Proxy", ports: [{ port: 53, protocol: "UDP" }] },
      ],
    });
    expect(api.ingress?.map((i) => Object.keys(i))).toEqual([["ip"], ["hostname"], ["ip", "ipMode", "ports"]]);
    expect(Object.keys(api.ingress?.[2]?.ports?.[0] ?? {})).toEqual(["port", "protocol"]);
  });

  it("keeps per-port errors and both ip and hostname when a provider reports both", () => {
    expect(
      toApiStatus({
        ingress: [
          {
            ip: "192.0.2.1",
            hostname: "a.example.com",
            ipMode: "VIP",
            ports: [
              { port: 80, protocol: "TCP" },
              { port: 53, protocol: "UDP", error: "MixedProtocolNotSupported" },
            ],
          },
        ],
      }),
    ).toStrictEqual({
      ingress: [
        {
          ip: "192.0.2.1",
          hostname: "a.example.com",
          ipMode: "VIP",
          ports: [
            { port: 80, protocol: "TCP" },
            { port: 53, protocol: "UDP", error: "MixedProtocolNotSupported" },
          ],
        },
      ],
    });
  });

  it("maps no ingress to an empty list", () => {
    expect(toApiStatus({ ingress: [] })).toStrictEqual({ ingress: [] });
  });
});

describe("statusEqual", () => {
  const base: V1LoadBalancerStatus = {
    ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] }],
  };

  it("treats a missing ipMode next to an ip as VIP (the apiserver default), but not as Proxy", () => {
    const noMode: V1LoadBalancerStatus = { ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP" }] }] };
    expect(statusEqual(noMode, base)).toBe(true);
    expect(statusEqual(base, noMode)).toBe(true);
    const proxy: V1LoadBalancerStatus = { ingress: [{ ...base.ingress![0]!, ipMode: "Proxy" }] };
    expect(statusEqual(noMode, proxy)).toBe(false);
    expect(statusEqual(base, proxy)).toBe(false);
  });

  it("ignores key order", () => {
    const reordered: V1LoadBalancerStatus = {
      ingress: [{ ports: [{ protocol: "TCP", port: 80 }], ipMode: "VIP", ip: "192.0.2.1" }],
    };
    expect(statusEqual(reordered, base)).toBe(true);
  });

  it("treats undefined, {}, an empty ingress list and absent vs empty ports alike", () => {
    expect(statusEqual(undefined, {})).toBe(true);
    expect(statusEqual({}, { ingress: [] })).toBe(true);
    expect(statusEqual({ ingress: [{ ip: "192.0.2.1" }] }, { ingress: [{ ip: "192.0.2.1", ports: [] }] })).toBe(true);
    expect(statusEqual(undefined, base)).toBe(false);
  });

  it.each([
    { what: "another port", other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 81, protocol: "TCP" }] }] } },
    { what: "another protocol", other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "UDP" }] }] } },
    {
      what: "a port error",
      other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP", error: "PortUnavailable" }] }] },
    },
    { what: "a port fewer", other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } },
    { what: "another ip", other: { ingress: [{ ip: "192.0.2.2", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] }] } },
    {
      what: "a hostname instead of the ip",
      other: { ingress: [{ hostname: "192.0.2.1", ports: [{ port: 80, protocol: "TCP" }] }] },
    },
    {
      what: "a second ingress",
      other: {
        ingress: [
          { ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] },
          { ip: "2001:db8::1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] },
        ],
      },
    },
  ])("detects $what", ({ other }) => {
    expect(statusEqual(base, other as V1LoadBalancerStatus)).toBe(false);
    expect(statusEqual(other as V1LoadBalancerStatus, base)).toBe(false);
  });

  it("detects an error that differs between two ports' errors", () => {
    const a: V1LoadBalancerStatus = { ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP", error: "A" }] }] };
    const b: V1LoadBalancerStatus = { ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP", error: "B" }] }] };
    expect(statusEqual(a, b)).toBe(false);
  });

  it("agrees with toApiStatus round trips", () => {
    const api = toApiStatus({ ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP" }] }] });
    expect(statusEqual(api, base)).toBe(true);
  });
});

describe("currentStatus", () => {
  it("reads status.loadBalancer, undefined when the Service has no status", () => {
    const svc = newService("web", (s) => (s.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } }));
    expect(currentStatus(svc)).toEqual({ ingress: [{ ip: "192.0.2.1" }] });
    expect(currentStatus(newService("bare", (s) => delete s.status))).toBeUndefined();
  });
});
