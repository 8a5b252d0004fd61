import { mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { exitStatus, launchManaged, removeDir, terminateManaged, trackDir } from "./managed-process.js";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "managed-process-")));
trackDir(dir);
afterAll(() => removeDir(dir));

const node = (script: string): string[] => ["-e", script];

describe("launchManaged", () => {
  it("logs stdout and stderr, and reports the exit code once the child has exited", async () => {
    const log = join(dir, "logged.log");
    const proc = launchManaged(
      process.execPath,
      node("console.log('out'); console.error('err'); process.exit(3)"),
      log,
    );
    await proc.exited;
    expect(exitStatus(proc)).toBe("3");
    expect(readFileSync(log, "utf8").split("\n").filter(Boolean).sort()).toEqual(["err", "out"]);
  });

  it("runs in the given directory and pipes stdout when asked, still logging stderr", async () => {
    const log = join(dir, "piped.log");
    const proc = launchManaged(process.execPath, node("console.log(process.cwd()); console.error('err')"), log, {
      cwd: dir,
      pipeStdout: true,
    });
    const stdout = proc.child.stdout;
    if (!stdout) throw new Error("stdout is not piped");
    const lines: string[] = [];
    for await (const line of createInterface(stdout)) lines.push(line);
    await proc.exited;
    expect(lines).toEqual([dir]);
    expect(readFileSync(log, "utf8")).toBe("err\n");
  });

  it("has no exit status while running, and the signal once terminated", async () => {
    const proc = launchManaged(process.execPath, node("setInterval(() => {}, 1000)"), join(dir, "long.log"));
    expect(exitStatus(proc)).toBeUndefined();
    await terminateManaged(proc, 5_000);
    expect(exitStatus(proc)).toBe("SIGTERM");
  });
});
