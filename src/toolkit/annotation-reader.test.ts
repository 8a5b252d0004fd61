import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import { AnnotationReader, MAX_ANNOTATION_VALUE_BYTES, annotationField } from "./annotation-reader.js";

/** The InvalidSpecError `read` throws; the test fails if it throws nothing or something else. */
function invalid(read: () => unknown): InvalidSpecError {
  let thrown: unknown;
  expect(() => {
    try {
      read();
    } catch (err) {
      thrown = err;
      throw err;
    }
  }).toThrow(InvalidSpecError);
  return thrown as InvalidSpecError;
}

const reader = (annotations: Record<string, string>) => new AnnotationReader(annotations);

describe("AnnotationReader", () => {
  it("trims values and treats a blank value as no annotation", () => {
    const r = reader({ a: "  x  ", blank: "   " });
    expect(r.string("a")).toBe("x");
    expect(r.string("blank")).toBeUndefined();
    expect(r.bool("blank")).toBeUndefined();
    expect(r.list("missing")).toBeUndefined();
  });

  it.each(["1", "t", "T", "TRUE", "true", "True", " true "])("reads %j as true (Go ParseBool, trimmed)", (v) => {
    expect(reader({ k: v }).bool("k")).toBe(true);
  });

  it.each(["0", "f", "F", "FALSE", "false", "False"])("reads %j as false", (v) => {
    expect(reader({ k: v }).bool("k")).toBe(false);
  });

  it("refuses other booleans, naming the annotation and quoting the value", () => {
    const err = invalid(() => reader({ k: "yes" }).bool("k"));
    expect(err.field).toBe("metadata.annotations[k]");
    expect(err.message).toBe('metadata.annotations[k]: "yes" is not a boolean: want true or false');
  });

  it("reads lists comma-separated and trimmed, refusing empty entries and duplicates", () => {
    expect(reader({ k: " a, b ,c" }).list("k")).toEqual(["a", "b", "c"]);
    expect(invalid(() => reader({ k: "a,,b" }).list("k")).message).toContain("entry 2 is empty");
    expect(invalid(() => reader({ k: "a,b," }).list("k")).message).toContain("entry 3 is empty");
    expect(invalid(() => reader({ k: "a,a" }).list("k")).message).toContain('"a" is listed twice');
  });

  it("reads maps of key=value, values may hold = or be empty, keys sorted", () => {
    expect(reader({ k: "z=1, a = b=c ,e=" }).map("k")).toEqual({ a: "b=c", e: "", z: "1" });
    expect(Object.keys(reader({ k: "z=1,a=2" }).map("k") ?? {})).toEqual(["a", "z"]);
    expect(invalid(() => reader({ k: "=v" }).map("k")).message).toContain('"=v" is not key=value');
    expect(invalid(() => reader({ k: "a=1,a=2" }).map("k")).message).toContain('key "a" is given twice');
  });

  it("reads integers within a range, digits only", () => {
    const range = { min: 1, max: 10 };
    expect(reader({ k: "7" }).int("k", range)).toBe(7);
    for (const bad of ["0", "11", "-1", "1e1", "5.0", "x"]) {
      expect(invalid(() => reader({ k: bad }).int("k", range)).message).toBe(
        `metadata.annotations[k]: "${bad}": want an integer in 1-10`,
      );
    }
    expect(invalid(() => reader({ k: "x" }).int("k", range, "a port")).message).toContain("want a port");
  });

  it("reads durations in milliseconds", () => {
    expect(reader({ k: "1m30s" }).duration("k")).toBe(90_000);
    expect(reader({ k: "500ms" }).duration("k")).toBe(500);
    const err = invalid(() => reader({ k: "10" }).duration("k"));
    expect(err.field).toBe("metadata.annotations[k]");
    expect(err.cause).toBeInstanceOf(RangeError);
  });

  it("reads aliases in order after the key, and names the key the value came from", () => {
    const aliases = { ours: ["theirs", "older"] };
    expect(new AnnotationReader({ older: "1", theirs: "2" }, aliases).string("ours")).toBe("2");
    expect(new AnnotationReader({ ours: "3", theirs: "2" }, aliases).string("ours")).toBe("3");
    expect(invalid(() => new AnnotationReader({ older: "maybe" }, aliases).bool("ours")).field).toBe(
      "metadata.annotations[older]",
    );
  });

  it("gives the raw value to lookup, blank included", () => {
    expect(new AnnotationReader({ theirs: " " }, { ours: ["theirs"] }).lookup("ours")).toEqual({
      key: "theirs",
      value: " ",
    });
    expect(reader({}).lookup("ours")).toBeUndefined();
  });

  it("fails with an InvalidSpecError naming the annotation", () => {
    expect(invalid(() => reader({}).fail("k", "no")).field).toBe(annotationField("k"));
  });
});

describe("AnnotationReader with huge values", () => {
  const huge = "x".repeat(262_144 - 10);

  it.each(["string", "bool", "list", "map", "duration"] as const)(
    "refuses a value over the size limit before %s parses it, quoting only its head",
    (method) => {
      const err = invalid(() => reader({ k: huge })[method]("k"));
      expect(err.field).toBe("metadata.annotations[k]");
      expect(err.message).toContain(`(262134 bytes) is over the ${MAX_ANNOTATION_VALUE_BYTES}-byte limit`);
      expect(err.message.length).toBeLessThan(300);
    },
  );

  it("refuses a value that is short in characters but over the limit in UTF-8 bytes", () => {
    const wide = "€".repeat(MAX_ANNOTATION_VALUE_BYTES / 2); // 3 bytes each
    expect(invalid(() => reader({ k: wide }).string("k")).message).toContain("-byte limit");
    expect(reader({ k: "€".repeat(MAX_ANNOTATION_VALUE_BYTES / 3 - 1) }).string("k")).toBeDefined();
  });

  it("raw refuses a huge value too; lookup stays lenient for readers that must not throw", () => {
    expect(invalid(() => reader({ k: huge }).raw("k")).field).toBe("metadata.annotations[k]");
    expect(reader({ k: huge }).lookup("k")?.value).toBe(huge);
    expect(reader({ k: " " }).raw("k")).toEqual({ key: "k", value: " " });
  });

  it("quotes a long bad value cut, with its length", () => {
    const long = "y".repeat(10_000);
    const err = invalid(() => reader({ k: long }).bool("k"));
    expect(err.message).toBe(
      `metadata.annotations[k]: "${"y".repeat(128)}…" (10000 bytes) is not a boolean: want true or false`,
    );
  });

  it("escapes control characters in quoted values", () => {
    expect(invalid(() => reader({ k: "a\nb" }).bool("k")).message).toContain('"a\\nb"');
    expect(invalid(() => reader({ k: "a,b\u0007c,a" }).list("k")).message).toContain('"a" is listed twice');
  });

  it("checks a list of distinct entries just under the limit for duplicates in linear time", () => {
    // 4,000 distinct entries: the old indexOf check did ~8 M comparisons, a Set does 4,000 look-ups.
    const entries = Array.from({ length: 4_000 }, (_, i) => `e${i}`);
    const value = entries.join(",");
    expect(value.length).toBeLessThan(MAX_ANNOTATION_VALUE_BYTES);
    expect(reader({ k: value }).list("k")).toHaveLength(4_000);
    expect(invalid(() => reader({ k: `${value},e0` }).list("k")).message).toContain('"e0" is listed twice');
    const pairs = entries.map((e) => `${e}=v`).join(",");
    expect(Object.keys(reader({ k: pairs }).map("k") ?? {})).toHaveLength(4_000);
  });
});
