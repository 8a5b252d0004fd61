import { describe, expect, it } from "vitest";
import type { SharingParty } from "./sharing.js";
import { SharingIndex } from "./sharing-index.js";

const party = (key: string, ports: number[], over: Partial<SharingParty> = {}): SharingParty => ({
  key,
  sharingKey: "k",
  backendKey: undefined,
  backendKnown: true,
  ports: ports.map((port) => ({ protocol: "TCP", port })),
  ...over,
});
const v4 = (value: number) => ({ family: "IPv4" as const, value: BigInt(value) });
const any = () => true;

describe("SharingIndex", () => {
  it("finds the lowest address of the group where none of the ports is taken", () => {
    const idx = new SharingIndex();
    idx.add(party("a", [80, 443]), v4(1));
    idx.add(party("b", [80]), v4(2));
    idx.add(party("c", [53]), v4(3));
    expect(idx.lowest(party("x", [80]), "IPv4", 0n, 10n, any)).toBe(3n);
    expect(idx.lowest(party("x", [443]), "IPv4", 0n, 10n, any)).toBe(2n);
    expect(idx.lowest(party("x", [22]), "IPv4", 0n, 10n, any)).toBe(1n);
    expect(idx.lowest(party("x", [80, 53]), "IPv4", 0n, 10n, any)).toBeUndefined();
    expect(idx.lowest(party("x", [22]), "IPv4", 2n, 2n, any)).toBe(2n);
    expect(idx.lowest(party("x", [22]), "IPv4", 0n, 10n, (v) => v > 2n)).toBe(3n);
  });

  it("separates groups by family, sharing key and backend key, and ignores non-sharers", () => {
    const idx = new SharingIndex();
    idx.add(party("a", [80]), v4(1));
    idx.add(party("n", [80], { sharingKey: undefined }), v4(5));
    expect(idx.lowest(party("x", [81], { sharingKey: "other" }), "IPv4", 0n, 10n, any)).toBeUndefined();
    expect(idx.lowest(party("x", [81], { backendKey: "local:x" }), "IPv4", 0n, 10n, any)).toBeUndefined();
    expect(idx.lowest(party("x", [81]), "IPv6", 0n, 10n, any)).toBeUndefined();
    expect(idx.lowest(party("x", [81], { sharingKey: undefined }), "IPv4", 0n, 10n, any)).toBeUndefined();
  });

  it("counts references, so one of two users leaving keeps the address and its ports", () => {
    const idx = new SharingIndex();
    idx.add(party("a", [80]), v4(1));
    idx.add(party("b", [80]), v4(1));
    idx.remove(party("a", [80]), v4(1));
    expect(idx.lowest(party("x", [80]), "IPv4", 0n, 10n, any)).toBeUndefined();
    idx.remove(party("b", [80]), v4(1));
    expect(idx.lowest(party("x", [81]), "IPv4", 0n, 10n, any)).toBeUndefined();
  });
});
