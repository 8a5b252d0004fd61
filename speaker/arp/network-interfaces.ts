/**
 * Which network interfaces the speaker answers ARP on, following MetalLB's rules (MLB
 * internal/layer2/announcer.go updateInterfaces, rescanned every 10 s): the interface is UP, can broadcast,
 * is not NOARP and is not enslaved to a bridge or bond (`/sys/class/net/X/master` exists). Enslaved ports
 * are skipped because the bridge/bond itself answers; answering on the ports too would give the asker
 * several MACs (MLB design "Configuring announcing interfaces").
 *
 * Additions over MetalLB, each for a reason:
 * - an interface without carrier (operstate down/lowerlayerdown/notpresent) is skipped, so the session is
 *   reopened, with a gratuitous ARP round, when the link comes back;
 * - the link must be Ethernet (sysfs `type` 1) with a 6-byte MAC, since we build Ethernet frames.
 *
 * Interfaces are listed from sysfs, not os.networkInterfaces(), which omits links without an address
 * (MetalLB answers on those too: the VIP never lives on the interface).
 */
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { readFile, readdir, stat } from "node:fs/promises";
import { normalizeMac } from "./arp-packet.js";

/** An interface ARP is answered on. */
export interface ArpInterface {
  readonly name: string;
  /** Kernel index; changes when an interface is deleted and re-created under the same name. */
  readonly ifindex: number;
  /** Lowercase "aa:bb:cc:dd:ee:ff"; replies and gratuitous ARP carry it. */
  readonly mac: string;
  /** The interface's own IPv4 addresses (informational; none are required). */
  readonly ipv4: readonly string[];
}

/**
 * MetalLB's default `announcedInterfacesToExclude` (ConfigMap metallb-excludel2, excludel2.yaml): container,
 * CNI and tunnel devices that are never the node's LAN. A Kubernetes node has one such veth per pod.
 */
export const DEFAULT_EXCLUDED_INTERFACES: readonly RegExp[] = Object.freeze(
  [
    "^docker.*",
    "^cbr.*",
    "^dummy.*",
    "^virbr.*",
    "^lxcbr.*",
    "^veth.*",
    "^lo$",
    "^cali.*",
    "^tunl.*",
    "^flannel.*",
    "^kube-ipvs.*",
    "^cni.*",
    "^nodelocaldns.*",
  ].map((source) => new RegExp(source)),
);

export interface InterfaceFilter {
  /** Only these names. An explicit name wins over `exclude`: the admin asked for it. */
  readonly allow?: readonly string[] | undefined;
  /** Names never used unless allow-listed; default DEFAULT_EXCLUDED_INTERFACES. */
  readonly exclude?: readonly RegExp[] | undefined;
}

/** What sysfs says about one link. */
export interface LinkAttributes {
  readonly name: string;
  /** `flags` as a number (net_device flags, linux/if.h). */
  readonly flags: number;
  readonly operstate: string;
  readonly address: string;
  /** ARPHRD_* (`type`); 1 is Ethernet. */
  readonly type: number;
  readonly ifindex: number;
  readonly enslaved: boolean;
}

const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_NOARP = 0x80;
const ARPHRD_ETHER = 1;
const NO_CARRIER = new Set(["down", "lowerlayerdown", "notpresent"]);

/** Why ARP is not answered on `link`, or undefined when it is eligible. Pure. */
export function arpIneligibility(link: LinkAttributes, filter: InterfaceFilter = {}): string | undefined {
  if (filter.allow !== undefined) {
    if (!filter.allow.includes(link.name)) return "not in the interface allow-list";
  } else if ((filter.exclude ?? DEFAULT_EXCLUDED_INTERFACES).some((re) => re.test(link.name))) {
    return "excluded by name";
  }
  if ((link.flags & IFF_UP) === 0) return "administratively down";
  if (NO_CARRIER.has(link.operstate)) return `no carrier (operstate ${link.operstate})`;
  if ((link.flags & IFF_BROADCAST) === 0) return "no broadcast";
  if ((link.flags & IFF_NOARP) !== 0) return "NOARP";
  if (link.enslaved) return "enslaved to a bridge or bond";
  if (link.type !== ARPHRD_ETHER) return `not Ethernet (type ${link.type})`;
  const mac = normalizeMac(link.address);
  if (mac === undefined || mac === "00:00:00:00:00:00") return "no Ethernet address";
  return undefined;
}

/** The file system calls the scan needs; tests pass an in-memory tree. */
export interface SysfsReader {
  /** Entry names of a directory; [] when it does not exist. */
  readdir(path: string): Promise<readonly string[]>;
  /** File contents, or undefined when the file does not exist (the link vanished mid-scan). */
  readFile(path: string): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
}

export const nodeSysfsReader: SysfsReader = {
  readdir: async (path) => readdir(path).catch(() => []),
  readFile: async (path) => readFile(path, "utf8").catch(() => undefined),
  exists: async (path) =>
    stat(path).then(
      () => true,
      () => false,
    ),
};

export interface ListInterfacesOptions extends InterfaceFilter {
  readonly sysfs?: SysfsReader;
  readonly networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Called for every link that is skipped, with the reason (for debug logs). */
  readonly onSkip?: (name: string, reason: string) => void;
}

const SYS_CLASS_NET = "/sys/class/net";

/** Reads one link's attributes; undefined when it disappeared while being read. */
export async function readLinkAttributes(sysfs: SysfsReader, name: string): Promise<LinkAttributes | undefined> {
  const dir = `${SYS_CLASS_NET}/${name}`;
  const [flags, operstate, address, type, ifindex, enslaved] = await Promise.all([
    sysfs.readFile(`${dir}/flags`),
    sysfs.readFile(`${dir}/operstate`),
    sysfs.readFile(`${dir}/address`),
    sysfs.readFile(`${dir}/type`),
    sysfs.readFile(`${dir}/ifindex`),
    sysfs.exists(`${dir}/master`),
  ]);
  if (flags === undefined || operstate === undefined || address === undefined || type === undefined) return undefined;
  if (ifindex === undefined) return undefined;
  return {
    name,
    // sysfs prints flags in hex ("0x1003"); Number() parses the 0x prefix.
    flags: Number(flags.trim()),
    operstate: operstate.trim(),
    address: address.trim(),
    type: Number(type.trim()),
    ifindex: Number(ifindex.trim()),
    enslaved,
  };
}

/** The interfaces ARP should be answered on now, sorted by name. */
export async function listArpInterfaces(options: ListInterfacesOptions = {}): Promise<ArpInterface[]> {
  const sysfs = options.sysfs ?? nodeSysfsReader;
  const addresses = (options.networkInterfaces ?? osNetworkInterfaces)();
  const names = [...(await sysfs.readdir(SYS_CLASS_NET))].sort();
  const links = await Promise.all(names.map((name) => readLinkAttributes(sysfs, name)));
  const result: ArpInterface[] = [];
  for (const link of links) {
    if (link === undefined) continue;
    const reason = arpIneligibility(link, options);
    if (reason !== undefined) {
      options.onSkip?.(link.name, reason);
      continue;
    }
    const ipv4 = (addresses[link.name] ?? []).filter((a) => a.family === "IPv4").map((a) => a.address);
    result.push({ name: link.name, ifindex: link.ifindex, mac: link.address.toLowerCase(), ipv4 });
  }
  return result;
}
