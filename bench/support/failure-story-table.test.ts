import { describe, expect, it } from "vitest";
import { outcomeTable } from "./failure-story-table.js";

describe("outcomeTable", () => {
  it("has a row per story in first-seen order and '-' where an implementation reported nothing", () => {
    const rows = outcomeTable(
      ["lb-operator", "MetalLB v0.16.1"],
      [
        [
          { story: "a", outcome: "0 failed" },
          { story: "b1", outcome: "stayed" },
        ],
        [
          { story: "b1", outcome: "moved" },
          { story: "c", outcome: "kept" },
        ],
      ],
    );
    expect(rows).toEqual([
      ["story", "lb-operator", "MetalLB v0.16.1"],
      ["a", "0 failed", "-"],
      ["b1", "stayed", "moved"],
      ["c", "-", "kept"],
    ]);
  });
});
