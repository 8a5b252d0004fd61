import { pino } from "pino";
import { startControlPlane } from "../env/control-plane.js";
import { TEST_CLASS, startController } from "../env/controller-harness.js";
import { recordingPlugin } from "../fakes/recording-plugin.js";
import { runConformance } from "./run-conformance.js";

// The recording provider is the contract's reference double: it shows the controller core alone passes. It is
// built through its plugin, as `lb-operator run --provider recording` would build it.
runConformance({
  provider: recordingPlugin.name,
  skip: recordingPlugin.conformanceSkips,
  setup: async () => {
    const cp = await startControlPlane();
    const abort = new AbortController();
    const provider = await recordingPlugin.create(
      {
        kubeConfig: cp.kubeConfig(),
        logger: pino({ level: "silent" }),
        signal: abort.signal,
        requestResync: () => undefined,
      },
      {},
    );
    const controller = await startController(cp.kubeConfig(), provider);
    return {
      kubeConfig: cp.kubeConfig(),
      loadBalancerClass: TEST_CLASS,
      teardown: async () => {
        abort.abort();
        await controller.stop();
        await cp.stop();
      },
    };
  },
});
