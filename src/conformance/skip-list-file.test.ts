import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SkipListFileError, loadSkipList, parseSkipList } from "./skip-list-file.js";

const dir = mkdtempSync(join(tmpdir(), "skip-list-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseSkipList", () => {
  it("reads JSON and YAML into skip entries; `about` is for readers only", () => {
    const json = JSON.stringify({ about: "x", skips: [{ reason: "r", tests: ["a", "b"] }] });
    const yaml = "about: x\nskips:\n  - reason: r\n    tests: [a, b]\n";
    for (const text of [json, yaml]) expect(parseSkipList(text, "f")).toEqual([{ reason: "r", tests: ["a", "b"] }]);
    expect(parseSkipList("skips: []", "f")).toEqual([]);
  });

  it("refuses an entry without a reason, without tests, or with unknown fields, naming the file and the field", () => {
    const cases: [string, RegExp][] = [
      ['{"skips":[{"reason":" ","tests":["a"]}]}', /skips\.0\.reason: a skip needs a reason/],
      ['{"skips":[{"reason":"r","tests":[]}]}', /skips\.0\.tests/],
      ['{"skips":[{"reason":"r","tests":["a"],"why":"?"}]}', /skips\.0/],
      ['[{"reason":"r","tests":["a"]}]', /--skip-list f: document/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseSkipList(text, "f"), text).toThrow(SkipListFileError);
      expect(() => parseSkipList(text, "f"), text).toThrow(message);
    }
  });

  it("refuses text that is neither YAML nor JSON", () => {
    expect(() => parseSkipList("skips: [unclosed", "f")).toThrow(/--skip-list f: not valid YAML or JSON/);
  });
});

describe("loadSkipList", () => {
  it("reads a file, and reports one it cannot read as a SkipListFileError with the cause", async () => {
    const path = join(dir, "ok.json");
    writeFileSync(path, '{"skips":[{"reason":"r","tests":["a"]}]}');
    expect(await loadSkipList(path)).toEqual([{ reason: "r", tests: ["a"] }]);
    const err = await loadSkipList(join(dir, "missing.json")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkipListFileError);
    expect((err as Error).message).toMatch(/missing\.json: cannot be read: ENOENT/);
    expect((err as Error).cause).toBeDefined();
  });
});
