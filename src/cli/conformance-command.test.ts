import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SkipListFileError } from "../conformance/skip-list-file.js";
import { UnknownCaseError } from "../conformance/skip-lists.js";
import { TargetOptionsError } from "../conformance/target.js";
import { PROVIDER_PLUGINS } from "../plugins.js";
import { conformanceCommand } from "./conformance-command.js";

const METALLB_SKIPS = fileURLToPath(new URL("../../conformance/metallb.skips.json", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "conformance-command-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A kubeconfig path that cannot be read: reaching it means every flag before it was accepted. */
const NO_KUBECONFIG = join(dir, "no-such-kubeconfig");

/** Parses `lb-operator conformance ...args`; resolves with what stopped it (nothing reaches a cluster). */
async function parse(args: string[]): Promise<unknown> {
  const command = conformanceCommand(PROVIDER_PLUGINS)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return command.parseAsync(["--kubeconfig", NO_KUBECONFIG, ...args], { from: "user" }).then(
    () => undefined,
    (err: unknown) => err,
  );
}

const reachedKubeconfig = (err: unknown): boolean => err instanceof Error && err.message.includes(NO_KUBECONFIG);

describe("lb-operator conformance: what is judged", () => {
  it("--provider alone is enough, as before", async () => {
    expect(reachedKubeconfig(await parse(["--provider", "baremetal"]))).toBe(true);
  });

  it("--implementation with its class and the shipped MetalLB skip list passes every check before the cluster", async () => {
    const err = await parse([
      "--implementation",
      "metallb",
      "--load-balancer-class",
      "metallb.io/metallb",
      "--skip-list",
      METALLB_SKIPS,
    ]);
    expect(reachedKubeconfig(err), String(err)).toBe(true);
  });

  it("refuses neither, and both, of --provider and --implementation", async () => {
    expect(await parse([])).toBeInstanceOf(TargetOptionsError);
    const both = await parse(["--provider", "aws", "--implementation", "metallb", "--load-balancer-class", "a/b"]);
    expect(String(both)).toMatch(/option '--provider <name>' cannot be used with option '--implementation <name>'/);
  });

  it("refuses --implementation without --load-balancer-class, and a name that cannot go into a JUnit class", async () => {
    expect(String(await parse(["--implementation", "metallb"]))).toMatch(/needs --load-balancer-class/);
    expect(String(await parse(["--implementation", "metal lb", "--load-balancer-class", "a/b"]))).toMatch(
      /--implementation <name>' argument 'metal lb' is invalid/,
    );
  });

  it("takes --unavailable-address as an IP address only", async () => {
    expect(reachedKubeconfig(await parse(["--provider", "gce", "--unavailable-address", "192.0.2.77"]))).toBe(true);
    expect(String(await parse(["--provider", "gce", "--unavailable-address", "outside"]))).toMatch(
      /--unavailable-address <ip>' argument 'outside' is invalid. expected an IPv4 or IPv6 address/,
    );
  });

  it("refuses a skip list that cannot be read, or that names a case the suite does not have", async () => {
    const base = ["--implementation", "x", "--load-balancer-class", "x.io/x", "--skip-list"];
    expect(await parse([...base, join(dir, "missing.json")])).toBeInstanceOf(SkipListFileError);
    const unknown = join(dir, "unknown.yaml");
    writeFileSync(unknown, "skips:\n  - reason: gone\n    tests: [a case that was renamed]\n");
    const err = await parse([...base, unknown]);
    expect(err).toBeInstanceOf(UnknownCaseError);
    expect((err as UnknownCaseError).caseName).toBe("a case that was renamed");
  });
});
