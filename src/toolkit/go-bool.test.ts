import { describe, expect, it } from "vitest";
import { parseGoBool } from "./go-bool.js";

describe("parseGoBool (strconv.ParseBool)", () => {
  it.each(["1", "t", "T", "TRUE", "true", "True"])("%s -> true", (v) => expect(parseGoBool(v)).toBe(true));
  it.each(["0", "f", "F", "FALSE", "false", "False"])("%s -> false", (v) => expect(parseGoBool(v)).toBe(false));
  it.each(["", "yes", "no", "tRUE", "fAlse", " true", "2"])("%j -> error", (v) =>
    expect(parseGoBool(v)).toBeUndefined(),
  );
});
