/**
 * The image built from ./Dockerfile (scripts/build-image.sh, podman), run as the Helm chart runs it: the controller
 * and the speaker each with exactly the chart's securityContext (rendered with helm, mapped to podman flags,
 * then checked in the kernel's view of the container's process), the controller against a real apiserver, the
 * speakers in the network lab's node namespaces answering ARP and forwarding through a VIP. Every container is
 * removed at the end, on failure too (and at exit, and by the next run if this one was killed).
 */
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, freePort, startControlPlane } from "../env/control-plane.js";
import type { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../../testing/eventually.js";
import { removeDir, trackDir } from "../env/managed-process.js";
import {
  Container,
  imageSize,
  imageUid,
  removeAll,
  resolveImage,
  runToCompletion,
  sweepStaleContainers,
} from "../env/image/podman.js";
import {
  type ChartContainer,
  type ChartSecurity,
  type EffectiveSecurity,
  chartSecurity,
  describeSecurity,
  effectiveSecurity,
  podmanSecurityFlags,
  processSecurity,
  securityMismatches,
} from "../env/image/security-context.js";
import { type Lab, SPEAKER_METRICS_PORT, startLab } from "../env/lab/lab.js";
import { startLabController, waitForAddress } from "../env/lab/lab-controller.js";
import { arpAnswered, nftTable, reachable } from "../env/lab/speaker-checks.js";
import { apiService } from "../fixtures/api-services.js";

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
/** Uncompressed. About 530 MiB today: the base (Node + headers + npm, ~285) and production node_modules (~265). */
const IMAGE_SIZE_BUDGET_MIB = 768;
const KUBECONFIG_IN_CONTAINER = "/etc/lb-operator/kubeconfig";
/** Where the chart mounts the speaker's heartbeat key (templates/speaker.yaml). */
const HEARTBEAT_KEY_IN_CONTAINER = "/etc/lb-operator/heartbeat/key";
const CLASS = "lb-operator.io/baremetal";
const BUILD_TIMEOUT_MS = 20 * 60_000;

/** What each capability is for in the speaker, for failure messages. */
const CAPABILITY_USES =
  "NET_RAW: the libpcap capture that answers ARP (raw packet socket); NET_ADMIN: writing the nftables table";
/** A failed privileged operation shows up in a warning or error, or as the kernel's refusal. */
const REFUSALS = /not permitted|EPERM|EACCES|permission denied|capabilit/i;
const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** One log line, short: pino's JSON as "level msg: err.message", anything else as is. */
function compact(line: string): { text: string; failure: boolean } {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    const text = `${LEVELS[entry.level ?? 0] ?? entry.level} ${entry.msg ?? ""}${entry.err?.message ? `: ${entry.err.message}` : ""}`;
    return { text, failure: (entry.level ?? 0) >= 40 || REFUSALS.test(text) };
  } catch {
    return { text: line, failure: REFUSALS.test(line) };
  }
}

let image: string;
let uid: number;
let chart: ChartSecurity;
const workDir = mkdtempSync(join(tmpdir(), "lb-operator-image-test-"));
trackDir(workDir);

beforeAll(async () => {
  image = await resolveImage();
  await sweepStaleContainers();
  uid = await imageUid(image);
  chart = await chartSecurity();
}, BUILD_TIMEOUT_MS);
afterAll(() => removeDir(workDir));

/** A copy of a kubeconfig the container's user can read, mounted read-only (as a Secret would be). */
function kubeconfigFor(path: string, name: string): string {
  const copy = join(workDir, `${name}.kubeconfig`);
  copyFileSync(path, copy);
  chmodSync(copy, 0o444);
  return copy;
}

interface Workload {
  chart: ChartContainer;
  sec: EffectiveSecurity;
  flags: string[];
  described: string;
}

function workload(c: ChartContainer): Workload {
  const sec = effectiveSecurity(c);
  return {
    chart: c,
    sec,
    flags: podmanSecurityFlags(sec, uid, c.emptyDirMounts),
    described: describeSecurity(sec, uid),
  };
}

/** Kernel refusals in a speaker's log, by the capability the refused operation needs. */
const NEEDS: [RegExp, string][] = [
  [/nft|netlink/i, "NET_ADMIN (nftables)"],
  [/capture|pcap|socket/i, "NET_RAW (ARP capture)"],
];

interface Diagnosis {
  text: string;
  refused: string[];
}

/** Container state, the security context used, and what its log shows failing. */
async function diagnosis(label: string, container: Container, w: Workload): Promise<Diagnosis> {
  const state = await container.state().catch(() => undefined);
  const log = (await container.logs().catch((err: unknown) => `(no log: ${String(err)})`)).split("\n").map(compact);
  const failures = [...new Set(log.filter((l) => l.failure).map((l) => l.text))].slice(-6);
  const refused = NEEDS.filter(([re]) => log.some((l) => REFUSALS.test(l.text) && re.test(l.text))).map(
    ([, cap]) => cap,
  );
  const text = [
    `${label} (${container.name}): ${state ? (state.running ? "running" : `exited with ${state.exitCode}`) : "gone"}`,
    `  ran with the chart's securityContext from ${w.chart.where}: ${w.described}`,
    `  podman flags: ${w.flags.join(" ")}`,
    ...(refused.length ? [`  refused by the kernel: ${refused.join(", ")}`] : []),
    ...(failures.length
      ? ["  warnings and errors in its log:", ...failures.map((l) => `    ${l}`)]
      : ["  no warnings or errors in its log"]),
    "  log tail:",
    ...log.slice(-5).map((l) => `    ${l.text}`),
  ].join("\n");
  return { text, refused };
}

/** Polls `url` (through `get`) until it answers 200; fails early, with the diagnosis, if the container exits. */
async function waitServing(
  label: string,
  container: Container,
  w: Workload,
  get: () => Promise<number>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await container.state();
    if (!state.running)
      throw new Error(`${label} exited before serving /metrics\n${(await diagnosis(label, container, w)).text}`);
    if ((await get().catch(() => 0)) === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${label} served nothing within 60 s\n${(await diagnosis(label, container, w)).text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The kernel's view of the container's main process must be what the securityContext asks for. */
async function expectEnforced(label: string, container: Container, w: Workload): Promise<void> {
  const { pid } = await container.state();
  const mismatches = securityMismatches(processSecurity(pid), w.sec, uid);
  expect(mismatches, `${label}: the running process differs from the chart's securityContext (${w.described})`).toEqual(
    [],
  );
}

describe("the image", () => {
  it("prints --help", async () => {
    const r = await runToCompletion(image, ["--help"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Usage: lb-operator");
    expect(r.stdout).toMatch(/^\s+run\b/m);
    expect(r.stdout).toMatch(/^\s+speaker\b/m);
  });

  it("prints --version: package.json's", async () => {
    const r = await runToCompletion(image, ["--version"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toContain(PACKAGE_VERSION);
  });

  it(`reports its size (budget ${IMAGE_SIZE_BUDGET_MIB} MiB uncompressed)`, async () => {
    const bytes = await imageSize(image);
    const mib = Math.floor(bytes / 1024 / 1024);
    process.stdout.write(`image ${image}: ${mib} MiB uncompressed (${bytes} bytes)\n`);
    expect(bytes).toBeGreaterThan(0);
    expect(mib, `image ${image} is ${mib} MiB`).toBeLessThanOrEqual(IMAGE_SIZE_BUDGET_MIB);
  });
});

describe("the controller container, with the chart's controller securityContext", () => {
  let cp: ControlPlane | undefined;
  const containers: Container[] = [];
  afterAll(async () => {
    await removeAll(containers);
    await cp?.stop();
  });

  it("runs as the chart says and gives a LoadBalancer Service an address from its pool, against a real apiserver", async () => {
    const w = workload(chart.controller);
    expect(w.sec.readOnlyRoot && w.sec.capDrop.includes("ALL"), `chart's controller: ${w.described}`).toBe(true);
    const apiserver = await startControlPlane();
    cp = apiserver;
    const port = await freePort("127.0.0.1");
    const container = await Container.start({
      name: "controller",
      image,
      flags: [
        ...w.flags,
        "--network",
        "host",
        "--volume",
        `${kubeconfigFor(apiserver.kubeconfigPath, "controller")}:${KUBECONFIG_IN_CONTAINER}:ro`,
      ],
      args: [
        "run",
        "--provider",
        "baremetal",
        "--load-balancer-class",
        CLASS,
        "--kubeconfig",
        KUBECONFIG_IN_CONTAINER,
        "--address-pool",
        "image=203.0.113.200-203.0.113.207",
        "--metrics-bind-address",
        `127.0.0.1:${port}`,
        "--leader-election-namespace",
        "default",
        "--leader-election-id",
        `lbo${process.pid}-image`,
        "--log-level",
        "debug",
      ],
    });
    containers.push(container);
    await waitServing("controller", container, w, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status);
    await expectEnforced("controller", container, w);

    const core = apiserver.kubeConfig().makeApiClient(CoreV1Api);
    const ns = `image-${Math.random().toString(36).slice(2, 8)}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedService({ namespace: ns, body: apiService(ns, "web", CLASS) });
    let ip: string;
    try {
      ip = await eventually(
        `an address for ${ns}/web`,
        async () =>
          (await core.readNamespacedService({ namespace: ns, name: "web" })).status?.loadBalancer?.ingress?.[0]?.ip,
        { timeoutMs: 30_000 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${(await diagnosis("controller", container, w)).text}`, {
        cause: err,
      });
    }
    expect(ip).toMatch(/^203\.0\.113\.20[0-7]$/);
  });
});

describe("speaker containers in the lab's nodes, with the chart's speaker securityContext", () => {
  let lab: Lab | undefined;
  let controller: ControllerProcess | undefined;
  const speakers = new Map<string, Container>();
  afterAll(async () => {
    await removeAll(speakers.values());
    await controller?.stop();
    await lab?.teardown();
  });

  /** "<what failed>; speakers ran with capabilities X; refused: NET_ADMIN (nftables)" and each speaker's diagnosis. */
  const speakerFailure = async (what: string, w: Workload): Promise<string> => {
    const each = await Promise.all([...speakers].map(([node, c]) => diagnosis(`speaker on ${node}`, c, w)));
    const refused = [...new Set(each.flatMap((d) => d.refused))];
    return [
      `${what}; the speakers ran with capabilities ${w.sec.capAdd.join("+") || "none"} (drop ${w.sec.capDrop.join(",") || "none"})` +
        (refused.length
          ? `; the kernel refused operations needing ${refused.join(" and ")}`
          : "; no refusal in their logs"),
      `(${CAPABILITY_USES})`,
      ...each.map((d) => d.text),
    ].join("\n");
  };

  it("answer ARP for a Service's VIP and forward its traffic through it", async () => {
    const w = workload(chart.speaker);
    const started = await startLab({ startSpeakers: false });
    lab = started;
    controller = await startLabController(started);
    const kubeconfig = kubeconfigFor(started.cp.kubeconfigPath, "lab");
    for (const node of started.nodes) {
      const container = await Container.start({
        name: `speaker-${node.name}`,
        image,
        flags: [
          ...w.flags,
          "--network",
          `ns:/run/netns/${node.ns}`,
          "--volume",
          `${kubeconfig}:${KUBECONFIG_IN_CONTAINER}:ro`,
          "--volume",
          `${started.heartbeatKeyFile}:${HEARTBEAT_KEY_IN_CONTAINER}:ro`,
        ],
        // The lab's speaker arguments (lab.ts startSpeaker).
        args: [
          "speaker",
          "--node-name",
          node.name,
          "--kubeconfig",
          KUBECONFIG_IN_CONTAINER,
          "--heartbeat-secret-file",
          HEARTBEAT_KEY_IN_CONTAINER,
          "--metrics-bind-address",
          `${node.ip}:${SPEAKER_METRICS_PORT}`,
          "--log-level",
          "debug",
        ],
      });
      speakers.set(node.name, container);
    }
    for (const node of started.nodes) {
      const container = speakers.get(node.name)!;
      await waitServing(
        `speaker on ${node.name}`,
        container,
        w,
        async () =>
          (await node.agent.httpGet(`http://${node.ip}:${SPEAKER_METRICS_PORT}/metrics`, { timeoutMs: 1_000 }))
            .status ?? 0,
      );
      await expectEnforced(`speaker on ${node.name}`, container, w);
    }

    await started.deployService({
      name: "web",
      namespace: "image",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: [
        { name: "web-a", node: "node-1" },
        { name: "web-b", node: "node-2" },
      ],
    });
    const { ip: vip, service } = await waitForAddress(started, "image", "web");
    expect(service.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe("Proxy");

    try {
      await eventually(`an ARP answer for ${vip}`, () => arpAnswered(started, vip), { timeoutMs: 20_000 });
    } catch (err) {
      throw new Error(await speakerFailure(`nobody answered ARP for ${vip}`, w), { cause: err });
    }
    let hit: { backend: string };
    try {
      hit = await reachable(started, vip, 80);
    } catch (err) {
      const tables = await Promise.all(
        started.nodes.map(async (n) => `${n.name}: ${(await nftTable(started, n.name)) ? "has" : "has no"} nft table`),
      );
      throw new Error(await speakerFailure(`the client cannot reach ${vip}:80 (${tables.join(", ")})`, w), {
        cause: err,
      });
    }
    expect(hit.backend).toMatch(/^web-[ab]$/);
    const forwarding = (
      await Promise.all(
        started.nodes.map(async (n) => ((await nftTable(started, n.name)).includes(`${vip} . `) ? [n.name] : [])),
      )
    ).flat();
    expect(forwarding, `nodes whose nft table forwards ${vip}`).toHaveLength(1);
  }, 300_000);
});
