import { describe, expect, it } from "vitest";
import { cidrsOverlap, macFor, nodeIp, pickUplink, podIp, podSubnet } from "./lab-addresses.js";
import { labPid } from "./lab-cleanup.js";

describe("lab addresses", () => {
  it("places nodes and pod subnets on the documented plan", () => {
    expect([nodeIp(1), nodeIp(3)]).toEqual(["192.0.2.11", "192.0.2.13"]);
    expect([podSubnet(1), podSubnet(2)]).toEqual(["198.51.100.16/28", "198.51.100.32/28"]);
    expect([podIp(1, 1), podIp(2, 14)]).toEqual(["198.51.100.17", "198.51.100.46"]);
    expect(() => podIp(1, 15)).toThrow(/slot/);
    expect(() => nodeIp(16)).toThrow(/node index/);
    expect(macFor("192.0.2.11")).toBe("02:00:c0:00:02:0b");
  });

  it("detects overlapping CIDRs", () => {
    expect(cidrsOverlap("203.0.113.0/24", "203.0.113.4/30")).toBe(true);
    expect(cidrsOverlap("203.0.113.5", "203.0.113.4/30")).toBe(true);
    expect(cidrsOverlap("203.0.113.8/30", "203.0.113.4/30")).toBe(false);
    expect(cidrsOverlap("0.0.0.0/0", "203.0.113.4/30")).toBe(true);
  });

  it("picks an uplink /30 clear of the root namespace's addresses and routes", () => {
    expect(pickUplink([], 1)).toEqual({ rootIp: "203.0.113.5", switchIp: "203.0.113.6", prefix: 30 });
    expect(pickUplink(["203.0.113.6/30", "203.0.113.9"], 1)).toEqual({
      rootIp: "203.0.113.13",
      switchIp: "203.0.113.14",
      prefix: 30,
    });
    expect(pickUplink(["192.0.2.2/24"], 64 * 7 + 63).rootIp).toBe("203.0.113.253");
    expect(() => pickUplink(["203.0.113.0/24"], 0)).toThrow(/overlaps/);
  });

  it("reads the pid from lab names only", () => {
    expect(labPid("lbo1234-node-1")).toBe(1234);
    expect(labPid("lbo1234x2-up")).toBe(1234);
    expect(labPid("lbox-up")).toBeUndefined();
    expect(labPid("eth0")).toBeUndefined();
  });
});
