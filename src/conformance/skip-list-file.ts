/**
 * A skip list for an implementation that is not one of our plugins (`lb-operator conformance --skip-list <file>`):
 * a YAML or JSON document `{ about?, skips: [{ reason, tests: [case name...] }] }`, the same SkipEntry shape a
 * plugin's `conformanceSkips` has. Case names are checked by `resolveSkips`, so an unknown name fails the run too.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { LbOperatorError } from "../errors.js";
import type { SkipEntry } from "./skip-lists.js";

const skipListSchema = z.strictObject({
  /** What the list is for (JSON has no comments); not used by the runner. */
  about: z.string().optional(),
  skips: z.array(
    z.strictObject({
      reason: z.string().trim().min(1, "a skip needs a reason a reader can check"),
      tests: z.array(z.string().min(1)).min(1),
    }),
  ),
});

/** The skip-list file cannot be read, is not YAML/JSON, or does not have the shape above. */
export class SkipListFileError extends LbOperatorError {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`--skip-list ${path}: ${problem}`, options);
  }
}

/** Parses a skip list's text (JSON is valid YAML, so one parser reads both); `source` names it in errors. */
export function parseSkipList(text: string, source: string): SkipEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new SkipListFileError(source, `not valid YAML or JSON: ${(err as Error).message.split("\n")[0] ?? ""}`, {
      cause: err,
    });
  }
  const result = skipListSchema.safeParse(doc);
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.length > 0 ? i.path.join(".") : "document"}: ${i.message}`,
    );
    throw new SkipListFileError(source, problems.join("; "), { cause: result.error });
  }
  return result.data.skips;
}

export async function loadSkipList(path: string): Promise<SkipEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new SkipListFileError(path, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
  return parseSkipList(text, path);
}
