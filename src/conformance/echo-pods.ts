/**
 * The data-path cases' backends: bare Pods placed on chosen Nodes, serving agnhost netexec's HTTP answers.
 * This is a contract with the bare-metal lab (whose kubelet stand-in runs them without a container runtime):
 * bare Pods with `spec.nodeName` because the lab has no scheduler (and no Deployment controller), one container
 * named `echo`, args `netexec --http-port=8080`, the port named `http`, a readiness probe on `/hostname`.
 * Change it only together with the lab.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { LbOperatorError } from "../errors.js";
import type { CaseContext } from "./cases.js";
import { eventually } from "../../testing/eventually.js";

export const ECHO_PORT = 8080;
const EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

/** The cluster has no Node a backend can be placed on. */
export class NoEligibleNodeError extends LbOperatorError {}

export interface EchoPod {
  readonly name: string;
  readonly nodeName: string;
}

const isReady = (node: V1Node): boolean =>
  node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/**
 * Nodes a backend may go to, by name: Ready, schedulable, not being deleted, and not excluded from load balancers
 * (upstream honours the label's value "false" as not excluded; any other value excludes). A backend on an
 * excluded node would test a node no load balancer targets.
 */
export function eligibleNodes(nodes: readonly V1Node[]): V1Node[] {
  return nodes
    .filter((n) => isReady(n) && !n.spec?.unschedulable && !n.metadata?.deletionTimestamp)
    .filter((n) => {
      const excluded = n.metadata?.labels?.[EXCLUDE_LABEL];
      return excluded === undefined || excluded === "false";
    })
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** One backend Pod, exactly as the lab contract above describes it. */
export function echoPod(options: {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  nodeName: string;
  image: string;
}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: options.name, namespace: options.namespace, labels: { ...options.labels } },
    spec: {
      nodeName: options.nodeName,
      containers: [
        {
          name: "echo",
          image: options.image,
          args: ["netexec", `--http-port=${ECHO_PORT}`],
          ports: [{ name: "http", containerPort: ECHO_PORT, protocol: "TCP" }],
          readinessProbe: { httpGet: { path: "/hostname", port: ECHO_PORT }, periodSeconds: 1 },
        },
      ],
    },
  };
}

const podReady = (pod: V1Pod | undefined): boolean =>
  pod?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/**
 * Creates `count` backends `<prefix>-0..` with the Service's selector as labels, spread over distinct eligible
 * nodes while there are enough (so two backends exercise cross-node forwarding), and waits until all are Ready.
 */
export async function startEchoPods(
  ctx: CaseContext,
  options: { prefix: string; selector: Record<string, string>; count: number; image: string },
): Promise<EchoPod[]> {
  const nodes = eligibleNodes((await ctx.kube.core.listNode()).items);
  if (nodes.length === 0) {
    throw new NoEligibleNodeError(
      "no Node can take a backend pod: none is Ready, schedulable and not excluded from load balancers",
    );
  }
  const pods: EchoPod[] = [];
  for (let i = 0; i < options.count; i++) {
    const nodeName = nodes[i % nodes.length]?.metadata?.name ?? "";
    const name = `${options.prefix}-${i}`;
    const body = echoPod({ namespace: ctx.namespace, name, labels: options.selector, nodeName, image: options.image });
    await ctx.kube.core.createNamespacedPod({ namespace: ctx.namespace, body });
    pods.push({ name, nodeName });
  }
  for (const pod of pods) {
    await eventually(
      `pod ${ctx.namespace}/${pod.name} on ${pod.nodeName} to be Ready`,
      async () => podReady(await ctx.kube.core.readNamespacedPod({ namespace: ctx.namespace, name: pod.name })),
      { timeoutMs: ctx.timeoutMs },
    );
  }
  return pods;
}

/** Deletes a backend as a user would (default grace period): its endpoint turns terminating, then goes. */
export async function deleteEchoPod(ctx: CaseContext, name: string): Promise<void> {
  await ctx.kube.core.deleteNamespacedPod({ namespace: ctx.namespace, name });
}
