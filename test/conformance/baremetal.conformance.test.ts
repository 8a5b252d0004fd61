import { BaremetalProvider, parsePoolFlags } from "../../providers/baremetal/index.js";
import { startControlPlane } from "../env/control-plane.js";
import { startController } from "../env/controller-harness.js";
import { baremetalPlugin } from "../../providers/baremetal/plugin.js";
import { runConformance } from "./run-conformance.js";

const CLASS = "lb-operator.io/baremetal";

runConformance({
  provider: "baremetal",
  skip: baremetalPlugin.conformanceSkips,
  setup: async () => {
    const cp = await startControlPlane();
    const provider = new BaremetalProvider({ pools: parsePoolFlags(["conformance=203.0.113.0/25"]) });
    const controller = await startController(cp.kubeConfig(), provider, {
      classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
    });
    return {
      kubeConfig: cp.kubeConfig(),
      loadBalancerClass: CLASS,
      requestableAddress: "203.0.113.99",
      // In the same /24 but past the pool's /25: the allocator refuses it (AddressNotInPoolError, a Warning).
      unavailableAddress: "203.0.113.200",
      teardown: async () => {
        await controller.stop();
        await cp.stop();
      },
    };
  },
});
