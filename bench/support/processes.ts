/**
 * Child processes of the bench (the controller, the baseline patcher) and what /proc says about any process:
 * resident memory, open file descriptors, CPU time.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from "node:fs";

const live = new Set<ChildProcess>();
let hooked = false;

/** SIGKILLs every child still running: for the 'exit' hook and Ctrl-C (synchronous on purpose). */
export function killAllChildren(): void {
  for (const child of live) child.kill("SIGKILL");
}

// setpriv makes the kernel SIGKILL the child when the bench dies, even by SIGKILL (test/env/control-plane.ts does the same).
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly logPath: string;
  readonly exited: Promise<void>;
  /** Exit code or signal once exited, else undefined. */
  exitStatus(): string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `process.execPath args` (Node 24, the bench's own node). stdout is piped when `pipeStdout`, else logged. */
export function spawnNode(name: string, args: string[], options: { cwd: string; logPath: string; pipeStdout?: boolean }): Child {
  if (!hooked) {
    hooked = true;
    process.on("exit", killAllChildren);
  }
  const fd = openSync(options.logPath, "a");
  const argv = [process.execPath, ...args];
  const [cmd, rest] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", ...argv]] : [argv[0]!, argv.slice(1)];
  const child = spawn(cmd, rest, { cwd: options.cwd, stdio: ["ignore", options.pipeStdout ? "pipe" : fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  live.add(child);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    const finish = (): void => {
      done = true;
      live.delete(child);
      resolve();
    };
    child.once("exit", finish);
    child.once("error", finish);
  });
  return {
    name,
    pid: child.pid,
    process: child,
    logPath: options.logPath,
    exited,
    exitStatus: () => (done ? String(child.exitCode ?? child.signalCode) : undefined),
    stop: async (graceMs = 5_000) => {
      if (done) return;
      child.kill("SIGTERM");
      const timer = new Promise<"timeout">((r) => setTimeout(r, graceMs, "timeout").unref());
      if ((await Promise.race([exited, timer])) === "timeout") child.kill("SIGKILL");
      await exited;
    },
  };
}

export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface ProcMemory {
  rssBytes: number;
  /** VmHWM: the kernel's peak RSS since the process started. */
  peakRssBytes: number;
  /** RssAnon (heaps, malloc arenas, stacks) and RssFile (mapped files: the node binary, shared libraries). */
  anonBytes: number;
  fileBytes: number;
}

export function readMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string): number => Number(/^(\S+):\s+(\d+) kB$/m.exec(status.split("\n").find((l) => l.startsWith(`${field}:`)) ?? "")?.[2] ?? 0) * 1024;
    return { rssBytes: kb("VmRSS"), peakRssBytes: kb("VmHWM"), anonBytes: kb("RssAnon"), fileBytes: kb("RssFile") };
  } catch {
    return undefined;
  }
}

export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds of a process (not its children), or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm) ": state is index 0, utime index 11, stime index 12 (proc(5) fields 14 and 15).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine (all cores, all processes) since boot, from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return (total - (f[3] ?? 0) - (f[4] ?? 0)) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return `pid ${pid}`;
  }
}

/** Samples VmRSS and open fds of one process every `periodMs` and keeps the maxima. */
export class ProcSampler {
  maxRssBytes = 0;
  peakRssBytes = 0;
  maxFds = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    private readonly periodMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
    return this;
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): ProcMemory | undefined {
    const mem = readMemory(this.pid);
    if (mem) {
      this.maxRssBytes = Math.max(this.maxRssBytes, mem.rssBytes);
      this.peakRssBytes = Math.max(this.peakRssBytes, mem.peakRssBytes);
    }
    this.maxFds = Math.max(this.maxFds, openFds(this.pid) ?? 0);
    return mem;
  }
}
