import { describe, expect, it } from "vitest";
import type { SkipEntry } from "./skip-lists.js";
import { TargetOptionsError, resolveTarget } from "./target.js";

const plugins = [
  { name: "baremetal", conformanceSkips: [] },
  { name: "aws", conformanceSkips: [{ reason: "aws reason", tests: ["aws case"] }] },
];
const fileSkips: SkipEntry[] = [{ reason: "file reason", tests: ["file case"] }];
const loaded: string[] = [];
const load = (path: string): Promise<SkipEntry[]> => {
  loaded.push(path);
  return Promise.resolve(fileSkips);
};

describe("resolveTarget", () => {
  it("--provider: the plugin's name, its skip list and lb-operator.io/<provider> unless a class is given", async () => {
    expect(await resolveTarget({ provider: "aws" }, plugins, load)).toEqual({
      name: "aws",
      loadBalancerClass: "lb-operator.io/aws",
      skips: plugins[1]!.conformanceSkips,
    });
    const custom = await resolveTarget({ provider: "baremetal", loadBalancerClass: "example.com/lb" }, plugins, load);
    expect(custom.loadBalancerClass).toBe("example.com/lb");
  });

  it("--provider with --skip-list: the plugin's entries first (the first reason wins), then the file's", async () => {
    const target = await resolveTarget({ provider: "aws", skipList: "extra.yaml" }, plugins, load);
    expect(target.skips).toEqual([...plugins[1]!.conformanceSkips, ...fileSkips]);
    expect(loaded).toContain("extra.yaml");
  });

  it("--implementation: its name, the given class and the file's skip list (none without --skip-list)", async () => {
    expect(
      await resolveTarget(
        { implementation: "metallb", loadBalancerClass: "metallb.io/metallb", skipList: "m.json" },
        plugins,
        load,
      ),
    ).toEqual({ name: "metallb", loadBalancerClass: "metallb.io/metallb", skips: fileSkips });
    const bare = await resolveTarget({ implementation: "other", loadBalancerClass: "x.io/y" }, plugins, load);
    expect(bare.skips).toEqual([]);
  });

  it("refuses --implementation without a class: there is no default to guess", async () => {
    await expect(resolveTarget({ implementation: "metallb" }, plugins, load)).rejects.toThrow(
      /--implementation metallb needs --load-balancer-class/,
    );
  });

  it("refuses neither or both of --provider and --implementation, naming our providers", async () => {
    for (const flags of [{}, { provider: "aws", implementation: "metallb", loadBalancerClass: "a/b" }]) {
      const err = await resolveTarget(flags, plugins, load).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetOptionsError);
      expect((err as Error).message).toContain("exactly one of --provider <name> (ours: baremetal, aws)");
    }
  });

  it("refuses a provider that is not a plugin, before reading any skip list", async () => {
    loaded.length = 0;
    await expect(resolveTarget({ provider: "nope", skipList: "s.json" }, plugins, load)).rejects.toThrow(
      TargetOptionsError,
    );
    expect(loaded).toEqual([]);
  });
});
