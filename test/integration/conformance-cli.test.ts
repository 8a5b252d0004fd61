import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceCases } from "../../src/conformance/cases.js";
import { ConformanceKubeClient } from "../../src/conformance/kube-client.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../../testing/eventually.js";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const PREFIX = `conf-cli-${process.pid}`;
const REQUESTED = "203.0.113.99";
/** Past the controller's pool (203.0.113.0/25). */
const UNAVAILABLE = "203.0.113.200";

let cp: ControlPlane;
let controller: ControllerProcess | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "conformance-cli-"));
  cp = await startControlPlane();
  controller = await ControllerProcess.start(
    [
      "--provider",
      "baremetal",
      "--address-pool",
      "conf=203.0.113.0/25",
      "--no-leader-elect",
      "--kubeconfig",
      cp.kubeconfigPath,
    ],
    cp.dir,
    "conformance-controller",
  );
});
afterAll(async () => {
  await controller?.stop("SIGKILL");
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `lb-operator conformance` as a user runs it; `onLine` may signal the child while it runs. */
function conformance(
  args: string[],
  onLine?: (line: string, signal: (s: NodeJS.Signals) => void) => void,
): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      MAIN,
      "conformance",
      "--provider",
      "baremetal",
      "--kubeconfig",
      cp.kubeconfigPath,
      "--namespace-prefix",
      PREFIX,
      "--timeout",
      "30s",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (stdout.slice(stdout.lastIndexOf("\n") + 1) + chunk).split("\n").slice(0, -1);
    stdout += chunk;
    for (const line of lines) onLine?.(line, (s) => child.kill(s));
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 110_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Every namespace the CLI created is being deleted and holds no Service (no namespace controller runs here). */
async function expectCleanedUp(): Promise<number> {
  const kube = new ConformanceKubeClient(cp.kubeConfig());
  const namespaces = (await kube.core.listNamespace()).items.filter((ns) => ns.metadata?.name?.startsWith(PREFIX));
  for (const ns of namespaces) {
    expect(ns.metadata?.deletionTimestamp, `namespace ${ns.metadata?.name} not deleted`).toBeDefined();
    expect((await kube.core.listNamespacedService({ namespace: ns.metadata!.name! })).items).toEqual([]);
  }
  return namespaces.length;
}

describe("lb-operator conformance --provider baremetal", () => {
  it("passes every case not skipped with a reason, prints the summary and writes JUnit XML", async () => {
    const junit = join(dir, "all.xml");
    const run = await conformance(["--junit", junit]);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const total = conformanceCases.length;
    // Without --requestable-address, --unavailable-address and --data-path: the two requested-address cases that
    // need them and every data-path case skip.
    const dataPath = conformanceCases.filter((c) => c.requires?.includes("dataPath"));
    const skipped = 2 + dataPath.length;
    expect(dataPath.length).toBeGreaterThanOrEqual(4);
    expect(run.stdout).toContain(`${total} cases: ${total - skipped} passed, 0 failed, ${skipped} skipped in `);
    expect(run.stdout).toContain(
      "- honours a requested address in spec.loadBalancerIP [skipped: no --requestable-address given]",
    );
    expect(run.stdout).toContain(
      "- reports a requested address it cannot hand out with a Warning event and provisions nothing [skipped: no --unavailable-address given]",
    );
    for (const c of dataPath)
      expect(run.stdout).toContain(
        `- ${c.name} [skipped: the runner was not given a way to reach the load balancer (--data-path)]`,
      );
    expect(run.stdout).toContain("✓ should handle load balancer cleanup finalizer for service (");
    expect(run.stdout).toMatch(/\n {2}RESULT +TIME {2}CASE\n/);

    const xml = readFileSync(junit, "utf8");
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml).toContain(`tests="${total}" failures="0" errors="0" skipped="${skipped}"`);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(total);
    for (const c of conformanceCases) expect(xml).toContain(`name="${c.name.replace(/'/g, "&apos;")}"`);
    expect(xml).toContain(`<skipped message="no --requestable-address given"/>`);
    expect(xml).toContain(`<skipped message="no --unavailable-address given"/>`);
    expect(xml).not.toContain("<failure");
    expect(await expectCleanedUp()).toBe(total - skipped);
  });

  it("runs the requested-address cases when given the addresses, and selects cases with --focus", async () => {
    const run = await conformance([
      "--requestable-address",
      REQUESTED,
      "--unavailable-address",
      UNAVAILABLE,
      "--focus",
      "in spec\\.loadBalancerIP$|it cannot hand out",
    ]);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/✓ honours a requested address in spec\.loadBalancerIP \(\d+\.\d s\)/);
    expect(run.stdout).toMatch(/✓ reports a requested address it cannot hand out .* \(\d+\.\d s\)/);
    expect(run.stdout).toContain(
      `${conformanceCases.length} cases: 2 passed, 0 failed, ${conformanceCases.length - 2} skipped`,
    );
    await expectCleanedUp();
  });

  it("exits 1 when a case fails and records the failure in the JUnit file", async () => {
    // A class no controller handles: the load balancer never comes, so the case fails on its (short) timeout.
    const junit = join(dir, "fail.xml");
    const run = await conformance([
      "--load-balancer-class",
      "example.com/nobody",
      "--timeout",
      "2s",
      "--focus",
      "^creates a load balancer",
      "--junit",
      junit,
    ]);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/✗ creates a load balancer .* \(\d+\.\d s\)\n {4}timed out after 2000 ms waiting for/);
    expect(readFileSync(junit, "utf8")).toMatch(
      /<failure message="timed out after 2000 ms waiting for [^"]+" type="ConformanceTimeoutError">/,
    );
    await expectCleanedUp();
  });

  it("on SIGINT stops, deletes the running case's namespace and exits 130", async () => {
    const before = await expectCleanedUp();
    const run = await conformance(
      ["--load-balancer-class", "example.com/nobody", "--timeout", "60s"],
      (line, signal) => {
        if (line.startsWith("lb-operator conformance:")) setTimeout(() => signal("SIGINT"), 1_500);
      },
    );
    expect(run.code, run.stdout).toBe(130);
    expect(run.stdout).toContain("received SIGINT");
    expect(run.stdout).toMatch(/Summary \(baremetal\) - interrupted/);
    await eventually(
      "the interrupted case's namespace to be deleted",
      async () => (await expectCleanedUp()) === before + 1,
    );
  });
});
