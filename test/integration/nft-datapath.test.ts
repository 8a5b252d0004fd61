/**
 * The speaker's nftables data path against the real kernel, with real TCP and UDP traffic.
 *
 * Lab (all namespaces named after this process, so parallel runs do not collide):
 *
 *   c1 192.0.2.21 (inside the source range)   c2 192.0.2.22 (outside)
 *            \                                 /
 *             bridge (own namespace) --- lb 192.0.2.10, ip_forward=1, our table (NftTable via netns runner)
 *            /          |          \
 *   b1 192.0.2.11   b2 192.0.2.12   trap 192.0.2.200
 *
 *   p1 198.51.100.2 (a pod on lb: its own namespace behind a veth, lb's end 198.51.100.1, default route via lb)
 *
 * Clients reach the VIP 192.0.2.200 through a static neighbour entry pointing at lb's MAC (ARP is the
 * responder's job). The VIP is deliberately also configured on "trap": anything lb does not DNAT but routes on
 * ends up there, so "the VIP is not routed back out" is observable (trap answers) instead of silent.
 * Backends answer every connection or datagram with "<name> <client address they saw>".
 *
 * The last block adds kube-proxy-like tables (`kp`, nat prerouting at priority dstnat, as kube-proxy's nftables
 * and iptables modes hook): on lb, `lb:30080 -> p1:8080`; on b2, `b2:30080 -> b2:8080`. As on a real node nothing
 * listens on a NodePort (kubernetes/kubernetes#108496), which is why the speaker sends the announcer's own share
 * straight to its pods (DESIGN.md "Bare metal", ../shared/reference/nat-first-binding.sh).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DataPlan, ForwardingRule } from "../../speaker/data-plan.js";
import { NftTable, netnsNftRunner } from "../../speaker/nft/index.js";

const exec = promisify(execFile);
const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const RUN = `nftdp-${process.pid}`;
/** Hosts on the bridge. */
const HOSTS = ["lb", "b1", "b2", "c1", "c2", "trap"] as const;
/** The pod on lb, outside the bridge. */
const POD = "p1";
type Host = (typeof HOSTS)[number] | typeof POD;
const VIP = "192.0.2.200";
const ADDR: Record<Host, string> = {
  lb: "192.0.2.10",
  b1: "192.0.2.11",
  b2: "192.0.2.12",
  c1: "192.0.2.21",
  c2: "192.0.2.22",
  trap: VIP,
  p1: "198.51.100.2",
};
/** lb's end of the pod's veth: the address lb masquerades to towards the pod. */
const POD_GATEWAY = "198.51.100.1";
const NODE_PORT = 30080;
const BRIDGE_NS = `${RUN}-br`;
const ns = (host: Host): string => `${RUN}-${host}`;

/** Answers each TCP connection and UDP datagram with "<name> <peer address>". Prints "ready" once bound. */
const SERVER = `
const net = require("node:net"), dgram = require("node:dgram");
const [name, tcp, udp] = process.argv.slice(1);
const ports = (s) => s.split(",").filter(Boolean).map(Number);
let pending = ports(tcp).length + ports(udp).length;
const ready = () => { if (--pending === 0) console.log("ready"); };
for (const p of ports(tcp)) {
  net.createServer((s) => { s.on("error", () => {}); s.end(name + " " + s.remoteAddress + "\\n"); }).listen(p, "0.0.0.0", ready);
}
for (const p of ports(udp)) {
  const u = dgram.createSocket("udp4");
  u.on("message", (_m, r) => u.send(name + " " + r.address + "\\n", r.port, r.address));
  u.bind(p, "0.0.0.0", ready);
}`;

/** Makes `count` sequential connections (TCP) or exchanges (UDP, a fresh socket each) and prints the results. */
const CLIENT = `
const net = require("node:net"), dgram = require("node:dgram");
const { proto, host, port, count, timeoutMs } = JSON.parse(process.argv[1]);
function tcpOnce() {
  return new Promise((resolve) => {
    let data = "";
    const s = net.connect({ host, port });
    const t = setTimeout(() => { s.destroy(); resolve({ ok: false, error: "timeout" }); }, timeoutMs);
    s.setEncoding("utf8");
    s.on("data", (d) => (data += d));
    s.on("end", () => { clearTimeout(t); resolve({ ok: true, reply: data.trim() }); });
    s.on("error", (e) => { clearTimeout(t); resolve({ ok: false, error: e.code === "ECONNREFUSED" ? "refused" : String(e.code || e.message) }); });
  });
}
function udpOnce() {
  return new Promise((resolve) => {
    const u = dgram.createSocket("udp4");
    const done = (r) => { clearTimeout(t); u.close(); resolve(r); };
    const t = setTimeout(() => done({ ok: false, error: "timeout" }), timeoutMs);
    u.on("message", (m) => done({ ok: true, reply: m.toString().trim() }));
    u.on("error", (e) => done({ ok: false, error: String(e.code || e.message) }));
    u.send("hello", port, host);
  });
}
(async () => {
  const results = [];
  for (let i = 0; i < count; i++) results.push(await (proto === "udp" ? udpOnce() : tcpOnce()));
  console.log(JSON.stringify(results));
})();`;

type Result = { ok: true; reply: string } | { ok: false; error: string };

const OK_TIMEOUT_MS = 3000;
/** Long enough for a reply on a local bridge, short enough that several expected drops stay cheap. */
const DROP_TIMEOUT_MS = 800;

async function run(cmd: string, ...args: string[]): Promise<string> {
  return (await exec(cmd, args, { timeout: 30_000 })).stdout;
}

interface Target {
  readonly host: string;
  readonly proto: "tcp" | "udp";
  readonly port: number;
}

async function talkTo(
  from: Host,
  { host, proto, port }: Target,
  count = 1,
  timeoutMs = OK_TIMEOUT_MS,
): Promise<Result[]> {
  const opts = JSON.stringify({ proto, host, port, count, timeoutMs });
  const out = await run("ip", "netns", "exec", ns(from), NODE, "-e", CLIENT, opts);
  return JSON.parse(out) as Result[];
}

function talk(from: Host, proto: "tcp" | "udp", port: number, count = 1, timeoutMs = OK_TIMEOUT_MS): Promise<Result[]> {
  return talkTo(from, { host: VIP, proto, port }, count, timeoutMs);
}

async function once(from: Host, proto: "tcp" | "udp", port: number, timeoutMs = OK_TIMEOUT_MS): Promise<Result> {
  const [result] = await talk(from, proto, port, 1, timeoutMs);
  return result!;
}

function reply(result: Result): string {
  if (!result.ok) throw new Error(`expected a reply, got ${result.error}`);
  return result.reply;
}

/** Backend names that answered, failing the test if any attempt did not get a reply. */
function answeredBy(results: Result[]): Set<string> {
  return new Set(results.map((r) => reply(r).split(" ")[0]!));
}

function rule(port: number, overrides: Partial<ForwardingRule> = {}): ForwardingRule {
  return {
    vip: VIP,
    protocol: "TCP",
    port,
    destinations: [
      { ip: ADDR.b1, port: 8080 },
      { ip: ADDR.b2, port: 8080 },
    ],
    clientIPAffinity: false,
    masquerade: true,
    sourceRanges: [],
    service: `lab/svc-${port}`,
    ...overrides,
  };
}

function labPlan(allowed: string): DataPlan {
  return {
    announced: [VIP],
    rules: [
      rule(80, { service: "lab/web" }),
      rule(80, { protocol: "UDP", service: "lab/web" }),
      rule(81, { clientIPAffinity: true, service: "lab/sticky" }),
      rule(82, { sourceRanges: [`${allowed}/32`], service: "lab/ranged" }),
      // externalTrafficPolicy: Local shape: the destination is on the announcing node, client address kept.
      rule(83, { destinations: [{ ip: ADDR.lb, port: 8080 }], masquerade: false, service: "lab/local" }),
      rule(84, { destinations: [], service: "lab/empty" }),
      // Without masquerade b1 replies to the client directly; an unconnected UDP socket accepts that reply.
      rule(85, {
        protocol: "UDP",
        destinations: [{ ip: ADDR.b1, port: 8080 }],
        masquerade: false,
        service: "lab/direct",
      }),
    ],
  };
}

/** A kube-proxy-like NodePort on `node`: only a DNAT rule in nat prerouting at priority dstnat, no socket. */
function kubeProxyTable(node: string, to: string): string {
  return [
    "add table ip kp",
    "delete table ip kp",
    "table ip kp {",
    "  chain nat-prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    `    ip daddr ${node} tcp dport ${NODE_PORT} dnat to ${to}`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The announcer lb beside kube-proxy: what the speaker used to program (86) and what it programs now (87-89). */
function besideKubeProxyPlan(): DataPlan {
  const pod = { ip: ADDR.p1, port: 8080 };
  return {
    announced: [VIP],
    rules: [
      rule(86, { destinations: [{ ip: ADDR.lb, port: NODE_PORT }], service: "lab/own-nodeport" }),
      // externalTrafficPolicy Cluster: another node's NodePort, and lb's own pod straight.
      rule(87, { destinations: [{ ip: ADDR.b2, port: NODE_PORT }, pod], service: "lab/cluster" }),
      // externalTrafficPolicy Local: lb's own pod straight, client address kept.
      rule(88, { destinations: [pod], masquerade: false, service: "lab/local" }),
      rule(88, { protocol: "UDP", destinations: [pod], masquerade: false, service: "lab/local" }),
      rule(89, {
        destinations: [{ ip: ADDR.b2, port: NODE_PORT }, pod],
        clientIPAffinity: true,
        sourceRanges: [`${ADDR.c1}/32`],
        service: "lab/cluster-sticky",
      }),
    ],
  };
}

const ORDERS = ["kube-proxy first", "ours first"] as const;
type Order = (typeof ORDERS)[number];

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("nftables data path in network namespaces", () => {
  const created: string[] = [];
  const servers: ChildProcess[] = [];
  const table = new NftTable({ logger: pino({ level: "silent" }), run: netnsNftRunner(ns("lb")) });

  async function startServer(host: Host, tcp: number[], udp: number[]): Promise<void> {
    const child = spawn("ip", ["netns", "exec", ns(host), NODE, "-e", SERVER, host, tcp.join(","), udp.join(",")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    servers.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => reject(new Error(`server on ${host} not ready: ${err}`)), 10_000);
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`server on ${host} exited with ${code}: ${err}`));
      });
    });
  }

  beforeAll(async () => {
    for (const name of [BRIDGE_NS, ...HOSTS.map(ns), ns(POD)]) {
      await run("ip", "netns", "add", name);
      created.push(name);
    }
    await run("ip", "-n", BRIDGE_NS, "link", "add", "br0", "type", "bridge");
    await run("ip", "-n", BRIDGE_NS, "link", "set", "br0", "up");
    for (const host of HOSTS) {
      await run(
        "ip",
        "-n",
        BRIDGE_NS,
        "link",
        "add",
        `v-${host}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns(host),
      );
      await run("ip", "-n", BRIDGE_NS, "link", "set", `v-${host}`, "master", "br0", "up");
      await run("ip", "-n", ns(host), "addr", "add", `${ADDR[host]}/24`, "dev", "eth0");
      await run("ip", "-n", ns(host), "link", "set", "eth0", "up");
      await run("ip", "-n", ns(host), "link", "set", "lo", "up");
    }
    await run("ip", "-n", ns("lb"), "link", "add", "pod0", "type", "veth", "peer", "name", "eth0", "netns", ns(POD));
    await run("ip", "-n", ns("lb"), "addr", "add", `${POD_GATEWAY}/30`, "dev", "pod0");
    await run("ip", "-n", ns("lb"), "link", "set", "pod0", "up");
    await run("ip", "-n", ns(POD), "addr", "add", `${ADDR.p1}/30`, "dev", "eth0");
    await run("ip", "-n", ns(POD), "link", "set", "eth0", "up");
    await run("ip", "-n", ns(POD), "link", "set", "lo", "up");
    await run("ip", "-n", ns(POD), "route", "add", "default", "via", POD_GATEWAY);
    const sysctl = (key: string): Promise<string> => run("ip", "netns", "exec", ns("lb"), "sysctl", "-qw", key);
    await sysctl("net.ipv4.ip_forward=1");
    // DNAT back out of the interface a packet came in on would otherwise make lb send ICMP redirects to clients.
    await sysctl("net.ipv4.conf.all.send_redirects=0");
    await sysctl("net.ipv4.conf.eth0.send_redirects=0");
    await sysctl("net.ipv4.conf.pod0.send_redirects=0");
    const [link] = JSON.parse(await run("ip", "-j", "-n", ns("lb"), "link", "show", "eth0")) as { address: string }[];
    for (const client of ["c1", "c2"] as const) {
      await run(
        "ip",
        "-n",
        ns(client),
        "neigh",
        "replace",
        VIP,
        "lladdr",
        link!.address,
        "dev",
        "eth0",
        "nud",
        "permanent",
      );
    }
    await Promise.all([
      startServer("b1", [8080], [8080]),
      startServer("b2", [8080], [8080]),
      startServer("lb", [8080], []),
      startServer("trap", [8080], [81]),
      startServer(POD, [8080], [8080]),
    ]);
  });

  afterAll(async () => {
    for (const child of servers) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const name of created) {
      // Anything still running inside our namespaces was started by this file; end it by pid.
      const pids = await run("ip", "netns", "pids", name).catch(() => "");
      for (const pid of pids.split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await run("ip", "netns", "del", name).catch(() => undefined);
    }
  });

  it("without our table, lb routes VIP traffic onwards (to trap): the drops below are ours", async () => {
    expect(await once("c1", "tcp", 8080)).toEqual({ ok: true, reply: `trap ${ADDR.c1}` });
    expect(await once("c1", "udp", 81)).toEqual({ ok: true, reply: `trap ${ADDR.c1}` });
  });

  it("applies a plan as one table that nft lists", async () => {
    await table.apply(labPlan(ADDR.c1));
    expect(await run("ip", "netns", "exec", ns("lb"), "nft", "list", "tables")).toContain("table ip lb-operator");
    const listing = await table.list();
    expect(listing).toContain('comment "lab/sticky TCP/81 on 192.0.2.200"');
    expect(listing).toContain("jhash ip saddr mod 2");
  });

  it("forwards TCP and UDP to the backends, masquerading as lb when masquerade is set", async () => {
    const fromLb = new RegExp(`^b[12] ${ADDR.lb}$`);
    expect(reply(await once("c1", "tcp", 80))).toMatch(fromLb);
    expect(reply(await once("c1", "udp", 80))).toMatch(fromLb);
  });

  it("spreads connections over both backends without affinity", async () => {
    expect(answeredBy(await talk("c1", "tcp", 80, 30))).toEqual(new Set(["b1", "b2"]));
    expect(answeredBy(await talk("c1", "udp", 80, 30))).toEqual(new Set(["b1", "b2"]));
  });

  it("keeps each client on one backend with clientIPAffinity", async () => {
    expect(answeredBy(await talk("c1", "tcp", 81, 30)).size).toBe(1);
    expect(answeredBy(await talk("c2", "tcp", 81, 30)).size).toBe(1);
  });

  it("drops clients outside sourceRanges, and a second apply changes the ranges in place", async () => {
    expect(await once("c1", "tcp", 82)).toMatchObject({ ok: true });
    expect(await once("c2", "tcp", 82, DROP_TIMEOUT_MS)).toEqual({ ok: false, error: "timeout" });
    const sticky = [...answeredBy(await talk("c1", "tcp", 81, 5))];

    await table.apply(labPlan(ADDR.c2));

    expect(await once("c2", "tcp", 82)).toMatchObject({ ok: true });
    expect(await once("c1", "tcp", 82, DROP_TIMEOUT_MS)).toEqual({ ok: false, error: "timeout" });
    // Nothing was restarted, and the fixed jhash seed keeps affinity across the table replacement.
    for (const server of servers) expect(server.exitCode).toBeNull();
    expect([...answeredBy(await talk("c1", "tcp", 81, 5))]).toEqual(sticky);
  });

  it("keeps the client address without masquerade, for a destination on lb itself", async () => {
    expect(await once("c1", "tcp", 83)).toEqual({ ok: true, reply: `lb ${ADDR.c1}` });
    expect(await once("c2", "tcp", 83)).toEqual({ ok: true, reply: `lb ${ADDR.c2}` });
  });

  it("keeps the client address without masquerade for a remote backend too", async () => {
    expect(await once("c1", "udp", 85)).toEqual({ ok: true, reply: `b1 ${ADDR.c1}` });
  });

  it("drops connections to a rule without destinations", async () => {
    expect(await once("c1", "tcp", 84, DROP_TIMEOUT_MS)).toEqual({ ok: false, error: "timeout" });
  });

  it("drops ports and protocols on the VIP that are not Service ports", async () => {
    expect(await once("c1", "tcp", 8080, DROP_TIMEOUT_MS)).toEqual({ ok: false, error: "timeout" });
    expect(await once("c1", "udp", 81, DROP_TIMEOUT_MS)).toEqual({ ok: false, error: "timeout" });
  });

  it("lets processes on lb itself reach the VIP's Service ports, and only those", async () => {
    expect(reply(await once("lb", "tcp", 80))).toMatch(/^b[12] /);
    // Locally generated packets never pass the forward hook; the output guard alone keeps them off trap.
    expect(await once("lb", "tcp", 8080, DROP_TIMEOUT_MS)).toMatchObject({ ok: false });
  });

  it("remove() deletes the table, idempotently, and traffic stops", async () => {
    await table.remove();
    await table.remove();
    expect(await run("ip", "netns", "exec", ns("lb"), "nft", "list", "tables")).not.toContain("lb-operator");
    expect(await table.list()).toBe("");
    const after = await once("c1", "tcp", 80, DROP_TIMEOUT_MS);
    expect(after.ok).toBe(false);
  });

  describe("beside kube-proxy-like tables: a NodePort is a DNAT rule, nothing listens on it", () => {
    const nft = { lb: netnsNftRunner(ns("lb")), b2: netnsNftRunner(ns("b2")) };
    /** (Re)loads kp on `host`: deleting and re-adding registers its chain after every other one at dstnat. */
    const loadKubeProxy = async (host: "lb" | "b2", to: string): Promise<void> => {
      await nft[host](["-f", "-"], kubeProxyTable(ADDR[host], to));
    };
    /** Equal priority: the chain registered first runs first. Both orders must give the same answers. */
    async function register(order: Order): Promise<void> {
      if (order === "kube-proxy first") await loadKubeProxy("lb", `${ADDR.p1}:8080`);
      await table.apply(besideKubeProxyPlan(), { force: true });
      if (order === "ours first") await loadKubeProxy("lb", `${ADDR.p1}:8080`);
    }

    beforeAll(async () => {
      await loadKubeProxy("b2", `${ADDR.b2}:8080`);
      await loadKubeProxy("lb", `${ADDR.p1}:8080`);
    });

    it("kube-proxy's DNAT alone answers on lb's and b2's NodePort", async () => {
      expect(await talkTo("c1", { host: ADDR.lb, proto: "tcp", port: NODE_PORT })).toEqual([
        { ok: true, reply: `p1 ${ADDR.c1}` },
      ]);
      expect(await talkTo("c1", { host: ADDR.b2, proto: "tcp", port: NODE_PORT })).toEqual([
        { ok: true, reply: `b2 ${ADDR.c1}` },
      ]);
    });

    describe.each(ORDERS)("%s", (order) => {
      it("a DNAT of ours to lb's own NodePort binds the connection, kube-proxy's rule never runs: reset", async () => {
        await register(order);
        expect(await talk("c1", "tcp", 86, 3)).toEqual([1, 2, 3].map(() => ({ ok: false, error: "refused" })));
      });

      it("Cluster: b2's NodePort and lb's own pod straight answer every connection, masqueraded", async () => {
        const results = await talk("c1", "tcp", 87, 30);
        expect(answeredBy(results)).toEqual(new Set(["b2", "p1"]));
        for (const r of results) expect([`b2 ${ADDR.lb}`, `p1 ${POD_GATEWAY}`]).toContain(reply(r));
      });

      it("Cluster with ClientIP affinity and source ranges: one destination per client, others dropped", async () => {
        expect(answeredBy(await talk("c1", "tcp", 89, 10)).size).toBe(1);
        expect(await once("c2", "tcp", 89, DROP_TIMEOUT_MS)).toEqual({ ok: false, error: "timeout" });
      });

      it("Local: lb's own pod straight keeps the client address, TCP and UDP", async () => {
        expect(await talk("c1", "tcp", 88, 5)).toEqual(
          [1, 2, 3, 4, 5].map(() => ({ ok: true, reply: `p1 ${ADDR.c1}` })),
        );
        expect(await once("c2", "udp", 88)).toEqual({ ok: true, reply: `p1 ${ADDR.c2}` });
      });
    });

    it("hairpin: the pod reaches itself through the VIP, masqueraded although its rule is not", async () => {
      expect(await once(POD, "tcp", 88)).toEqual({ ok: true, reply: `p1 ${POD_GATEWAY}` });
      expect(await once(POD, "udp", 88)).toEqual({ ok: true, reply: `p1 ${POD_GATEWAY}` });
    });

    it("hairpin: without the hairpin set the pod cannot reach itself (the set is what makes it work)", async () => {
      await run("ip", "netns", "exec", ns("lb"), "nft", "flush", "set", "ip", "lb-operator", "hairpin");
      expect(await once(POD, "tcp", 88, DROP_TIMEOUT_MS)).toMatchObject({ ok: false });
      expect(await once(POD, "udp", 88, DROP_TIMEOUT_MS)).toMatchObject({ ok: false });
      await table.apply(besideKubeProxyPlan(), { force: true });
      expect(await once(POD, "tcp", 88)).toEqual({ ok: true, reply: `p1 ${POD_GATEWAY}` });
    });
  });
});
