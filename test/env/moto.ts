/**
 * moto in server mode (../shared/reference/aws.md section 6) for the AWS provider's integration tests: one
 * `moto_server` per call on a free loopback port, with the real AWS SDK v3 clients pointed at it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { LbOperatorError } from "../../src/errors.js";
import type { AwsClients } from "../../providers/aws/aws-types.js";
import { freePort } from "./control-plane.js";

export class MotoError extends LbOperatorError {}

export interface MotoCredentials { readonly accessKeyId: string; readonly secretAccessKey: string }

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
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let handlersInstalled = false;

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL cannot be ignored, so nothing is left to wait for.
  const killAll = (): void => {
    for (const child of liveChildren) child.kill("SIGKILL");
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      killAll();
      process.off(signal, onSignal);
      // Our listener suppressed the default action; restore it unless someone else handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

let binary: Promise<string> | undefined;

/** Runs scripts/install-moto.sh once per process (it installs from PyPI on first use, then reuses its venv). */
export function resolveMotoServer(): Promise<string> {
  binary ??= new Promise<string>((resolve, reject) => {
    const script = fileURLToPath(new URL("../../scripts/install-moto.sh", import.meta.url));
    const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { out += chunk; });
    child.on("error", (err) => reject(new MotoError("cannot run install-moto.sh", { cause: err })));
    child.on("close", (code) => {
      const bin = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) reject(new MotoError(`install-moto.sh exited with ${code}`));
      else if (!existsSync(bin)) reject(new MotoError(`install-moto.sh printed ${JSON.stringify(bin)}, which does not exist`));
      else resolve(bin);
    });
  });
  binary.catch(() => { binary = undefined; });
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

// setpriv makes the kernel SIGKILL the child when this process dies, even by SIGKILL, where no handler runs.
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

function logTail(logPath: string, lines = 40): string {
  try {
    return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
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
  installCleanupHandlers();
  const dir = mkdtempSync(join(tmpdir(), "lb-operator-moto-"));
  liveDirs.add(dir);
  const logPath = join(dir, "moto.log");
  const port = await freePort("127.0.0.1");
  const endpoint = `http://127.0.0.1:${port}`;

  const fd = openSync(logPath, "a");
  const args = ["-H", "127.0.0.1", "-p", String(port)];
  const [cmd, argv] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  liveChildren.add(child);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    const finish = (): void => { done = true; liveChildren.delete(child); resolve(); };
    child.once("exit", finish);
    child.once("error", (err) => { writeFileSync(logPath, `spawn failed: ${err.message}\n`, { flag: "a" }); finish(); });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= (async () => {
    if (!done) {
      child.kill("SIGTERM");
      const timer = new Promise<"timeout">((r) => setTimeout(r, 5_000, "timeout").unref());
      if ((await Promise.race([exited, timer])) === "timeout") child.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  })());

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (done) {
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
    endpoint, region: REGION, credentials: CREDENTIALS, pid: child.pid, logPath,
    clients: (endpointOverride) => motoClients(endpointOverride ?? endpoint),
    async reset(): Promise<void> {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST", signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (!res.ok) throw new MotoError(`moto reset answered HTTP ${res.status}`);
    },
    stop,
  };
}
