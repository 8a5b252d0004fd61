/**
 * The lab's network: one namespace per host plus a "switch" namespace holding a bridge, every host on the
 * bridge through a veth whose host end is `eth0`. The switch namespace also routes: the bridge has 192.0.2.1
 * (every host's default route) and a /30 veth leads to the root namespace, where the control plane listens;
 * lab traffic leaving through it is masqueraded, so the root namespace never needs a route into the lab and
 * several labs can run at once. All names start with `lbo<pid>-` so sweepStaleLabs() can remove what a dead
 * run left behind.
 */
import { type ChildProcess, execFile, spawn, type StdioOptions } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { promisify } from "node:util";
import { LbOperatorError } from "../../../src/errors.js";
import {
  CLIENTS,
  LAN_PREFIX,
  macFor,
  nodeIp,
  nodeName,
  podSubnet,
  pickUplink,
  ROUTER_IP,
  type UplinkPlan,
} from "./lab-addresses.js";
import { killNamespacePidsSync, type LiveLab, liveRootLinks, registerLab, unregisterLab } from "./lab-cleanup.js";

export { sweepStaleLabs } from "./lab-cleanup.js";

export class LabNetworkError extends LbOperatorError {}

const execFileAsync = promisify(execFile);
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface SpawnOptions {
  /** stdout and stderr are appended here; otherwise they are ignored. */
  logPath?: string;
  /** Adds an IPC channel as fd 3 (lab agents). */
  ipc?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LabHost {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly mac: string;
  readonly role: "client" | "node" | "pod";
  /** `cmd args` inside the host; rejects on a non-zero exit unless `check` is false. */
  exec(cmd: string, args: string[], options?: { check?: boolean }): Promise<ExecResult>;
  /** A process inside the host, SIGKILLed at teardown (and by the kernel if this process dies). */
  spawn(cmd: string, args: string[], options?: SpawnOptions): ChildProcess;
}

export interface LabNode extends LabHost {
  readonly role: "node";
  /** 1-based. */
  readonly index: number;
  readonly podSubnet: string;
}

export interface LabNetwork {
  readonly prefix: string;
  readonly switchNs: string;
  readonly uplink: UplinkPlan & { readonly rootLink: string };
  readonly hosts: readonly LabHost[];
  readonly clients: readonly LabHost[];
  readonly nodes: readonly LabNode[];
  host(name: string): LabHost;
  /**
   * A pod's network namespace joined to its node by a veth, wired like the ptp CNI plugin: the pod has `podIp/32`
   * on `eth0` and a default route via the node's `podGatewayIp` (which the node holds on every pod veth), and the
   * node routes `podIp/32` into the veth. `slot` names the node end `veth-p<slot>` (a `veth` name, as CNI plugins use, which the speaker skips for ARP like MetalLB) and must be unique on the node.
   */
  addPodSandbox(node: LabNode, slot: number, podIp: string, gatewayIp: string): Promise<LabHost>;
  /** Kills the sandbox's processes and deletes its namespace (the veth goes with it). Idempotent. */
  removePodSandbox(sandbox: LabHost): Promise<void>;
  /** Kills every process started in the lab, deletes the namespaces and the root link. Idempotent. */
  teardown(): Promise<void>;
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await execFileAsync("ip", args)).stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new LabNetworkError(`ip ${args.join(" ")} failed: ${stderr.trim()}`, { cause: err });
  }
}

async function execIn(ns: string, cmd: string, args: string[], check: boolean): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await execFileAsync("ip", ["netns", "exec", ns, cmd, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    const result = { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    if (check)
      throw new LabNetworkError(`${ns}: ${cmd} ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`, {
        cause: err,
      });
    return result;
  }
}

function spawnIn(
  ns: string,
  processes: Set<ChildProcess>,
  cmd: string,
  args: string[],
  options: SpawnOptions,
): ChildProcess {
  const fd = options.logPath === undefined ? undefined : openSync(options.logPath, "a");
  const out = fd ?? "ignore";
  const stdio: StdioOptions = options.ipc ? ["ignore", out, out, "ipc"] : ["ignore", out, out];
  // setpriv and `ip netns exec` both exec, so child.pid is the program's own pid; pdeathsig survives the execs.
  const argv = ["netns", "exec", ns, cmd, ...args];
  const child = setpriv
    ? spawn(setpriv, ["--pdeathsig", "KILL", "--", "ip", ...argv], { stdio, cwd: options.cwd, env: options.env })
    : spawn("ip", argv, { stdio, cwd: options.cwd, env: options.env });
  if (fd !== undefined) closeSync(fd);
  processes.add(child);
  child.once("exit", () => processes.delete(child));
  child.once("error", () => processes.delete(child));
  return child;
}

/** Root-namespace IPv4 addresses and routes, to keep the uplink /30 clear of them. */
async function rootIpv4InUse(): Promise<string[]> {
  const addrs = (await ip(["-4", "-o", "addr", "show"])).split("\n").flatMap((l) => /inet (\S+)/.exec(l)?.[1] ?? []);
  const routes = (await ip(["-4", "route", "show", "table", "all"]))
    .split("\n")
    .flatMap((l) => /^(?:\w+ )?(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)/.exec(l)?.[1] ?? []);
  return [...addrs, ...routes];
}

function labPrefix(): string {
  const taken = liveRootLinks();
  for (let n = 0; ; n++) {
    const prefix = n === 0 ? `lbo${process.pid}-` : `lbo${process.pid}x${n}-`;
    if (!taken.has(`${prefix}up`)) return prefix;
  }
}

/** `ownedDirs` are removed with the namespaces if the process exits before teardown. */
export async function createLabNetwork(options: { nodes: number; ownedDirs?: string[] }): Promise<LabNetwork> {
  const prefix = labPrefix();
  const switchNs = `${prefix}switch`;
  const rootLink = `${prefix}up`;
  const live: LiveLab = { namespaces: [switchNs], rootLink, processes: new Set(), dirs: options.ownedDirs ?? [] };
  registerLab(live);
  let tearingDown: Promise<void> | undefined;
  const teardown = (): Promise<void> => (tearingDown ??= destroy(live));

  const makeHost = (name: string, address: string): Omit<LabHost, "role"> => {
    const ns = `${prefix}${name}`;
    return {
      name,
      ns,
      ip: address,
      mac: macFor(address),
      exec: (cmd, args, opts) => execIn(ns, cmd, args, opts?.check ?? true),
      spawn: (cmd, args, opts) => spawnIn(ns, live.processes, cmd, args, opts ?? {}),
    };
  };
  const clients: LabHost[] = CLIENTS.map((c) => ({ ...makeHost(c.name, c.ip), role: "client" }));
  const nodes: LabNode[] = Array.from({ length: options.nodes }, (_, i) => ({
    ...makeHost(nodeName(i + 1), nodeIp(i + 1)),
    role: "node",
    index: i + 1,
    podSubnet: podSubnet(i + 1),
  }));
  const hosts = [...clients, ...nodes];
  live.namespaces.push(...hosts.map((h) => h.ns));

  try {
    await buildSwitch(switchNs);
    const uplink = await buildUplink(switchNs, rootLink);
    await Promise.all(hosts.map((h) => buildHost(switchNs, h)));
    await Promise.all(nodes.map((n) => buildNode(n, nodes)));
    return {
      prefix,
      switchNs,
      uplink: { ...uplink, rootLink },
      hosts,
      clients,
      nodes,
      host(name: string): LabHost {
        const found = hosts.find((h) => h.name === name);
        if (!found) throw new LabNetworkError(`no lab host ${name}; hosts: ${hosts.map((h) => h.name).join(", ")}`);
        return found;
      },
      async addPodSandbox(node, slot, podIp, gatewayIp) {
        const sandbox: LabHost = { ...makeHost(`p${node.index}-${slot}`, podIp), role: "pod" };
        live.namespaces.push(sandbox.ns);
        await buildPodSandbox(node, sandbox, `veth-p${slot}`, gatewayIp);
        return sandbox;
      },
      async removePodSandbox(sandbox) {
        killNamespacePidsSync(sandbox.ns);
        await ip(["netns", "del", sandbox.ns]).catch(() => undefined);
        const at = live.namespaces.indexOf(sandbox.ns);
        if (at >= 0) live.namespaces.splice(at, 1);
      },
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

async function sysctl(ns: string, ...settings: string[]): Promise<void> {
  await execIn(ns, "sysctl", ["-qw", ...settings], true);
}

async function buildSwitch(ns: string): Promise<void> {
  await ip(["netns", "add", ns]);
  await ip(["-n", ns, "link", "set", "lo", "up"]);
  await ip(["-n", ns, "link", "add", "br0", "type", "bridge"]);
  await ip(["-n", ns, "addr", "add", `${ROUTER_IP}/${LAN_PREFIX}`, "dev", "br0"]);
  await ip(["-n", ns, "link", "set", "br0", "up"]);
  await sysctl(ns, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
  // A switch does not run a firewall: with br_netfilter loaded (it is here) bridged frames would go through the
  // netfilter hooks and conntrack of this namespace, a cost real L2 fabrics do not have, which paths crossing
  // the bridge twice (through a VIP) would pay twice. Without the module the settings do not exist.
  for (const key of [
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.bridge.bridge-nf-call-arptables",
  ]) {
    await execIn(ns, "sysctl", ["-qw", `${key}=0`], false);
  }
}

async function buildUplink(switchNs: string, rootLink: string): Promise<UplinkPlan> {
  const plan = pickUplink(await rootIpv4InUse(), process.pid);
  await ip(["link", "add", rootLink, "type", "veth", "peer", "name", "uplink", "netns", switchNs]);
  await ip(["addr", "add", `${plan.rootIp}/${plan.prefix}`, "dev", rootLink]);
  await ip(["link", "set", rootLink, "up"]);
  await ip(["-n", switchNs, "addr", "add", `${plan.switchIp}/${plan.prefix}`, "dev", "uplink"]);
  await ip(["-n", switchNs, "link", "set", "uplink", "up"]);
  // Replies from the root namespace come back to the switch's own address, which un-NATs them into the lab.
  for (const rule of [
    ["add", "table", "ip", "lab"],
    ["add", "chain", "ip", "lab", "postrouting", "{ type nat hook postrouting priority srcnat; policy accept; }"],
    ["add", "rule", "ip", "lab", "postrouting", "oifname", "uplink", "masquerade"],
  ])
    await execIn(switchNs, "nft", rule, true);
  return plan;
}

async function buildHost(switchNs: string, host: Omit<LabHost, "role">): Promise<void> {
  const port = `v-${host.name}`;
  await ip(["netns", "add", host.ns]);
  await ip(["-n", switchNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.ns]);
  await ip(["-n", switchNs, "link", "set", port, "master", "br0", "up"]);
  await ip(["-n", host.ns, "link", "set", "lo", "up"]);
  // IPv6 off: the lab is IPv4-only and router solicitations / DAD would be noise in captures.
  await sysctl(host.ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
  await ip(["-n", host.ns, "link", "set", "eth0", "address", host.mac, "up"]);
  await ip(["-n", host.ns, "addr", "add", `${host.ip}/${LAN_PREFIX}`, "dev", "eth0"]);
  await ip(["-n", host.ns, "route", "add", "default", "via", ROUTER_IP]);
}

/** A flat network between nodes: every node routes the other nodes' pod subnets via their node IP. */
async function buildNode(node: LabNode, all: readonly LabNode[]): Promise<void> {
  await sysctl(node.ns, "net.ipv4.ip_forward=1");
  for (const other of all) {
    if (other !== node) await ip(["-n", node.ns, "route", "add", other.podSubnet, "via", other.ip, "dev", "eth0"]);
  }
}

async function buildPodSandbox(node: LabNode, pod: LabHost, veth: string, gatewayIp: string): Promise<void> {
  await ip(["netns", "add", pod.ns]);
  await ip(["-n", pod.ns, "link", "set", "lo", "up"]);
  await sysctl(pod.ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
  await ip(["-n", node.ns, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod.ns]);
  await ip(["-n", node.ns, "addr", "add", `${gatewayIp}/32`, "dev", veth]);
  await ip(["-n", node.ns, "link", "set", veth, "up"]);
  await ip(["-n", node.ns, "route", "add", `${pod.ip}/32`, "dev", veth, "src", gatewayIp]);
  await ip(["-n", pod.ns, "addr", "add", `${pod.ip}/32`, "dev", "eth0"]);
  await ip(["-n", pod.ns, "link", "set", "eth0", "up"]);
  await ip(["-n", pod.ns, "route", "add", `${gatewayIp}/32`, "dev", "eth0", "scope", "link"]);
  await ip(["-n", pod.ns, "route", "add", "default", "via", gatewayIp, "dev", "eth0"]);
}

async function destroy(lab: LiveLab): Promise<void> {
  const exits = [...lab.processes].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else {
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }
      }),
  );
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5_000).unref())]);
  // Processes tests started with plain `ip netns exec` (not through spawn) would keep a namespace alive.
  for (const ns of lab.namespaces) killNamespacePidsSync(ns);
  await ip(["link", "del", lab.rootLink]).catch(() => undefined);
  await Promise.all(lab.namespaces.map((ns) => ip(["netns", "del", ns]).catch(() => undefined)));
  unregisterLab(lab);
}
