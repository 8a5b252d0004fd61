import { startControlPlane } from "../env/control-plane.js";
import { TEST_CLASS, startController } from "../env/controller-harness.js";
import { RecordingProvider } from "../fakes/recording-provider.js";
import { dataPathSkip } from "../../src/conformance/skip-lists.js";
import { runConformance } from "./run-conformance.js";

// The recording provider is the contract's reference double: it shows the controller core alone passes.
runConformance({
  provider: "recording",
  skip: [
    {
      reason: "the recording provider hands out addresses from a fixed range and ignores requested ones",
      tests: ["honours a requested address in spec.loadBalancerIP"],
    },
    dataPathSkip("the recording provider only records calls: no load balancer forwards traffic"),
  ],
  setup: async () => {
    const cp = await startControlPlane();
    const controller = await startController(cp.kubeConfig(), new RecordingProvider());
    return {
      kubeConfig: cp.kubeConfig(),
      loadBalancerClass: TEST_CLASS,
      teardown: async () => {
        await controller.stop();
        await cp.stop();
      },
    };
  },
});
