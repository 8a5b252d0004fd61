import pino from "pino";
import { gceProviderFor } from "../../providers/gce/create-gce-provider.js";
import { gceLocation } from "../fixtures/gce.js";
import { startControlPlane } from "../env/control-plane.js";
import { startController } from "../env/controller-harness.js";
import { gceClientsFor, startFakeCompute } from "../env/fake-compute/index.js";
import { gcePlugin } from "../../providers/gce/plugin.js";
import { dataPathSkip } from "../../src/conformance/skip-lists.js";
import { runConformance } from "./run-conformance.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const CLASS = "lb-operator.io/gce";
const CLUSTER = "conformance";
const TAGS = ["gke-node"];
const NODES = [
  { name: "node-a1", zone: "us-central1-a" },
  { name: "node-b1", zone: "us-central1-b" },
];

/**
 * The shared suite against the GCE provider on the fake Compute API (test/env/fake-compute/, the real
 * @google-cloud/compute client over HTTP), with two instance nodes registered as Kubernetes Nodes
 * (providerID gce://<project>/<zone>/<instance>). Operations take two polls to finish, as real ones take time.
 */
runConformance({
  provider: "gce",
  skip: [
    ...gcePlugin.conformanceSkips,
    dataPathSkip(
      "the fake Compute API creates no data path: its forwarding rules forward no traffic, so there is nothing to send requests through",
    ),
  ],
  setup: async () => {
    const [cp, fake] = await Promise.all([
      startControlPlane(),
      startFakeCompute({ instances: NODES.map((n) => ({ ...n, tags: TAGS })) }),
    ]);
    const kube = new KubeTestClient(cp.kubeConfig());
    for (const n of NODES) {
      const created = await kube.core.createNode({
        body: {
          metadata: { name: n.name, labels: { "topology.kubernetes.io/zone": n.zone } },
          spec: { providerID: `gce://${fake.project}/${n.zone}/${n.name}` },
        },
      });
      await kube.core.replaceNodeStatus({
        name: n.name,
        body: {
          ...created,
          status: {
            addresses: [{ type: "InternalIP", address: "10.128.0.2" }],
            conditions: [{ type: "Ready", status: "True" }],
          },
        },
      });
    }
    const provider = gceProviderFor(
      gceClientsFor(fake),
      gceLocation({ project: fake.project, nodeTags: TAGS }),
      pino({ level: "silent" }),
      { minPollIntervalMs: 0 },
    );
    const controller = await startController(cp.kubeConfig(), provider, {
      clusterId: CLUSTER,
      classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
    });
    return {
      kubeConfig: cp.kubeConfig(),
      loadBalancerClass: CLASS,
      // Inside the default subnetwork (10.128.0.0/20), as an internal forwarding rule's address must be.
      requestableAddress: "10.128.0.77",
      // Outside it: the deployer refuses it before creating anything (checkRequestedIPInSubnet, gce-config.ts).
      unavailableAddress: "192.0.2.77",
      teardown: async () => {
        await controller.stop();
        await fake.stop();
        await cp.stop();
      },
    };
  },
});
