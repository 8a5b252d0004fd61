/**
 * What every long-lived helper process of the test environment needs (kube-apiserver, etcd, moto_server): tool
 * resolution through the repository's install scripts, a child that dies with this process even on SIGKILL, its
 * log, and temp dirs and children removed by exit and signal handlers when a test run ends early.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LbOperatorError } from "../../src/errors.js";

export class InstallScriptError extends LbOperatorError {}

/**
 * Runs `scripts/<script>` (which installs or builds on first use and reuses its cache afterwards) and resolves
 * with the last line it prints, once `check(lastLine)` returns no complaint.
 */
export function runInstallScript(
  script: string,
  check: (lastLine: string) => string | undefined,
  env: Readonly<Record<string, string>> = {},
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const path = fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url));
    const child = spawn("bash", [path], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.on("error", (err) => reject(new InstallScriptError(`cannot run ${script}`, { cause: err })));
    child.on("close", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      const complaint = code === 0 ? check(last) : `exited with ${code}`;
      if (complaint === undefined) resolve(last);
      else reject(new InstallScriptError(`${script} ${complaint}`));
    });
  });
}

/** The usual check: the script printed the path of a file that exists. */
export const printsExistingPath = (last: string): string | undefined =>
  existsSync(last) ? undefined : `printed ${JSON.stringify(last)}, which does not exist`;

// Module-wide so the exit and signal handlers reach the children and dirs of every harness.
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

/** Removed at exit unless released first. */
export function trackDir(dir: string): void {
  installCleanupHandlers();
  liveDirs.add(dir);
}

/** Removes `dir` now and forgets it. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

export interface ManagedChild {
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Resolves when the child exited or could not be spawned. */
  readonly exited: Promise<void>;
  readonly done: () => boolean;
}

// setpriv makes the kernel SIGKILL the child when this process dies, even by SIGKILL, where no handler runs.
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export interface LaunchOptions {
  /** The child's working directory (default: this process's). */
  readonly cwd?: string;
  /** Pipe stdout to `child.stdout` instead of the log, for a child that reports on it (a "ready" line, say). */
  readonly pipeStdout?: boolean;
  /** Added to this process's environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `bin args` with stdout (unless piped) and stderr appended to `logPath`, killed with this process however
 * it ends.
 */
export function launchManaged(
  bin: string,
  args: readonly string[],
  logPath: string,
  options: LaunchOptions = {},
): ManagedChild {
  installCleanupHandlers();
  const fd = openSync(logPath, "a");
  const [cmd, argv] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", bin, ...args]] : [bin, [...args]];
  const child = spawn(cmd, argv, {
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : process.env,
    stdio: ["ignore", options.pipeStdout ? "pipe" : fd, fd],
  });
  closeSync(fd);
  liveChildren.add(child);
  const managed = watchChild(child, logPath);
  void managed.exited.then(() => liveChildren.delete(child));
  return managed;
}

/** A ManagedChild view of a child someone else started and cleans up (a lab namespace's process, say). */
export function watchChild(child: ChildProcess, logPath: string): ManagedChild {
  let done = child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => {
    if (done) resolve();
    const finish = (): void => {
      done = true;
      resolve();
    };
    child.once("exit", finish);
    child.once("error", (err) => {
      writeFileSync(logPath, `spawn failed: ${err.message}\n`, { flag: "a" });
      finish();
    });
  });
  return { child, logPath, exited, done: () => done };
}

/** The exit code, or the signal that ended it, once the child has exited; undefined while it runs. */
export function exitStatus(proc: ManagedChild): string | undefined {
  return proc.done() ? String(proc.child.exitCode ?? proc.child.signalCode) : undefined;
}

/** SIGTERM (SIGKILL after `graceMs`; at once when 0) and wait for the exit. */
export async function terminateManaged(proc: ManagedChild, graceMs: number): Promise<void> {
  if (proc.done()) return;
  proc.child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
  const timer = new Promise<"timeout">((r) => setTimeout(r, graceMs, "timeout").unref());
  if ((await Promise.race([proc.exited, timer])) === "timeout") proc.child.kill("SIGKILL");
  await proc.exited;
}

export interface ReadyWait {
  /** Names the process in errors, e.g. "kube-proxy (/path) on node-1". */
  readonly name: string;
  /** What ready means, for errors: "it was ready", "<url> answered 200". */
  readonly what: string;
  readonly timeoutMs: number;
  readonly probe: () => Promise<boolean>;
  /** The error to throw (the caller's error class). */
  readonly error: (message: string) => Error;
}

/**
 * Polls `probe` until it passes. A process that exits first, or is not ready in time (then SIGKILLed), fails with
 * an error naming it, its log and the log's last lines.
 */
export async function waitUntilReady(proc: ManagedChild, wait: ReadyWait): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    if (proc.done()) {
      throw wait.error(
        `${wait.name} exited before ${wait.what}; log ${proc.logPath} (exit ${exitStatus(proc)}):\n${logTail(proc.logPath)}`,
      );
    }
    if (await wait.probe()) return;
    if (Date.now() > deadline) {
      await terminateManaged(proc, 0);
      throw wait.error(
        `${wait.name} not ready (${wait.what}) after ${wait.timeoutMs / 1000}s; log ${proc.logPath}:\n${logTail(proc.logPath)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function logTail(logPath: string, lines = 40): string {
  try {
    return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
