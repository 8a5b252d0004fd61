import { describe, expect, it } from "vitest";
import { NftError, NftNotFoundError } from "./nft-errors.js";
import { createNftRunner } from "./nft-runner.js";

// The runner is exercised with stand-in commands (cat, sh, sleep): what matters is how it passes stdin,
// reports exit codes and stderr, and enforces its timeout, not nft itself (test/integration covers that).
describe("createNftRunner", () => {
  it("passes stdin and returns stdout", async () => {
    const run = createNftRunner({ command: "cat" });
    expect(await run([], "table ip x {}\n")).toEqual({ stdout: "table ip x {}\n", stderr: "" });
  });

  it("runs the command behind a prefix, with the arguments after it", async () => {
    const run = createNftRunner({ command: "echo", prefix: ["env", "LC_ALL=C"] });
    expect((await run(["list", "tables"])).stdout).toBe("list tables\n");
  });

  it("rejects a non-zero exit with NftError carrying stderr and the exit code", async () => {
    const run = createNftRunner({ command: "sh" });
    const err = await run(["-c", "echo 'Error: No such file or directory' >&2; exit 3"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftError);
    expect((err as NftError).exitCode).toBe(3);
    expect((err as NftError).stderr).toBe("Error: No such file or directory\n");
    expect((err as NftError).message).toContain("exited with code 3: Error: No such file or directory");
  });

  it("reports a missing binary clearly", async () => {
    const run = createNftRunner({ command: "/nonexistent/nft" });
    const err = await run(["list", "ruleset"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftNotFoundError);
    expect((err as Error).message).toMatch(/\/nonexistent\/nft not found: install nftables/);
  });

  it("kills a run that exceeds the timeout", async () => {
    const run = createNftRunner({ command: "sleep", timeoutMs: 100 });
    const started = Date.now();
    const err = await run(["5"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftError);
    expect((err as Error).message).toContain("timed out after 100 ms");
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
