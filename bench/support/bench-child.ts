/**
 * A contender of bench/reconcile.ts as a child process (our controller, the upstream controller, the floor
 * patcher): started through test/env/managed-process.ts, so it dies with the bench however the bench ends, and
 * named with its log tail in every error, so a crash reads as a crash, not as a timeout.
 */
import { createInterface } from "node:readline";
import { type ManagedChild, exitStatus, launchManaged, logTail } from "../../test/env/managed-process.js";

export interface Child extends ManagedChild {
  readonly name: string;
  readonly pid: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function spawnChild(
  name: string,
  bin: string,
  args: readonly string[],
  options: { cwd: string; logPath: string; pipeStdout?: boolean; env?: Readonly<Record<string, string>> },
): Child {
  const { logPath, ...launch } = options;
  const managed = launchManaged(bin, args, logPath, launch);
  const pid = managed.child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}; log ${logPath}:\n${logTail(logPath)}`);
  return { ...managed, name, pid };
}

/** Rejects if the child exits before it is ready. */
function exitedEarly(child: Child): Promise<never> {
  return child.exited.then(() => {
    throw new Error(
      `${child.name} exited (${exitStatus(child)}) before it was ready; log ${child.logPath}:\n${logTail(child.logPath)}`,
    );
  });
}

/** For a child started with pipeStdout that prints `line` once it is ready. */
export async function waitForLine(child: Child, line: string, timeoutMs: number): Promise<void> {
  const stdout = child.child.stdout;
  if (!stdout) throw new Error(`${child.name}: stdout is not piped`);
  const lines = createInterface(stdout);
  const seen = new Promise<void>((resolve) => lines.on("line", (l) => l.trim() === line && resolve()));
  const timeout = sleep(timeoutMs).then(() => {
    throw new Error(
      `${child.name} did not print "${line}" within ${timeoutMs / 1000} s; log ${child.logPath}:\n${logTail(child.logPath)}`,
    );
  });
  await Promise.race([seen, exitedEarly(child), timeout]);
}

export async function waitForReadyz(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const early = exitedEarly(child);
  early.catch(() => undefined);
  for (;;) {
    if (exitStatus(child) !== undefined) await early;
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${child.name} was not ready (${url}) within ${timeoutMs / 1000} s; log ${child.logPath}:\n${logTail(child.logPath)}`,
      );
    }
    await sleep(200);
  }
}

/** A check for runLoad: throws once the child has exited. */
export function diedCheck(child: Child): () => void {
  return () => {
    const status = exitStatus(child);
    if (status !== undefined)
      throw new Error(
        `${child.name} exited (${status}) during the phase; log ${child.logPath}:\n${logTail(child.logPath)}`,
      );
  };
}
