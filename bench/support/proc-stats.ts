/**
 * What /proc says about a process (resident memory, open file descriptors, CPU time) and about the machine. The
 * bench starts its children with test/env/managed-process.ts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

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
    const kb = (field: string): number =>
      Number(/^(\S+):\s+(\d+) kB$/m.exec(status.split("\n").find((l) => l.startsWith(`${field}:`)) ?? "")?.[2] ?? 0) *
      1024;
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
