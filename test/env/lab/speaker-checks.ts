/**
 * Observations tests and benchmarks make of the speakers in a lab: what the client's ARP resolves to, what each
 * node's nftables table holds, which backend answered a request.
 */
import type { LabProtocol } from "./agent-protocol.js";
import { eventually } from "../../../testing/eventually.js";
import type { Lab } from "./lab.js";

export const NFT_TABLE = "lb-operator";

/** `backend=<name> client=<ip>:<port>` -> its parts. */
export function parseBackendLine(body: string): { backend: string; clientIp: string } | undefined {
  const m = /^backend=(\S+) client=(\S+):\d+$/.exec(body.trim());
  return m ? { backend: m[1]!, clientIp: m[2]! } : undefined;
}

/** The node whose MAC the client's neighbour table holds for `vip`, after sending it a packet. */
export async function announcerSeenByClient(
  lab: Lab,
  vip: string,
  port: number,
  protocol: LabProtocol = "TCP",
): Promise<string | undefined> {
  await lab.client.agent.request(protocol, vip, port, { timeoutMs: 300 });
  const mac = await lab.client.arpLookup(vip);
  return lab.nodes.find((n) => n.mac === mac)?.name;
}

/** Our table on `node` as `nft list table` prints it, or "" when the table does not exist. */
export async function nftTable(lab: Lab, node: string): Promise<string> {
  const r = await lab.node(node).exec("nft", ["list", "table", "ip", NFT_TABLE], { check: false });
  return r.code === 0 ? r.stdout : "";
}

/** Nodes whose table forwards `vip`. */
export async function nodesForwarding(lab: Lab, vip: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of lab.nodes) if ((await nftTable(lab, n.name)).includes(`${vip} . `)) out.push(n.name);
  return out;
}

/** Whether anyone answers ARP for `ip` on the client's link (arping exits 0 on a reply). */
export async function arpAnswered(lab: Lab, ip: string): Promise<boolean> {
  const r = await lab.client.exec("arping", ["-c", "1", "-w", "1", "-i", "eth0", ip], { check: false });
  return r.code === 0;
}

/** Waits until a request from `from` through ip:port succeeds; returns the parsed backend line. */
export async function reachable(
  lab: Lab,
  ip: string,
  port: number,
  protocol: LabProtocol = "TCP",
  from: "client" | "outsider" = "client",
): Promise<{ backend: string; clientIp: string }> {
  const timeoutMs = 30_000;
  return eventually(
    `${from} to reach ${ip}:${port}/${protocol}`,
    async () => {
      const r = await lab[from].agent.request(protocol, ip, port, { timeoutMs: 500 });
      return r.ok ? parseBackendLine(r.body) : undefined;
    },
    { timeoutMs },
  );
}

/** Backends that answered `count` fresh requests (failures are counted as "-"). */
export async function backendsHit(
  lab: Lab,
  ip: string,
  port: number,
  count: number,
  protocol: LabProtocol = "TCP",
): Promise<Map<string, number>> {
  const hits = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const r = await lab.client.agent.request(protocol, ip, port, { timeoutMs: 500 });
    const key = (r.ok && parseBackendLine(r.body)?.backend) || "-";
    hits.set(key, (hits.get(key) ?? 0) + 1);
  }
  return hits;
}
