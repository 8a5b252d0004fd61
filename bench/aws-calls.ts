/**
 * bench/aws-calls.ts: AWS API calls per Service of our AWS provider against the real cloud-provider-aws (CPA: the
 * AWS cloud controller manager v1.36.2, built from its module by scripts/install-aws-cloud-controller-manager.sh),
 * raced on one moto (issue 14). Not a test: nothing is asserted, the numbers are printed.
 *
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/aws-calls.ts --sizes 1,50
 *
 * One real apiserver (test/env/control-plane.ts), one moto (test/env/moto.ts) behind one counting proxy
 * (support/aws-counting-proxy.ts, which also gives NLBs AWS's DNS names), one world (test/env/aws-world.ts: cluster
 * "bench", a VPC, tagged subnets in two zones, a node security group, --nodes instances with their Nodes). Both
 * controllers are child processes whose every AWS endpoint is the proxy (support/aws-contenders.ts), and only one
 * runs at a time. Per kind (NLB, then classic ELB with --clb 1) and size N, CPA runs the five scenarios of
 * support/aws-race.ts on N class-less Services, then ours on N Services of its class, same annotations.
 *
 * What it does not say: moto answers in milliseconds, so seconds are moto's, not AWS's; moto never throttles, so
 * neither controller's retries show. Counts are every request the proxy forwarded, failed ones included.
 */
import { copyFileSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LbOperatorError, errorMessage } from "../src/errors.js";
import { createAwsWorld } from "../test/env/aws-world.js";
import { startControlPlane, type ControlPlane } from "../test/env/control-plane.js";
import { startMoto, type MotoServer } from "../test/env/moto.js";
import { KubeTestClient } from "../testing/kube-test-client.js";
import { ccmContender, exportAwsEnv, ourContender, resolveAwsCcm, type RaceAccount } from "./support/aws-contenders.js";
import { startCountingProxy, type CountingProxy } from "./support/aws-counting-proxy.js";
import { accountLeftovers, raceBlock, registerNode, type RaceKind, type RaceWorld } from "./support/aws-race.js";
import { raceReport } from "./support/aws-race-report.js";
import { parseBenchOptions } from "./support/bench-options.js";

class BenchSetupError extends LbOperatorError {}

const CLUSTER_ID = "bench";
const MAX_SERVICES = 500;

const HELP = `usage: node --import tsx bench/aws-calls.ts [options]
  --sizes LIST     Service counts, run in order for each kind (default 1,50; at most ${MAX_SERVICES})
  --nlb 0|1        race NLB Services (default 1)
  --clb 0|1        race classic ELB Services (default 1)
  --nodes N        instances (Nodes) the world starts with (default 3)
  --quiet-ms MS    a phase ends this long after the last AWS call, once its end state holds (default 5000)
  -h, --help`;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Copies both controllers' logs and the CCM's cloud-config out of the control plane's directory, which goes. */
function keepLogs(dir: string): string {
  const keep = mkdtempSync(join(tmpdir(), "aws-calls-logs-"));
  for (const f of readdirSync(dir))
    if (f.endsWith(".log") || f === "cloud-config") copyFileSync(join(dir, f), join(keep, f));
  return keep;
}

async function main(): Promise<void> {
  const o = parseBenchOptions(HELP, { sizes: "1,50", nlb: "1", clb: "1", nodes: "3", "quiet-ms": "5000" });
  const sizes = o.ints("sizes", 1, MAX_SERVICES);
  const kinds: RaceKind[] = [
    ...(o.int("nlb", 0, 1) ? ["nlb" as const] : []),
    ...(o.int("clb", 0, 1) ? ["clb" as const] : []),
  ];
  const nodes = o.int("nodes", 1, 50);
  const quietMs = o.int("quiet-ms", 500, 60_000);
  const started = performance.now();
  let cp: ControlPlane | undefined;
  let moto: MotoServer | undefined;
  let proxy: CountingProxy | undefined;
  try {
    const ccmBuild = performance.now();
    const ccmBin = await resolveAwsCcm();
    log(`bench: CCM at ${ccmBin} (resolved in ${((performance.now() - ccmBuild) / 1000).toFixed(0)} s)`);
    [cp, moto] = await Promise.all([startControlPlane(), startMoto()]);
    proxy = await startCountingProxy(moto.endpoint);
    const raw = moto.clients();
    const world = await createAwsWorld(raw, { clusterId: CLUSTER_ID, nodes });
    const kube = new KubeTestClient(cp.kubeConfig());
    for (const node of world.nodes()) await registerNode(kube, node);
    const subnet = world.publicSubnets[0];
    if (subnet === undefined) throw new BenchSetupError("the world has no public subnet");
    const account: RaceAccount = {
      cp,
      awsEndpoint: proxy.endpoint,
      region: moto.region,
      clusterId: CLUSTER_ID,
      vpcId: world.vpcId,
      subnetId: subnet.id,
      credentials: moto.credentials,
    };
    exportAwsEnv(account);
    const contenders = [ccmContender(ccmBin, account), ourContender(account)];
    const w: RaceWorld = { kube, world, proxy, raw, quietMs, log };
    log(
      `bench: apiserver ${cp.server}, moto ${moto.endpoint} behind ${proxy.endpoint}; ${kinds.join(", ")} at ${sizes.join(", ")}`,
    );
    for (const kind of kinds) {
      for (const n of sizes) {
        const [cpa, ours] = [await raceBlock(w, contenders[0]!, kind, n), await raceBlock(w, contenders[1]!, kind, n)];
        const left = await accountLeftovers(raw, [world.nodeSecurityGroupId]);
        process.stdout.write(`\n${raceReport(cpa, ours)}\nafter both deletes: ${left}\n`);
      }
    }
  } catch (err) {
    log(`\nbench FAILED: ${err instanceof Error ? (err.stack ?? err.message) : errorMessage(err)}`);
    if (moto) log(`moto log: ${moto.logPath}`);
    process.exitCode = 1;
  } finally {
    if (cp) log(`bench: controller logs kept in ${keepLogs(cp.dir)}`);
    await proxy?.stop();
    await moto?.stop();
    await cp?.stop();
  }
  process.stdout.write(
    `\nCPA = k8s.io/cloud-provider-aws v1.36.2 aws-cloud-controller-manager --controllers=service (defaults otherwise);` +
      ` ours = lb-operator run --provider aws (defaults otherwise)\ntotal bench time ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

await main();
// The SDK's keep-alive sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
