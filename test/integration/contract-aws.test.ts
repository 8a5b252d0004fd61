/**
 * The provider contract (testing/contract-suite.ts) for the AWS provider on moto, once per kind of load balancer
 * it builds: NLB with instance targets, NLB with ip targets (pod mode), classic ELB. Each rule gets a fresh world.
 * Resource-level assertions of the same three creates are in aws-provider.test.ts.
 */
import { afterAll, beforeAll } from "vitest";
import { describeProviderContract } from "../../testing/contract-suite.js";
import type { SpecPort } from "../../testing/new-spec.js";
import { awsContractWorld } from "../env/aws-test-world.js";
import { startMoto, type MotoServer } from "../env/moto.js";

const CLUSTER = `ctr${process.pid}`;
const NLB = { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" };
const TWO_PORTS: readonly SpecPort[] = [
  { name: "http", port: 80, nodePort: 30080 },
  { name: "https", port: 443, nodePort: 30443 },
];
// A create makes about ten mutating calls; stopping at the first, middle and last keeps the file near a minute.
const options = { stopPoints: "sample", timeout: 120_000 } as const;

let moto: MotoServer | undefined;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

function started(): MotoServer {
  if (moto === undefined) throw new Error("moto did not start");
  return moto;
}

describeProviderContract(
  "aws NLB, instance targets",
  () => awsContractWorld(started(), CLUSTER, { annotations: NLB, ports: TWO_PORTS }),
  options,
);
describeProviderContract(
  "aws NLB, ip targets",
  () =>
    awsContractWorld(started(), CLUSTER, {
      annotations: NLB,
      endpoints: [
        { ip: "10.0.100.10", ports: { http: 8080 } },
        { ip: "10.0.101.11", ports: { http: 8080 } },
      ],
    }),
  options,
);
describeProviderContract("aws classic ELB", () => awsContractWorld(started(), CLUSTER, { ports: TWO_PORTS }), options);
