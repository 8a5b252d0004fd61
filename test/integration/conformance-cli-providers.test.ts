/**
 * `lb-operator conformance` as a user runs it, against each provider's test world: bare metal in the network lab
 * (speakers, kube-proxy and all, the CLI run from the lab's client host with --data-path, so the data-path cases
 * send real traffic through the VIPs), AWS on moto, GCE on the fake Compute API (no data path there: those cases
 * skip with the reason). Each must pass every case its skip list does not name, print the summary and write JUnit XML.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsProviderFor } from "../../providers/aws/create-aws-provider.js";
import { gceProviderFor } from "../../providers/gce/create-gce-provider.js";
import { gceLocation } from "../fixtures/gce.js";
import { conformanceCases } from "../../src/conformance/cases.js";
import { PROVIDER_PLUGINS } from "../../src/plugins.js";
import { createAwsWorld } from "../env/aws-world.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { type RunningController, startController } from "../env/controller-harness.js";
import { gceClientsFor, startFakeCompute } from "../env/fake-compute/index.js";
import { type Lab, startLab } from "../env/lab/lab.js";
import { startLabController } from "../env/lab/lab-controller.js";
import { startMoto } from "../env/moto.js";
import type { ControllerProcess } from "../env/controller-process.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "conformance-providers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CliRun {
  code: number | null;
  stdout: string;
  junit: string;
}

/** Runs the CLI here, or inside a lab namespace (`netns`) as a user on that host would. */
function conformance(provider: string, kubeconfig: string, extra: string[] = [], netns?: string): Promise<CliRun> {
  const junit = join(dir, `${provider}.xml`);
  const argv = [
    process.execPath,
    "--import",
    "tsx",
    MAIN,
    "conformance",
    "--provider",
    provider,
    "--kubeconfig",
    kubeconfig,
    "--junit",
    junit,
    "--timeout",
    "60s",
    ...extra,
  ];
  const [cmd, ...args] = netns === undefined ? argv : ["ip", "netns", "exec", netns, ...argv];
  const child = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), 290_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, junit: readFileSync(junit, "utf8") });
    }),
  );
}

function expectPassed(run: CliRun, skipped: number): void {
  expect(run.code, run.stdout).toBe(0);
  expect(run.stdout).toMatch(/\d+ cases: \d+ passed, 0 failed, \d+ skipped/);
  expect(run.junit).toContain('failures="0"');
  expect(run.junit).toContain(`skipped="${skipped}"`);
}

async function registerNodes(
  cp: ControlPlane,
  nodes: { name: string; zone: string; providerID: string }[],
): Promise<void> {
  const kube = new KubeTestClient(cp.kubeConfig());
  for (const n of nodes) {
    const created = await kube.core.createNode({
      body: {
        metadata: { name: n.name, labels: { "topology.kubernetes.io/zone": n.zone } },
        spec: { providerID: n.providerID },
      },
    });
    await kube.core.replaceNodeStatus({
      name: n.name,
      body: { ...created, status: { addresses: [{ type: "InternalIP", address: "10.0.0.10" }] } },
    });
  }
}

const DATA_PATH_CASES = conformanceCases.filter((c) => c.requires?.includes("dataPath"));
/** Run, not skipped, in every world here: each provider is given an address it cannot hand out. */
const REFUSED_CASE = conformanceCases.find((c) => c.requires?.includes("unavailableAddress"))!;
/** The provider's skip list, plus the data-path cases when the run has no --data-path. */
const skipsOf = (provider: "aws" | "gce" | "baremetal", dataPath: boolean): number =>
  PROVIDER_PLUGINS.find((p) => p.name === provider)!.conformanceSkips.reduce((n, e) => n + e.tests.length, 0) +
  (dataPath ? 0 : DATA_PATH_CASES.length);

describe("conformance CLI, bare metal in the network lab", () => {
  let lab: Lab;
  let controller: ControllerProcess;
  beforeAll(async () => {
    lab = await startLab();
    controller = await startLabController(lab);
  });
  afterAll(async () => {
    await controller?.stop();
    await lab?.teardown();
  });
  it("passes, with a requestable address from the lab pool, one outside it, and the data-path cases run from the client host", async () => {
    const run = await conformance(
      "baremetal",
      lab.cp.kubeconfigPath,
      [
        "--requestable-address",
        "192.0.2.119",
        // Outside the lab pool (LAB_POOL, the VIP range): the allocator refuses it with AddressNotInPoolError.
        "--unavailable-address",
        "203.0.113.77",
        "--data-path",
        "--client-address",
        lab.client.ip,
      ],
      lab.client.ns,
    );
    expectPassed(run, skipsOf("baremetal", true));
    expect(run.stdout).toContain(`✓ ${REFUSED_CASE.name} (`);
    for (const c of DATA_PATH_CASES) expect(run.stdout).toContain(`✓ ${c.name} (`);
  }, 300_000);
});

describe("conformance CLI, AWS on moto", () => {
  let cp: ControlPlane;
  let stopMoto: () => Promise<void>;
  let controller: RunningController;
  beforeAll(async () => {
    const [plane, moto] = await Promise.all([startControlPlane(), startMoto()]);
    cp = plane;
    stopMoto = () => moto.stop();
    const world = await createAwsWorld(moto.clients(), { clusterId: "cli", nodes: 2 });
    await registerNodes(
      cp,
      world.nodes().map((n) => ({
        name: n.metadata!.name!,
        zone: n.metadata!.labels!["topology.kubernetes.io/zone"] ?? "",
        providerID: n.spec!.providerID!,
      })),
    );
    controller = await startController(cp.kubeConfig(), awsProviderFor(moto.clients(), pino({ level: "silent" })), {
      clusterId: "cli",
      classOptions: { loadBalancerClass: "lb-operator.io/aws", isDefaultClass: false },
    });
  });
  afterAll(async () => {
    await controller?.stop();
    await stopMoto?.();
    await cp?.stop();
  });
  it("passes with the AWS skip list", async () => {
    // AWS hands out no requested address at all (as cloud-provider-aws): any address is one it must refuse.
    const run = await conformance("aws", cp.kubeconfigPath, ["--unavailable-address", "192.0.2.77"]);
    expectPassed(run, skipsOf("aws", false));
    expect(run.stdout).toContain(`✓ ${REFUSED_CASE.name} (`);
    for (const c of DATA_PATH_CASES) expect(run.stdout).toContain(`- ${c.name} [skipped: `);
  }, 180_000);
});

describe("conformance CLI, GCE on the fake Compute API", () => {
  let cp: ControlPlane;
  let stopFake: () => Promise<void>;
  let controller: RunningController;
  beforeAll(async () => {
    const nodes = [
      { name: "node-a1", zone: "us-central1-a" },
      { name: "node-b1", zone: "us-central1-b" },
    ];
    const [plane, fake] = await Promise.all([
      startControlPlane(),
      startFakeCompute({ instances: nodes.map((n) => ({ ...n, tags: ["gke-node"] })) }),
    ]);
    cp = plane;
    stopFake = () => fake.stop();
    await registerNodes(
      cp,
      nodes.map((n) => ({ ...n, providerID: `gce://${fake.project}/${n.zone}/${n.name}` })),
    );
    const provider = gceProviderFor(
      gceClientsFor(fake),
      gceLocation({ project: fake.project, nodeTags: ["gke-node"] }),
      pino({ level: "silent" }),
      { minPollIntervalMs: 0 },
    );
    controller = await startController(cp.kubeConfig(), provider, {
      clusterId: "cli",
      classOptions: { loadBalancerClass: "lb-operator.io/gce", isDefaultClass: false },
    });
  });
  afterAll(async () => {
    await controller?.stop();
    await stopFake?.();
    await cp?.stop();
  });
  it("passes with the GCE skip list, an address inside the subnetwork and one outside it", async () => {
    const run = await conformance("gce", cp.kubeconfigPath, [
      "--requestable-address",
      "10.128.0.77",
      "--unavailable-address",
      "192.0.2.77",
    ]);
    expectPassed(run, skipsOf("gce", false));
    expect(run.stdout).toContain(`✓ ${REFUSED_CASE.name} (`);
    for (const c of DATA_PATH_CASES) expect(run.stdout).toContain(`- ${c.name} [skipped: `);
  }, 180_000);
});
