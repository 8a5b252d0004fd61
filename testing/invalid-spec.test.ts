import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../src/errors.js";
import { ExpectedInvalidSpecError, invalidSpecField } from "./invalid-spec.js";

describe("invalidSpecField", () => {
  it("returns the refused field, rethrows other errors and fails when nothing is thrown", () => {
    expect(
      invalidSpecField(() => {
        throw new InvalidSpecError("spec.ports", "bad");
      }),
    ).toBe("spec.ports");
    expect(() =>
      invalidSpecField(() => {
        throw new RangeError("other");
      }),
    ).toThrow(RangeError);
    expect(() => invalidSpecField(() => undefined)).toThrow(ExpectedInvalidSpecError);
  });
});
