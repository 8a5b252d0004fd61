/**
 * The two controllers bench/aws-calls.ts races on one moto: cloud-provider-aws's cloud controller manager (the
 * anchor, built by scripts/install-aws-cloud-controller-manager.sh) and our `lb-operator run --provider aws`. Both
 * run as child processes against the same apiserver, with every AWS call sent to the same counting proxy in front
 * of moto, so both are counted the same way (aws-counting-proxy.ts).
 *
 * The CCM runs its service controller only. Its cloud-config sets the region, VPC, a subnet and the cluster id,
 * which together make newAWSCloud2 (pkg/providers/v1/aws.go) skip the instance-metadata lookups it does to find
 * its own instance ("the master runs in a different account"), and points EC2, ELB and ELBv2 at the proxy through
 * [ServiceOverride] sections, whose Service names are the SDK v2 ServiceIDs config.go compares them with.
 * AWS_EC2_METADATA_DISABLED keeps the SDK's credential chain from asking IMDS either.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LbOperatorError } from "../../src/errors.js";
import { ControllerProcess } from "../../test/env/controller-process.js";
import type { ControlPlane } from "../../test/env/control-plane.js";
import {
  exitStatus,
  launchManaged,
  logTail,
  runInstallScript,
  terminateManaged,
} from "../../test/env/managed-process.js";

export class ContenderError extends LbOperatorError {}

export type ContenderName = "cpa" | "ours";

/** One controller: started, stopped and restarted between phases by the race. */
export interface Contender {
  readonly name: ContenderName;
  /** spec.loadBalancerClass of the Services it handles; undefined: class-less Services (the CCM's). */
  readonly loadBalancerClass: string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reconciles of a Service that ended in success since the last start (a restart's no-op ends at N). */
  ensuredSinceStart(): Promise<number>;
}

export interface RaceAccount {
  readonly cp: ControlPlane;
  /** The counting proxy's endpoint, http://127.0.0.1:<port>. */
  readonly awsEndpoint: string;
  readonly region: string;
  readonly clusterId: string;
  readonly vpcId: string;
  /** Any subnet of the VPC: with VPC and the cluster id, it spares the CCM its self-instance lookup. */
  readonly subnetId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export const OUR_CLASS = "lb-operator.io/aws";

/** Resolves the CCM binary, building it on first use (about 3 minutes; printed by the script). */
export async function resolveAwsCcm(): Promise<string> {
  const dir = await runInstallScript("install-aws-cloud-controller-manager.sh", (last) =>
    last.startsWith("/") ? undefined : `printed ${JSON.stringify(last)}, not a directory`,
  );
  return join(dir, "aws-cloud-controller-manager");
}

/** The SDK v2 ServiceIDs cloud-provider-aws's config.go matches overrides against. */
const OVERRIDDEN = ["EC2", "Elastic Load Balancing", "Elastic Load Balancing v2"];

export function ccmCloudConfig(a: RaceAccount): string {
  const lines = [
    "[Global]",
    `Region = ${a.region}`,
    `VPC = ${a.vpcId}`,
    `SubnetID = ${a.subnetId}`,
    `KubernetesClusterID = ${a.clusterId}`,
  ];
  for (const [i, service] of OVERRIDDEN.entries()) {
    lines.push(
      "",
      `[ServiceOverride "${i + 1}"]`,
      `Service = ${service}`,
      `Region = ${a.region}`,
      `URL = ${a.awsEndpoint}`,
      `SigningRegion = ${a.region}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Moto's static credentials and no IMDS, for both children, which inherit this process's environment. Set once
 * by the bench before either starts (ControllerProcess spawns after an await, so a scoped change would be gone).
 */
export function exportAwsEnv(a: RaceAccount): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: a.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: a.credentials.secretAccessKey,
    AWS_REGION: a.region,
    AWS_EC2_METADATA_DISABLED: "true",
  });
}

export function ccmContender(bin: string, a: RaceAccount): Contender {
  const dir = a.cp.dir;
  const config = join(dir, "cloud-config");
  writeFileSync(config, ccmCloudConfig(a));
  const logPath = join(dir, "ccm.log");
  // The service controller's event broadcaster logs every Event (StartStructuredLogging(0)), EnsuredLoadBalancer
  // included, which it records after each successful EnsureLoadBalancer (cloud-provider controllers/service).
  const ensuredInLog = (): number => {
    const text = existsSync(logPath) ? readFileSync(logPath, "utf8") : "";
    return text.split('reason="EnsuredLoadBalancer"').length - 1;
  };
  let ensuredAtStart = 0;
  const args = [
    "--cloud-provider=aws",
    `--cloud-config=${config}`,
    `--kubeconfig=${a.cp.kubeconfigPath}`,
    "--controllers=service",
    "--leader-elect=false",
    "--use-service-account-credentials=false",
    "--secure-port=0",
    "--configure-cloud-routes=false",
    "--v=2",
  ];
  let proc: ReturnType<typeof launchManaged> | undefined;
  return {
    name: "cpa",
    loadBalancerClass: undefined,
    async start() {
      ensuredAtStart = ensuredInLog();
      proc = launchManaged(bin, args, logPath);
      // No readiness endpoint with --secure-port=0: give it a moment to fail on a bad config, then trust it.
      await new Promise((r) => setTimeout(r, 1_000));
      const status = exitStatus(proc);
      if (status !== undefined) throw new ContenderError(`the CCM exited (${status}):\n${logTail(logPath)}`);
    },
    async stop() {
      if (proc !== undefined) await terminateManaged(proc, 5_000);
    },
    ensuredSinceStart: () => Promise.resolve(ensuredInLog() - ensuredAtStart),
  };
}

export function ourContender(a: RaceAccount): Contender {
  let proc: ControllerProcess | undefined;
  let started = 0;
  const dir = a.cp.dir;
  return {
    name: "ours",
    loadBalancerClass: OUR_CLASS,
    async start() {
      started++;
      proc = await ControllerProcess.start(
        [
          ...["--provider", "aws", "--kubeconfig", a.cp.kubeconfigPath, "--cluster-id", a.clusterId],
          ...["--load-balancer-class", OUR_CLASS, "--aws-endpoint", a.awsEndpoint, "--aws-region", a.region],
          ...["--no-leader-elect", "--log-level", "warn"],
        ],
        dir,
        `ours-${started}`,
      );
    },
    async stop() {
      await proc?.stop();
    },
    async ensuredSinceStart() {
      if (proc === undefined) return 0;
      const text = await proc.metrics();
      return [...text.matchAll(/^lb_operator_reconcile_total\{[^}]*verdict="success"[^}]*\} (\d+)/gm)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
    },
  };
}
