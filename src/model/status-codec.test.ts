import type { V1LoadBalancerStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { newService } from "../../test/fixtures/services.js";
import type { LoadBalancerStatus, PortStatus } from "../provider.js";
import { currentStatus, decodeStatus, droppedStatusFields, encodeStatus, statusEqual } from "./status-codec.js";

describe("encodeStatus", () => {
  it("keeps only the fields that are set, with no undefined members", () => {
    const api = encodeStatus({
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
    const status: LoadBalancerStatus = {
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
    };
    // In canonical form the provider's status is already the API's: encoding changes nothing.
    expect(encodeStatus(status)).toStrictEqual(status);
  });

  it("maps no ingress to an empty list", () => {
    expect(encodeStatus({ ingress: [] })).toStrictEqual({ ingress: [] });
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
    {
      what: "another port",
      other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 81, protocol: "TCP" }] }] },
    },
    {
      what: "another protocol",
      other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "UDP" }] }] },
    },
    {
      what: "a port error",
      other: {
        ingress: [{ ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP", error: "PortUnavailable" }] }],
      },
    },
    { what: "a port fewer", other: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } },
    {
      what: "another ip",
      other: { ingress: [{ ip: "192.0.2.2", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] }] },
    },
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
    const a: V1LoadBalancerStatus = {
      ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP", error: "A" }] }],
    };
    const b: V1LoadBalancerStatus = {
      ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP", error: "B" }] }],
    };
    expect(statusEqual(a, b)).toBe(false);
  });

  it("agrees with encodeStatus round trips", () => {
    const api = encodeStatus({ ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP" }] }] });
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

describe("decodeStatus", () => {
  it("keeps ip, hostname and ipMode; drops empty fields and unknown ipModes", () => {
    expect(
      decodeStatus({
        ingress: [
          { ip: "192.0.2.10", ipMode: "Proxy" },
          { hostname: "lb-1.example.com" },
          { ip: "2001:db8::10", hostname: "lb-2.example.com", ipMode: "VIP" },
          { ip: "192.0.2.11", ipMode: "Teleport" },
          { ip: "", hostname: "lb-3.example.com" },
        ],
      }),
    ).toStrictEqual({
      ingress: [
        { ip: "192.0.2.10", ipMode: "Proxy" },
        { hostname: "lb-1.example.com" },
        { ip: "2001:db8::10", hostname: "lb-2.example.com", ipMode: "VIP" },
        { ip: "192.0.2.11" },
        { hostname: "lb-3.example.com" },
      ],
    });
  });

  it("keeps the ports with their protocol and error; drops empty lists and errors and unknown protocols", () => {
    expect(
      decodeStatus({
        ingress: [
          {
            ip: "192.0.2.10",
            ports: [
              { port: 80, protocol: "TCP" },
              { port: 53, protocol: "UDP", error: "MixedProtocolNotSupported" },
              { port: 9, protocol: "ICMP" },
              { port: 5060, protocol: "SCTP", error: "" },
            ],
          },
          { ip: "192.0.2.11", ports: [] },
          { ip: "192.0.2.12", ports: [{ port: 9, protocol: "ICMP" }] },
        ],
      }),
    ).toStrictEqual({
      ingress: [
        {
          ip: "192.0.2.10",
          ports: [
            { port: 80, protocol: "TCP" },
            { port: 53, protocol: "UDP", error: "MixedProtocolNotSupported" },
            { port: 5060, protocol: "SCTP" },
          ],
        },
        { ip: "192.0.2.11" },
        { ip: "192.0.2.12" },
      ],
    });
  });

  it("reads an absent status, {} and an empty ingress list as no ingress", () => {
    for (const api of [undefined, {}, { ingress: [] }]) expect(decodeStatus(api)).toStrictEqual({ ingress: [] });
  });
});

/** Canonical statuses (what providers return): every field the Service status can carry, alone and together. */
const ROUND_TRIPS: { what: string; status: LoadBalancerStatus }[] = [
  { what: "no ingress", status: { ingress: [] } },
  { what: "an ip", status: { ingress: [{ ip: "192.0.2.1" }] } },
  { what: "a hostname", status: { ingress: [{ hostname: "lb.example.com" }] } },
  { what: "ipMode VIP", status: { ingress: [{ ip: "192.0.2.1", ipMode: "VIP" }] } },
  { what: "ipMode Proxy", status: { ingress: [{ ip: "2001:db8::1", ipMode: "Proxy" }] } },
  {
    what: "ports of every protocol",
    status: {
      ingress: [
        {
          hostname: "lb.example.com",
          ports: [80, 53, 5060].map((port, i) => ({ port, protocol: (["TCP", "UDP", "SCTP"] as const)[i] ?? "TCP" })),
        },
      ],
    },
  },
  {
    what: "a port error",
    status: {
      ingress: [
        { ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 53, protocol: "UDP", error: "MixedProtocolNotSupported" }] },
      ],
    },
  },
  {
    what: "everything, on two ingresses",
    status: {
      ingress: [
        { ip: "192.0.2.1", hostname: "a.example.com", ipMode: "Proxy", ports: [{ port: 443, protocol: "TCP" }] },
        { ip: "2001:db8::1", ipMode: "Proxy", ports: [{ port: 443, protocol: "TCP", error: "PortUnavailable" }] },
      ],
    },
  },
];

describe("encodeStatus and decodeStatus round trip", () => {
  it.each(ROUND_TRIPS)("decode(encode(x)) is x, and encode(decode(y)) is y, for $what", ({ status }) => {
    const api = encodeStatus(status);
    expect(decodeStatus(api)).toStrictEqual(status);
    expect(encodeStatus(decodeStatus(api))).toStrictEqual(api);
    expect(statusEqual(encodeStatus(decodeStatus(api)), api)).toBe(true);
  });

  it("holds for a few hundred generated statuses", () => {
    const statuses = generatedStatuses(300);
    // The generator is not degenerate: distinct statuses, and every field of ingress and ports occurs.
    expect(new Set(statuses.map((s) => JSON.stringify(s))).size).toBeGreaterThan(200);
    const ingress = statuses.flatMap((s) => s.ingress);
    const fields = new Set([
      ...ingress.flatMap((i) => Object.keys(i)),
      ...ingress.flatMap((i) => i.ports ?? []).flatMap((p) => Object.keys(p)),
    ]);
    expect([...fields].sort()).toEqual(["error", "hostname", "ip", "ipMode", "port", "ports", "protocol"]);
    for (const status of statuses) expect(decodeStatus(encodeStatus(status))).toStrictEqual(status);
  });

  it("keeps what an apiserver before 1.30 stored without ipMode visible as dropped, and nothing else", () => {
    const status: LoadBalancerStatus = {
      ingress: [{ ip: "192.0.2.1", ipMode: "Proxy", ports: [{ port: 80, protocol: "TCP" }] }],
    };
    const written = encodeStatus(status);
    const stored: V1LoadBalancerStatus = { ingress: written.ingress?.map(({ ipMode: _dropped, ...rest }) => rest) };
    expect(droppedStatusFields(written, stored)).toEqual(["ingress[].ipMode"]);
    // Proxy is not the apiserver's default: the Service no longer says what we wrote.
    expect(statusEqual(written, stored)).toBe(false);
    expect(decodeStatus(stored)).toStrictEqual({
      ingress: [{ ip: "192.0.2.1", ports: [{ port: 80, protocol: "TCP" }] }],
    });
    // What was stored round-trips as stored, so comparing with it again sees no change (no patch loop).
    expect(statusEqual(encodeStatus(decodeStatus(stored)), stored)).toBe(true);
  });
});

describe("droppedStatusFields", () => {
  const written = encodeStatus({
    ingress: [
      { ip: "192.0.2.1", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] },
      { hostname: "lb.example.com" },
    ],
  });

  it("is empty when the apiserver kept everything, in any key order", () => {
    const stored: V1LoadBalancerStatus = {
      ingress: [
        { ports: [{ protocol: "TCP", port: 80 }], ipMode: "VIP", ip: "192.0.2.1" },
        { hostname: "lb.example.com" },
      ],
    };
    expect(droppedStatusFields(written, stored)).toEqual([]);
  });

  it("names each dropped ingress field once, sorted, across ingresses", () => {
    const stored: V1LoadBalancerStatus = { ingress: [{ ip: "192.0.2.1" }] };
    expect(droppedStatusFields(written, stored)).toEqual(["ingress[].hostname", "ingress[].ipMode", "ingress[].ports"]);
  });
});

/** Deterministic statuses over every optional field (a 32-bit linear congruential generator, fixed seed, high bits). */
function generatedStatuses(count: number): LoadBalancerStatus[] {
  let seed = 12;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((seed / 4_294_967_296) * n);
  };
  const port = (): PortStatus => ({
    port: 1 + next(65_535),
    protocol: next(3) === 0 ? "UDP" : next(2) ? "TCP" : "SCTP",
    ...(next(3) === 0 ? { error: next(2) ? "PortUnavailable" : "MixedProtocolNotSupported" } : {}),
  });
  return Array.from({ length: count }, () => ({
    ingress: Array.from({ length: 1 + next(3) }, () => {
      const ports = Array.from({ length: next(4) }, port);
      return {
        ...(next(4) !== 0 ? { ip: next(2) ? `192.0.2.${next(256)}` : `2001:db8::${next(65_536).toString(16)}` } : {}),
        ...(next(3) === 0 ? { hostname: `lb-${next(100)}.example.com` } : {}),
        ...(next(3) !== 0 ? { ipMode: next(2) ? ("VIP" as const) : ("Proxy" as const) } : {}),
        ...(ports.length ? { ports } : {}),
      };
    }),
  }));
}
