import { Option } from "commander";
import { describe, expect, it } from "vitest";
import { PROVIDER_PLUGINS } from "../plugins.js";
import type { ProviderPlugin } from "../provider-plugin.js";
import { buildCli } from "./program.js";
import { DuplicateFlagError } from "./run-command.js";

const stub = (name: string, flags: string[]): ProviderPlugin => ({
  name,
  flags: () => flags.map((f) => new Option(f, `${name} flag`)),
  create: () => Promise.reject(new Error("not built in this test")),
  conformanceSkips: [],
});

const command = (plugins: readonly ProviderPlugin[], name: string) => {
  const found = buildCli(plugins).commands.find((c) => c.name() === name);
  if (found === undefined) throw new Error(`no ${name} command`);
  return found;
};

describe("buildCli", () => {
  it("offers exactly the plugins' names to run --provider and conformance --provider", () => {
    const plugins = [...PROVIDER_PLUGINS, stub("skeleton", ["--skeleton-zone <z>"])];
    for (const name of ["run", "conformance"]) {
      const provider = command(plugins, name).options.find((o) => o.long === "--provider");
      expect(provider?.argChoices).toEqual(["baremetal", "aws", "gce", "skeleton"]);
    }
  });

  it("adds every plugin's flags to run, and only to run", () => {
    const run = command(PROVIDER_PLUGINS, "run").options.map((o) => o.long);
    expect(run).toEqual(
      expect.arrayContaining(["--address-pool", "--announce-only", "--aws-region", "--gce-region", "--gce-node-tags"]),
    );
    expect(command(PROVIDER_PLUGINS, "conformance").options.map((o) => o.long)).not.toContain("--aws-region");
  });

  it("mounts a plugin's own commands: bare metal's speaker", () => {
    expect(buildCli().commands.map((c) => c.name())).toEqual(["run", "speaker", "conformance"]);
  });

  it("refuses a plugin flag that collides with a core flag or another plugin's", () => {
    expect(() => buildCli([stub("a", ["--workers <n>"])])).toThrow(DuplicateFlagError);
    expect(() => buildCli([stub("a", ["--zone <z>"]), stub("b", ["--zone <z>"])])).toThrow(
      'provider plugin "b" declares --zone',
    );
  });

  it("rejects an unknown provider before building anything", async () => {
    const program = buildCli([stub("only", [])]).exitOverride();
    program.commands.forEach((c) => c.exitOverride().configureOutput({ writeErr: () => undefined }));
    await expect(program.parseAsync(["node", "lb-operator", "run", "--provider", "nope"])).rejects.toThrow(
      /Allowed choices are only/,
    );
  });
});
