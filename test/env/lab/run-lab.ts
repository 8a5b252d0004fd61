/**
 * `npm run lab`: the local lab. Starts the embedded control plane (real kube-apiserver + etcd), runs the
 * controller as its own process with the bare-metal provider and a lab address pool, applies a demo Service
 * and prints it with its EXTERNAL-IP. Stays up until Ctrl-C; `--once` exits after printing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { Command } from "commander";
import { startControlPlane } from "../control-plane.js";
import { eventually } from "../eventually.js";

const LAB_POOL = "lab=192.0.2.100-192.0.2.120";
const LAB_CLASS = "lb-operator.io/baremetal";

async function main(): Promise<void> {
  const opts = new Command("lab")
    .option("--once", "exit after the demo Service has its address")
    .option("--log-level <level>", "controller log level", "info")
    .parse(process.argv)
    .opts<{ once?: boolean; logLevel: string }>();

  const say = (msg: string): void => void process.stdout.write(`lab: ${msg}\n`);
  say("starting kube-apiserver and etcd (the first run builds them from the Go module proxy)");
  const cp = await startControlPlane();
  let controller: ChildProcess | undefined;
  const shutdown = async (code: number): Promise<never> => {
    controller?.kill("SIGTERM");
    await cp.stop();
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
  try {
    say(`control plane up at ${cp.server}; kubeconfig: ${cp.kubeconfigPath}`);
    const main = fileURLToPath(new URL("../../../src/main.ts", import.meta.url));
    const args = ["--import", "tsx", main, "run", "--provider", "baremetal", "--kubeconfig", cp.kubeconfigPath,
      "--address-pool", LAB_POOL, "--no-leader-elect", "--metrics-bind-address", "127.0.0.1:0", "--log-level", opts.logLevel];
    controller = spawn(process.execPath, args, { stdio: ["ignore", "inherit", opts.once ? "ignore" : "inherit"] });
    controller.on("exit", (code) => {
      if (code !== null && code !== 0) say(`controller exited with code ${code}`);
    });
    say(`controller started (pid ${controller.pid}) with address pool ${LAB_POOL}`);

    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "demo" } } });
    await core.createNamespacedService({ namespace: "demo", body: demoService() });
    say("applied Service demo/hello (type LoadBalancer, class lb-operator.io/baremetal)");
    const svc = await eventually("demo/hello to get an address", async () => {
      const s = await core.readNamespacedService({ namespace: "demo", name: "hello" });
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    }, { timeoutMs: 60_000 });
    process.stdout.write(`\n${table(svc)}\n\n`);
    if (opts.once) return await shutdown(0);
    say("running; press Ctrl-C to stop and clean up");
    await new Promise(() => undefined);
  } catch (err) {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  }
}

function demoService(): V1Service {
  return {
    metadata: { name: "hello", namespace: "demo" },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: LAB_CLASS,
      selector: { app: "hello" },
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
    },
  };
}

/** The columns of `kubectl get service -o wide`, without kubectl. */
function table(svc: V1Service): string {
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  const rows = [
    ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "IPMODE"],
    [
      svc.metadata?.namespace ?? "",
      svc.metadata?.name ?? "",
      svc.spec?.type ?? "",
      svc.spec?.clusterIP ?? "",
      ingress.map((i) => i.ip ?? i.hostname).join(","),
      (svc.spec?.ports ?? []).map((p) => `${p.port}:${p.nodePort ?? ""}/${p.protocol ?? "TCP"}`).join(","),
      ingress.map((i) => i.ipMode ?? "").join(","),
    ],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]! + 3)).join("").trimEnd()).join("\n");
}

await main();
