/**
 * The version `lb-operator --version` prints: package.json's, read when asked (no work at import time). The file
 * sits one level above this module in the source tree (src/) and two above it when compiled (dist/src/), and in
 * the image beside dist/; the first package.json up the tree that names lb-operator is ours.
 */
import { readFileSync } from "node:fs";
import { LbOperatorError } from "./errors.js";

export class PackageVersionError extends LbOperatorError {}

const PACKAGE_NAME = "lb-operator";

export function packageVersion(from: URL = new URL(".", import.meta.url)): string {
  for (const up of ["../package.json", "../../package.json"]) {
    const path = new URL(up, from);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
    if (pkg.name === PACKAGE_NAME && typeof pkg.version === "string") return pkg.version;
  }
  throw new PackageVersionError(`no package.json of ${PACKAGE_NAME} above ${from.pathname}`);
}
