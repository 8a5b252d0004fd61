import pino from "pino";
import { awsProviderFor } from "../../providers/aws/create-aws-provider.js";
import { createAwsWorld } from "../env/aws-world.js";
import { startControlPlane } from "../env/control-plane.js";
import { startController } from "../env/controller-harness.js";
import { startMoto } from "../env/moto.js";
import { awsPlugin } from "../../providers/aws/plugin.js";
import { dataPathSkip } from "../../src/conformance/skip-lists.js";
import { runConformance } from "./run-conformance.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const CLASS = "lb-operator.io/aws";
const CLUSTER = "conformance";

/**
 * The shared suite against the AWS provider on moto (server mode, real SDK v3 clients), with the default load
 * balancer kind (classic ELB, as cloud-provider-aws) and three instance nodes registered as Kubernetes Nodes.
 * moto's quirks are not skipped: every registered target reports healthy there, so the AWS tests assert the health
 * check settings themselves (aws-nlb-deployer, aws-clb-deployer); moto accepts a duplicate listener port, so the NLB
 * deployer's test creates one and asserts it is removed.
 */
runConformance({
  provider: "aws",
  skip: [
    ...awsPlugin.conformanceSkips,
    dataPathSkip(
      "moto creates no data path: its load balancers forward no traffic, so there is nothing to send requests through",
    ),
  ],
  setup: async () => {
    const [cp, moto] = await Promise.all([startControlPlane(), startMoto()]);
    const world = await createAwsWorld(moto.clients(), { clusterId: CLUSTER, nodes: 3 });
    const kube = new KubeTestClient(cp.kubeConfig());
    for (const node of world.nodes()) {
      const created = await kube.core.createNode({ body: { metadata: node.metadata, spec: node.spec } });
      await kube.core.replaceNodeStatus({ name: created.metadata!.name!, body: { ...created, status: node.status } });
    }
    const controller = await startController(
      cp.kubeConfig(),
      awsProviderFor(moto.clients(), pino({ level: "silent" })),
      {
        clusterId: CLUSTER,
        classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
      },
    );
    return {
      kubeConfig: cp.kubeConfig(),
      loadBalancerClass: CLASS,
      requestableAddress: undefined,
      // AWS hands out no address on request (aws-provider.ts validateTargets refuses spec.loadBalancerIP, as
      // cloud-provider-aws does), so every address is one it cannot hand out, and must be refused visibly.
      unavailableAddress: "192.0.2.77",
      teardown: async () => {
        await controller.stop();
        await moto.stop();
        await cp.stop();
      },
    };
  },
});
