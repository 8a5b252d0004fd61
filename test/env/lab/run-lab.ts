/**
 * `npm run lab`: the local lab, end to end. Builds the network lab (a client host and three node hosts in network
 * namespaces on a bridge), starts the real control plane, kube-controller-manager and a kube-proxy per node, the
 * controller (bare-metal provider, lab address pool) and one speaker per node, deploys the demo Service demo/hello
 * with a pod on every node (each in its own namespace, run by the kubelet stand-in), and sends requests from the
 * client namespace through the VIP, printing which pod answered and which node's MAC the client ARPed.
 * Stays up until Ctrl-C (printing how to reach the lab); `--once` exits after the requests; `--metallb` runs MetalLB
 * (metallb.ts) instead of our controller and speakers. Everything is removed on exit, also on failure.
 */
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { Command, Option } from "commander";
import type { ControllerProcess } from "../controller-process.js";
import { KUBE_PROXY_MODES, type KubeProxyMode, LAB_LOAD_BALANCER_CLASS, type Lab, startLab } from "./lab.js";
import { LAB_POOL, startLabController, waitForAddress } from "./lab-controller.js";
import { type LabMetalLb, METALLB_LOAD_BALANCER_CLASS, startLabMetalLb } from "./metallb.js";
import { announcerSeenByClient, parseBackendLine, reachable } from "./speaker-checks.js";

const NODES = ["node-1", "node-2", "node-3"];

async function main(): Promise<void> {
  const opts = new Command("lab")
    .option("--once", "exit after the demo requests")
    .option("--metallb", "run MetalLB (scripts/install-metallb.sh) instead of our controller and speakers")
    .option("--requests <n>", "requests to send through the VIP, 250 ms apart", "12")
    .addOption(
      new Option("--kube-proxy-mode <mode>", "kube-proxy's mode on every node")
        .choices(KUBE_PROXY_MODES)
        .default("nftables"),
    )
    .parse(process.argv)
    .opts<{ once?: boolean; metallb?: boolean; requests: string; kubeProxyMode: KubeProxyMode }>();

  const say = (msg: string): void => void process.stdout.write(`lab: ${msg}\n`);
  let lab: Lab | undefined;
  let controller: ControllerProcess | undefined;
  let metallb: LabMetalLb | undefined;
  const shutdown = async (code: number): Promise<never> => {
    await controller?.stop().catch(() => undefined);
    await metallb?.stop().catch(() => undefined);
    await lab?.teardown().catch(() => undefined);
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
  try {
    say(
      "building the network lab and starting kube-apiserver, etcd, kube-controller-manager and a kube-proxy per node",
    );
    say("(the first run builds them from the Go module proxy: several minutes)");
    lab = await startLab({ keepLogs: !opts.once, kubeProxyMode: opts.kubeProxyMode, startSpeakers: !opts.metallb });
    say(`control plane at ${lab.cp.server}; kubeconfig ${lab.cp.kubeconfigPath}`);
    say(
      `hosts: client ${lab.client.ip}, ${lab.nodes.map((n) => `${n.name} ${n.ip}`).join(", ")}; kube-proxy (${lab.kubeProxyMode} mode) and a ${opts.metallb ? "MetalLB " : ""}speaker on every node`,
    );
    if (opts.metallb) {
      metallb = await startLabMetalLb(lab, { logLevel: "info" });
      say(`MetalLB controller running with IPAddressPool ${LAB_POOL}, class ${METALLB_LOAD_BALANCER_CLASS}`);
    } else {
      controller = await startLabController(lab, ["--log-level", "info"]);
      say(`controller running with address pool ${LAB_POOL}`);
    }
    const loadBalancerClass = opts.metallb ? METALLB_LOAD_BALANCER_CLASS : LAB_LOAD_BALANCER_CLASS;

    const hello = await lab.deployService({
      name: "hello",
      namespace: "demo",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      loadBalancerClass,
      pods: NODES.map((node, i) => ({ name: `hello-${i}`, node })),
    });
    say(`applied Service demo/hello (type LoadBalancer, class ${loadBalancerClass}) with a pod on every node:`);
    for (const pod of hello.pods()) say(`  pod ${pod.name} on ${pod.node}, ${pod.ip} (its own network namespace)`);
    const { ip: vip } = await waitForAddress(lab, "demo", "hello", 60_000);
    const svc = await lab
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedService({ namespace: "demo", name: "hello" });
    process.stdout.write(`\n${table(svc)}\n\n`);

    await reachable(lab, vip, 80);
    const announcer = await announcerSeenByClient(lab, vip, 80);
    say(
      `client ${lab.client.ip} resolved ${vip} by ARP to ${announcer ?? "?"} (${lab.nodes.find((n) => n.name === announcer)?.mac ?? "?"})`,
    );
    const answered = new Map<string, number>();
    for (let i = 0; i < Number(opts.requests); i++) {
      const r = await lab.client.agent.request("TCP", vip, 80, { timeoutMs: 1_000 });
      const pod = r.ok ? parseBackendLine(r.body)?.backend : undefined;
      if (pod) answered.set(pod, (answered.get(pod) ?? 0) + 1);
      say(`client -> ${vip}:80 answered by: ${r.ok ? r.body : `failed (${r.error ?? "no answer"})`}`);
      // Spread over a few seconds: a new NodePort is used once the other nodes' kube-proxies had time to program
      // it (node-port-settling.ts); until then the announcer's own pod answers.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    say(
      `answering pods: ${
        [...answered]
          .sort()
          .map(([pod, n]) => `${pod} x${n}`)
          .join(", ") || "none"
      }`,
    );
    if (opts.once) return await shutdown(0);
    say(`running; logs in ${lab.logDir}. Try: ip netns exec ${lab.client.ns} arping -c 1 -i eth0 ${vip}`);
    if (!opts.metallb) say(`or: ip netns exec ${lab.node(announcer ?? "node-1").ns} nft list table ip lb-operator`);
    say("Ctrl-C stops and cleans up.");
    await new Promise(() => undefined);
  } catch (err) {
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
  }
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
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]! + 3))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

await main();
