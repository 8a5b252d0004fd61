/**
 * moto in server mode (../shared/reference/aws.md section 6) for the AWS provider's integration tests: one
 * `moto_server` per call on a free loopback port, with the real AWS SDK v3 clients pointed at it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { LbOperatorError } from "../../src/errors.js";
import type { AwsClients } from "../../providers/aws/aws-types.js";
import { freePort } from "./control-plane.js";
import {
  launchManaged,
  logTail,
  printsExistingPath,
  removeDir,
  runInstallScript,
  trackDir,
} from "./managed-process.js";

export class MotoError extends LbOperatorError {}

export interface MotoCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly region: "us-east-1";
  /** Static credentials; moto accepts any, the SDK needs some to sign. */
  readonly credentials: MotoCredentials;
  readonly pid: number | undefined;
  readonly logPath: string;
  /**
   * New SDK clients (maxAttempts 1: awsCall owns retries) on `endpointOverride` (an aws-fault-proxy in front
   * of this server) or on the server itself.
   */
  clients(endpointOverride?: string): AwsClients;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Kills the server and removes its log directory; idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const REGION = "us-east-1";
const CREDENTIALS: MotoCredentials = { accessKeyId: "testing", secretAccessKey: "testing" };

// Module-wide so the exit and signal handlers can reach every server this process started.
let binary: Promise<string> | undefined;

/** Runs scripts/install-moto.sh once per process (it installs from PyPI on first use, then reuses its venv). */
export function resolveMotoServer(): Promise<string> {
  binary ??= runInstallScript("install-moto.sh", printsExistingPath);
  binary.catch(() => {
    binary = undefined;
  });
  return binary;
}

/** SDK clients for moto (or a proxy in front of it). */
export function motoClients(endpoint: string, credentials: MotoCredentials = CREDENTIALS): AwsClients {
  const config = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  return {
    elbv2: new ElasticLoadBalancingV2Client(config),
    elb: new ElasticLoadBalancingClient(config),
    ec2: new EC2Client(config),
  };
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export async function startMoto(): Promise<MotoServer> {
  const bin = await resolveMotoServer();
  const dir = mkdtempSync(join(tmpdir(), "lb-operator-moto-"));
  trackDir(dir);
  const logPath = join(dir, "moto.log");
  const port = await freePort("127.0.0.1");
  const endpoint = `http://127.0.0.1:${port}`;

  const { child, exited, done } = launchManaged(bin, ["-H", "127.0.0.1", "-p", String(port)], logPath);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!done()) {
        child.kill("SIGTERM");
        const timer = new Promise<"timeout">((r) => setTimeout(r, 5_000, "timeout").unref());
        if ((await Promise.race([exited, timer])) === "timeout") child.kill("SIGKILL");
        await exited;
      }
      removeDir(dir);
    })());

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (done()) {
      const log = logTail(logPath);
      await stop();
      throw new MotoError(`moto_server exited (${child.exitCode ?? child.signalCode}) before it answered:\n${log}`);
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      const log = logTail(logPath);
      await stop();
      throw new MotoError(`moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000}s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    pid: child.pid,
    logPath,
    clients: (endpointOverride) => motoClients(endpointOverride ?? endpoint),
    async reset(): Promise<void> {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST", signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (!res.ok) throw new MotoError(`moto reset answered HTTP ${res.status}`);
    },
    stop,
  };
}
