/**
 * The provider contract (testing/contract-suite.ts) for the GCE provider on the fake Compute API, for an
 * externalTrafficPolicy Cluster Service (shared health check) and a Local one (its own health check). Each rule
 * starts from a reset fake. Resource-level assertions are in gce-provider.test.ts.
 */
import { describeProviderContract } from "../../testing/contract-suite.js";
import { freshFakeComputePerTest, gceContractWorld } from "../env/fake-compute/gce-test-world.js";

const CLUSTER = `ctr${process.pid}`;
const PORTS = [{ port: 80 }, { port: 443 }];
const fake = freshFakeComputePerTest();

describeProviderContract("gce, Cluster policy", () => gceContractWorld(fake(), CLUSTER, { ports: PORTS }), {
  timeout: 120_000,
});
describeProviderContract(
  "gce, Local policy",
  () => gceContractWorld(fake(), CLUSTER, { ports: PORTS, healthCheckNodePort: 32000 }),
  { timeout: 120_000 },
);
