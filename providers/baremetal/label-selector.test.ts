import { describe, expect, it } from "vitest";
import { anySelectorMatches, describeSelector, selectorMatches } from "./label-selector.js";

describe("label selectors (metav1.LabelSelectorAsSelector semantics)", () => {
  const labels = { rack: "r1", zone: "a" };

  it("needs every matchLabels pair and every expression", () => {
    expect(selectorMatches({ matchLabels: { rack: "r1" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { rack: "r1", zone: "b" } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, labels)).toBe(
      false,
    );
    // NotIn and DoesNotExist hold for a missing key; Exists does not.
    expect(selectorMatches({ matchExpressions: [{ key: "gpu", operator: "NotIn", values: ["x"] }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({ matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "gpu", operator: "Exists" }] }, labels)).toBe(false);
  });

  it("matches everything when empty; a list matches when any selector does", () => {
    expect(selectorMatches({}, {})).toBe(true);
    expect(anySelectorMatches([{ matchLabels: { rack: "r2" } }, { matchLabels: { zone: "a" } }], labels)).toBe(true);
    expect(anySelectorMatches([], labels)).toBe(false);
    expect(describeSelector({ matchLabels: { a: "1" }, matchExpressions: [{ key: "b", operator: "Exists" }] })).toBe(
      "a=1,b",
    );
  });
});
