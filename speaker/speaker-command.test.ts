import { describe, expect, it } from "vitest";
import { speakerCommand } from "./speaker-command.js";

/** Runs the command's action up to its first check; every case here fails before any runtime work. */
const run = (...args: string[]) =>
  speakerCommand("speaker")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .parseAsync(["--node-name", "n1", ...args], { from: "user" });

describe("speaker command: heartbeat flags", () => {
  it("requires a key file unless unsigned heartbeats are asked for by name", async () => {
    await expect(run()).rejects.toThrow(/--heartbeat-secret-file is required.*--insecure-unsigned-heartbeats/);
  });

  it("refuses a key file together with --insecure-unsigned-heartbeats", async () => {
    await expect(run("--heartbeat-secret-file", "/k", "--insecure-unsigned-heartbeats")).rejects.toThrow(
      /exclude each other/,
    );
  });

  it("refuses a zero clock skew", async () => {
    await expect(run("--insecure-unsigned-heartbeats", "--heartbeat-max-clock-skew", "0s")).rejects.toThrow(
      /--heartbeat-max-clock-skew must be above zero/,
    );
  });

  it("documents the flags, with the skew's default", () => {
    const help = speakerCommand("speaker").helpInformation();
    expect(help).toContain("--insecure-unsigned-heartbeats");
    expect(help).toMatch(/--heartbeat-max-clock-skew <duration>[\s\S]*default: 30000/);
  });
});
