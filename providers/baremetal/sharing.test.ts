import { describe, expect, it } from "vitest";
import { AddressInUseError, PortCollisionError } from "./baremetal-errors.js";
import { sharingConflict, type SharingParty } from "./sharing.js";

const party = (key: string, over: Partial<SharingParty> = {}): SharingParty => ({
  key,
  sharingKey: "k",
  backendKey: undefined,
  backendKnown: true,
  ports: [{ protocol: "TCP", port: 80 }],
  ...over,
});
const ip = "192.0.2.5";

describe("sharingConflict", () => {
  it("allows the same key, same backends and disjoint ports", () => {
    expect(
      sharingConflict(ip, party("ns/a"), [party("ns/b", { ports: [{ protocol: "UDP", port: 80 }] })], 1),
    ).toBeUndefined();
    expect(sharingConflict(ip, party("ns/a"), [party("ns/a")], 1)).toBeUndefined();
  });

  it("explains each key mismatch", () => {
    const msg = (self: Partial<SharingParty>, other: Partial<SharingParty>) =>
      sharingConflict(ip, party("ns/a", { ports: [], ...self }), [party("ns/b", other)], 1)?.message;
    expect(msg({ sharingKey: undefined }, { sharingKey: undefined })).toBe(
      "address 192.0.2.5 is already used by ns/b; to share it, set lb-operator.io/allow-shared-ip to the same value on both Services",
    );
    expect(msg({ sharingKey: undefined }, {})).toContain(
      'which shares it under lb-operator.io/allow-shared-ip="k"; this Service does not set',
    );
    expect(msg({}, { sharingKey: undefined })).toContain("which does not allow sharing");
    expect(msg({ sharingKey: "x" }, {})).toBe(
      'address 192.0.2.5 is already used by ns/b under lb-operator.io/allow-shared-ip="k", not "x"',
    );
    expect(msg({ backendKey: "local:ns/a" }, {})).toContain("must have the same externalTrafficPolicy");
    expect(msg({ backendKey: "local:ns/a" }, { backendKnown: false })).toBeUndefined();
  });

  it("names colliding ports and the other Service, first other in key order", () => {
    const self = party("ns/a", {
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 80 },
        { protocol: "UDP", port: 53 },
      ],
    });
    const err = sharingConflict(
      ip,
      self,
      [
        party("ns/z"),
        party("ns/c", {
          ports: [
            { protocol: "TCP", port: 80 },
            { protocol: "TCP", port: 443 },
          ],
        }),
      ],
      7,
    );
    expect(err).toBeInstanceOf(PortCollisionError);
    expect(err).toBeInstanceOf(AddressInUseError);
    expect(err?.message).toBe(
      "ports TCP/443, TCP/80 on shared address 192.0.2.5 are already used by ns/c; shared Services need distinct ports",
    );
    expect((err as PortCollisionError).ports).toEqual(["TCP/443", "TCP/80"]);
    expect(err?.holders).toEqual(["ns/c"]);
    expect(err?.retryAfterMs).toBe(7);
  });
});

describe("sharingConflict with huge sharing keys", () => {
  it("quotes each key cut, with its length (a key restored from a Service whose annotation grew)", () => {
    const mine = "m".repeat(200_000);
    const theirs = "t".repeat(100_000);
    const message =
      sharingConflict(ip, party("ns/a", { sharingKey: mine, ports: [] }), [party("ns/b", { sharingKey: theirs })], 1)
        ?.message ?? "";
    expect(message).toContain(`="${"t".repeat(128)}…" (100000 bytes), not "${"m".repeat(128)}…" (200000 bytes)`);
    expect(message.length).toBeLessThan(500);
  });
});
