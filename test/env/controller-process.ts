import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./control-plane.js";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** The real `lb-operator run` as a child process, for tests that need several controllers or a kill. */
export class ControllerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly metricsUrl: string,
    readonly logPath: string,
  ) {}

  /** `entry` is the program to run (default src/main.ts; a test mounting its own plugins passes its own). */
  static async start(args: string[], logDir: string, name: string, entry = MAIN): Promise<ControllerProcess> {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", () => {
        for (const c of live) c.kill("SIGKILL");
      });
    }
    const port = await freePort("127.0.0.1");
    const logPath = join(logDir, `${name}.log`);
    const log = createWriteStream(logPath);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", entry, "run", ...args, "--metrics-bind-address", `127.0.0.1:${port}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    live.add(child);
    child.on("exit", () => live.delete(child));
    const proc = new ControllerProcess(child, `http://127.0.0.1:${port}`, logPath);
    const deadline = Date.now() + 30_000;
    while (!(await proc.metrics().catch(() => undefined))) {
      if (child.exitCode !== null) throw new Error(`controller ${name} exited with ${child.exitCode}; see ${logPath}`);
      if (Date.now() > deadline)
        throw new Error(`controller ${name} did not serve metrics within 30 s; see ${logPath}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return proc;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.metricsUrl}/metrics`);
    return res.text();
  }

  /** The value of an unlabelled metric, or the sum over all label sets. */
  async metric(name: string): Promise<number> {
    const text = await this.metrics();
    let sum = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return sum;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill(signal);
    await exited;
  }
}
