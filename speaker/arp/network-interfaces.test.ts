import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { arpIneligibility, type LinkAttributes, listArpInterfaces, type SysfsReader } from "./network-interfaces.js";

interface FakeLink {
  flags: string;
  operstate?: string;
  address?: string;
  type?: string;
  ifindex: string;
  master?: boolean;
}

/** An in-memory /sys/class/net. */
function fakeSysfs(links: Record<string, FakeLink>): SysfsReader {
  const files = new Map<string, string>();
  for (const [name, l] of Object.entries(links)) {
    const dir = `/sys/class/net/${name}`;
    files.set(`${dir}/flags`, `${l.flags}\n`);
    files.set(`${dir}/operstate`, `${l.operstate ?? "up"}\n`);
    files.set(`${dir}/address`, `${l.address ?? "02:00:00:00:00:01"}\n`);
    files.set(`${dir}/type`, `${l.type ?? "1"}\n`);
    files.set(`${dir}/ifindex`, `${l.ifindex}\n`);
    if (l.master === true) files.set(`${dir}/master`, "");
  }
  return {
    readdir: async (path) => (path === "/sys/class/net" ? Object.keys(links) : []),
    readFile: async (path) => files.get(path),
    exists: async (path) => files.has(path),
  };
}

const v4 = (address: string): NetworkInterfaceInfo => ({
  address,
  netmask: "255.255.255.0",
  family: "IPv4",
  mac: "02:00:00:00:00:01",
  internal: false,
  cidr: `${address}/24`,
});
const v6 = (address: string): NetworkInterfaceInfo => ({
  address,
  netmask: "ffff:ffff:ffff:ffff::",
  family: "IPv6",
  mac: "02:00:00:00:00:01",
  internal: false,
  cidr: `${address}/64`,
  scopeid: 0,
});

// The flags of this machine's links: eth0 0x1003 (UP|BROADCAST|MULTICAST), lo 0x9 (UP|LOOPBACK), ifb 0x82 (down, NOARP).
const HOST: Record<string, FakeLink> = {
  lo: { flags: "0x9", operstate: "unknown", address: "00:00:00:00:00:00", type: "772", ifindex: "1" },
  eth0: { flags: "0x1003", address: "02:FC:00:00:00:01", ifindex: "4" },
  ifb0: { flags: "0x82", operstate: "down", ifindex: "2" },
  br0: { flags: "0x1003", address: "02:00:00:00:00:b0", ifindex: "7" },
  ens4: { flags: "0x1003", address: "02:00:00:00:00:e4", ifindex: "8", master: true },
  arp0: { flags: "0x1083", address: "02:00:00:00:00:a0", ifindex: "9" },
  veth12ab: { flags: "0x1003", address: "02:00:00:00:00:c1", ifindex: "10" },
  cali123: { flags: "0x1003", address: "02:00:00:00:00:c2", ifindex: "11" },
  nocarrier0: { flags: "0x1003", operstate: "lowerlayerdown", address: "02:00:00:00:00:d0", ifindex: "12" },
  ptp0: { flags: "0x1091", address: "", type: "65534", ifindex: "13" },
};

describe("listArpInterfaces", () => {
  it("keeps UP, broadcast, ARP-capable, unenslaved Ethernet links and attaches their IPv4 addresses", async () => {
    const skipped = new Map<string, string>();
    const got = await listArpInterfaces({
      sysfs: fakeSysfs(HOST),
      networkInterfaces: () => ({ eth0: [v4("192.0.2.5"), v6("2001:db8::5")], lo: [v4("127.0.0.1")] }),
      onSkip: (name, reason) => skipped.set(name, reason),
    });
    expect(got).toEqual([
      { name: "br0", ifindex: 7, mac: "02:00:00:00:00:b0", ipv4: [] },
      { name: "eth0", ifindex: 4, mac: "02:fc:00:00:00:01", ipv4: ["192.0.2.5"] },
    ]);
    expect(Object.fromEntries(skipped)).toEqual({
      lo: "excluded by name",
      ifb0: "administratively down",
      ens4: "enslaved to a bridge or bond",
      arp0: "NOARP",
      veth12ab: "excluded by name",
      cali123: "excluded by name",
      nocarrier0: "no carrier (operstate lowerlayerdown)",
      ptp0: "no broadcast",
    });
  });

  it("with an allow-list uses only the named links, even ones the default exclusions would drop", async () => {
    const got = await listArpInterfaces({
      sysfs: fakeSysfs(HOST),
      networkInterfaces: () => ({}),
      allow: ["veth12ab", "ens4", "missing0"],
    });
    expect(got.map((i) => i.name)).toEqual(["veth12ab"]);
  });

  it("skips a link that disappears halfway through the scan", async () => {
    const sysfs = fakeSysfs(HOST);
    const racing: SysfsReader = {
      ...sysfs,
      readFile: async (path) => (path.startsWith("/sys/class/net/eth0/") ? undefined : sysfs.readFile(path)),
    };
    const got = await listArpInterfaces({ sysfs: racing, networkInterfaces: () => ({}) });
    expect(got.map((i) => i.name)).toEqual(["br0"]);
  });

  it("returns nothing when sysfs is empty", async () => {
    expect(await listArpInterfaces({ sysfs: fakeSysfs({}), networkInterfaces: () => ({}) })).toEqual([]);
  });
});

describe("arpIneligibility", () => {
  const link: LinkAttributes = {
    name: "eth1",
    flags: 0x1003,
    operstate: "up",
    address: "02:00:00:00:00:01",
    type: 1,
    ifindex: 3,
    enslaved: false,
  };

  it("accepts an ordinary NIC and an operstate of unknown (drivers that do not report carrier)", () => {
    expect(arpIneligibility(link)).toBeUndefined();
    expect(arpIneligibility({ ...link, operstate: "unknown" })).toBeUndefined();
  });

  it("rejects non-Ethernet links and links without a MAC", () => {
    expect(arpIneligibility({ ...link, type: 32 })).toBe("not Ethernet (type 32)");
    expect(arpIneligibility({ ...link, address: "00:00:00:00:00:00" })).toBe("no Ethernet address");
    expect(arpIneligibility({ ...link, address: "80:00:00:48:fe:80:00:00" })).toBe("no Ethernet address");
  });

  it("applies a custom exclude list instead of the default", () => {
    expect(arpIneligibility(link, { exclude: [/^eth/] })).toBe("excluded by name");
    expect(arpIneligibility({ ...link, name: "veth0" }, { exclude: [] })).toBeUndefined();
  });
});
