import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { PackageVersionError, packageVersion } from "./package-version.js";

function tree(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), "pkg-version-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), JSON.stringify(content));
  }
  return root;
}

describe("packageVersion", () => {
  it("is this repository's package.json version", async () => {
    const pkg = (await import("../package.json", { with: { type: "json" } })).default as { version: string };
    expect(packageVersion()).toBe(pkg.version);
  });

  it("finds package.json two levels up, as from dist/src/", () => {
    const root = tree({ "package.json": { name: "lb-operator", version: "9.8.7" }, "dist/src/x.json": {} });
    expect(packageVersion(pathToFileURL(join(root, "dist/src/")))).toBe("9.8.7");
  });

  it("skips a package.json of another package and fails clearly when none is ours", () => {
    const root = tree({ "package.json": { name: "someone-else", version: "1.0.0" }, "src/x.json": {} });
    expect(() => packageVersion(pathToFileURL(join(root, "src/")))).toThrow(PackageVersionError);
    expect(() => packageVersion(pathToFileURL(join(root, "src/")))).toThrow(/no package.json of lb-operator above/);
  });
});
