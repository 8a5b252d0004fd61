import { describe, expect, it } from "vitest";
import {
  ARP_FRAME_LENGTH,
  ARP_REPLY,
  ARP_REQUEST,
  buildArpFrame,
  buildArpReply,
  buildGratuitousArp,
  isIPv4,
  normalizeMac,
  parseArpFrame,
} from "./arp-packet.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// A request and the Linux kernel's answer to it, as captured by tcpdump (node_modules/cap/README.md):
// "Request who-has 192.168.1.200 tell 192.168.1.199" (padded to 60 bytes) and
// "Reply 192.168.1.200 is-at 74:ea:3a:a3:e6:69".
const KERNEL_REQUEST = hex(
  "ffffffffffff 848f69b73d92 0806 0001 0800 0604 0001 848f69b73d92 c0a801c7 000000000000 c0a801c8" +
    "000000000000000000000000000000000000",
);
const KERNEL_REPLY = hex(
  "848f69b73d92 74ea3aa3e669 0806 0001 0800 0604 0002 74ea3aa3e669 c0a801c8 848f69b73d92 c0a801c7",
);

describe("parseArpFrame", () => {
  it("decodes a padded request captured from the wire", () => {
    expect(parseArpFrame(KERNEL_REQUEST)).toEqual({
      ethernetDestination: "ff:ff:ff:ff:ff:ff",
      ethernetSource: "84:8f:69:b7:3d:92",
      operation: ARP_REQUEST,
      senderMac: "84:8f:69:b7:3d:92",
      senderIp: "192.168.1.199",
      targetMac: "00:00:00:00:00:00",
      targetIp: "192.168.1.200",
    });
  });

  it("decodes a frame that sits inside a larger buffer at an offset", () => {
    const big = Buffer.alloc(100);
    KERNEL_REPLY.copy(big, 7);
    expect(parseArpFrame(big.subarray(7, 7 + ARP_FRAME_LENGTH))?.senderMac).toBe("74:ea:3a:a3:e6:69");
  });

  it.each([
    ["truncated", KERNEL_REQUEST.subarray(0, 41)],
    ["empty", Buffer.alloc(0)],
    ["IPv4 EtherType", patch(KERNEL_REQUEST, 12, [0x08, 0x00])],
    ["non-Ethernet hardware type", patch(KERNEL_REQUEST, 14, [0x00, 0x06])],
    ["non-IPv4 protocol type", patch(KERNEL_REQUEST, 16, [0x86, 0xdd])],
    ["hardware length 8", patch(KERNEL_REQUEST, 18, [8])],
    ["protocol length 16", patch(KERNEL_REQUEST, 19, [16])],
    ["RARP opcode 3", patch(KERNEL_REQUEST, 20, [0x00, 0x03])],
    ["opcode 0", patch(KERNEL_REQUEST, 20, [0x00, 0x00])],
  ])("returns undefined for %s", (_name, frame) => {
    expect(parseArpFrame(frame)).toBeUndefined();
  });
});

describe("buildArpReply", () => {
  it("produces byte for byte what the kernel answered", () => {
    const request = parseArpFrame(KERNEL_REQUEST)!;
    const reply = buildArpReply(request, "74:ea:3a:a3:e6:69");
    expect(reply.length).toBe(42);
    expect(reply.toString("hex")).toBe(KERNEL_REPLY.toString("hex"));
  });

  it("addresses the asker and names us as the sender of the VIP", () => {
    const request = parseArpFrame(
      buildArpFrame({
        ethernetDestination: "ff:ff:ff:ff:ff:ff",
        ethernetSource: "02:00:00:00:00:aa",
        operation: ARP_REQUEST,
        senderMac: "02:00:00:00:00:aa",
        senderIp: "192.0.2.10",
        targetMac: "00:00:00:00:00:00",
        targetIp: "192.0.2.100",
      }),
    )!;
    expect(parseArpFrame(buildArpReply(request, "02:00:00:00:00:bb"))).toEqual({
      ethernetDestination: "02:00:00:00:00:aa",
      ethernetSource: "02:00:00:00:00:bb",
      operation: ARP_REPLY,
      senderMac: "02:00:00:00:00:bb",
      senderIp: "192.0.2.100",
      targetMac: "02:00:00:00:00:aa",
      targetIp: "192.0.2.10",
    });
  });
});

describe("buildGratuitousArp", () => {
  it("builds a broadcast request and reply with sender = target = the VIP", () => {
    const [request, reply] = buildGratuitousArp("02:00:00:00:00:bb", "198.51.100.7");
    const common = {
      ethernetDestination: "ff:ff:ff:ff:ff:ff",
      ethernetSource: "02:00:00:00:00:bb",
      senderMac: "02:00:00:00:00:bb",
      senderIp: "198.51.100.7",
      targetMac: "ff:ff:ff:ff:ff:ff",
      targetIp: "198.51.100.7",
    };
    expect(request.length).toBe(42);
    expect(reply.length).toBe(42);
    expect(parseArpFrame(request)).toEqual({ ...common, operation: ARP_REQUEST });
    expect(parseArpFrame(reply)).toEqual({ ...common, operation: ARP_REPLY });
  });

  it("rejects malformed addresses instead of writing garbage", () => {
    expect(() => buildGratuitousArp("02:00:00:00:00", "192.0.2.1")).toThrow(RangeError);
    expect(() => buildGratuitousArp("02:00:00:00:00:bb", "192.0.2.256")).toThrow(RangeError);
    expect(() => buildGratuitousArp("02:00:00:00:00:bb", "2001:db8::1")).toThrow(RangeError);
  });
});

describe("address helpers", () => {
  it("normalizes MACs to lowercase and rejects other shapes", () => {
    expect(normalizeMac("AA:BB:CC:DD:EE:0F")).toBe("aa:bb:cc:dd:ee:0f");
    expect(normalizeMac("aa-bb-cc-dd-ee-ff")).toBeUndefined();
    expect(normalizeMac("aa:bb:cc:dd:ee:ff:00")).toBeUndefined();
  });

  it("accepts dotted quads only", () => {
    expect(isIPv4("192.0.2.1")).toBe(true);
    expect(isIPv4("255.255.255.255")).toBe(true);
    for (const bad of ["192.0.2", "192.0.2.01", "192.0.2.300", "::1", "192.0.2.1 ", ""]) {
      expect(isIPv4(bad), bad).toBe(false);
    }
  });
});

function patch(frame: Buffer, offset: number, bytes: number[]): Buffer {
  const copy = Buffer.from(frame);
  bytes.forEach((b, i) => (copy[offset + i] = b));
  return copy;
}
