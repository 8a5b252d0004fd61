/**
 * The failure stories' instruments in the lab: the client's request loop (failure-story-probe.ts, a process in
 * the client namespace), a sampler of the client's ARP entry for the VIP, and Node patches (cordon, labels).
 * Everything started here is stopped by the caller's `stop()`, and killed at the lab's teardown anyway (the probe
 * is a lab process).
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { delay, eventually } from "../../testing/eventually.js";
import type { Lab } from "../../test/env/lab/lab.js";
import {
  type ArpSample,
  forwarderLookup,
  parseProbeLog,
  podGatewayOf,
  type ProbeSample,
} from "./failure-story-analysis.js";

const PROBE_SCRIPT = fileURLToPath(new URL("./failure-story-probe.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The story's client: a fresh connection every 10 ms, each given 200 ms. */
export const PROBE_EVERY_MS = 10;
const PROBE_TIMEOUT_MS = 200;
/** A probe that is never stopped ends by itself. */
const PROBE_MAX_MS = 120_000;

export interface Probe {
  /** SIGTERM, wait for the requests in flight, and read every sample. */
  stop(): Promise<ProbeSample[]>;
}

/** Starts the request loop in the client namespace against ip:port and waits until it runs. */
export async function startProbe(lab: Lab, ip: string, port: number, logPath: string): Promise<Probe> {
  const child = lab.client.spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      PROBE_SCRIPT,
      ip,
      String(port),
      String(PROBE_EVERY_MS),
      String(PROBE_TIMEOUT_MS),
      String(PROBE_MAX_MS),
    ],
    { logPath, cwd: REPO_ROOT },
  );
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  await eventually(`the probe against ${ip}:${port} to run (${logPath})`, () => read(logPath).includes('"ready"'), {
    timeoutMs: 30_000,
  });
  return {
    stop: async () => {
      await stopChild(child, exited);
      return parseProbeLog(read(logPath));
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export interface ArpWatch {
  stop(): Promise<ArpSample[]>;
}

/** Reads (never sends: the probe's traffic keeps it fresh) the client's neighbour entry for `vip` every `everyMs`. */
export function watchArp(lab: Lab, vip: string, everyMs = 50): ArpWatch {
  const samples: ArpSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const mac = await lab.client.arpLookup(vip).catch(() => undefined);
      samples.push({ at: Date.now(), node: lab.nodes.find((n) => n.mac === mac)?.name });
      await delay(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** Node name of the source address a pod saw (see forwarderLookup). */
export function labForwarderOf(lab: Lab): (sourceIp: string) => string {
  return forwarderLookup(
    lab.nodes.map((n) => ({ name: n.name, ip: n.ip, podGateway: podGatewayOf(n.podSubnet) })),
    lab.client.ip,
  );
}

/** A JSON merge patch on a Node: `{ spec: { unschedulable: true } }`, a label set, or removed with null. */
export async function patchNode(lab: Lab, name: string, body: object): Promise<void> {
  await lab
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .patchNode({ name, body }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
}
