/**
 * Cleanup guarantees of the lab network: every live lab is registered here so a process exit or SIGINT/SIGTERM
 * still kills its processes and deletes its namespaces and root link (synchronously, as 'exit' handlers must),
 * and sweepStaleLabs() removes what a SIGKILLed run left behind, found by the `lbo<pid>` name prefix.
 */
import { type ChildProcess, execFile, execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface LiveLab {
  readonly namespaces: string[];
  readonly rootLink: string;
  readonly processes: Set<ChildProcess>;
  /** Directories to remove if the process exits without a teardown (the lab's own log directory). */
  readonly dirs: string[];
}

/**
 * Module-wide because the process exit and signal handlers must reach every lab this process started; the
 * same pattern (and reason) as control-plane.ts.
 */
const liveLabs = new Set<LiveLab>();
let handlersInstalled = false;

export function registerLab(lab: LiveLab): void {
  installCleanupHandlers();
  liveLabs.add(lab);
}

export function unregisterLab(lab: LiveLab): void {
  liveLabs.delete(lab);
}

/** Root links of the labs this process runs, to pick a prefix no live lab uses. */
export function liveRootLinks(): Set<string> {
  return new Set([...liveLabs].map((l) => l.rootLink));
}

function runSync(args: string[]): string {
  try {
    return execFileSync("ip", args, { stdio: ["ignore", "pipe", "ignore"], encoding: "utf8" });
  } catch {
    return "";
  }
}

/** A namespace is only freed when no process is left in it, including ones started without our spawn(). */
export function killNamespacePidsSync(ns: string): void {
  for (const pid of runSync(["netns", "pids", ns]).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function destroySync(lab: LiveLab): void {
  for (const child of lab.processes) child.kill("SIGKILL");
  for (const ns of lab.namespaces) {
    killNamespacePidsSync(ns);
    runSync(["netns", "del", ns]);
  }
  runSync(["link", "del", lab.rootLink]);
  for (const dir of lab.dirs) rmSync(dir, { recursive: true, force: true });
}

function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const destroyAll = (): void => {
    for (const lab of liveLabs) destroySync(lab);
    liveLabs.clear();
  };
  process.on("exit", destroyAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      destroyAll();
      process.off(signal, onSignal);
      // Our listener suppressed the default action; restore it unless someone else handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The pid in a lab name (`lbo<pid>-...` or `lbo<pid>x<n>-...`), if it is one. */
export function labPid(name: string): number | undefined {
  const pid = /^lbo(\d+)(?:x\d+)?-/.exec(name)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/**
 * Removes namespaces, root-namespace links and temp directories named `lbo<pid>...` whose pid no longer runs:
 * leftovers of a lab whose process was SIGKILLed before its handlers could run. Returns the names it removed.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const stale = (name: string): boolean => {
    const pid = labPid(name);
    return pid !== undefined && pid !== process.pid && !isAlive(pid);
  };
  const ip = async (args: string[]): Promise<string> => (await execFileAsync("ip", args)).stdout;
  const removed: string[] = [];
  const links = (await ip(["-o", "link", "show"])).split("\n").flatMap((l) => /^\d+: ([^:@\s]+)/.exec(l)?.[1] ?? []);
  for (const link of links.filter(stale)) {
    await ip(["link", "del", link]).catch(() => undefined);
    removed.push(link);
  }
  const namespaces = (await ip(["netns", "list"])).split("\n").flatMap((l) => l.split(" ")[0] || []);
  for (const ns of namespaces.filter(stale)) {
    killNamespacePidsSync(ns);
    await ip(["netns", "del", ns]).catch(() => undefined);
    removed.push(ns);
  }
  // Only the lab's own log directories (lab.ts names them lbo<pid>-logs-*), never other temp files.
  for (const dir of readdirSync(tmpdir()).filter((d) => /^lbo\d+-logs-/.test(d) && stale(d))) {
    rmSync(join(tmpdir(), dir), { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
