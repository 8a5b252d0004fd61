import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1.5s", 1_500],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "10", "10 minutes", "5d", "-1s", "1s junk"])("rejects %j with a message naming it", (text) => {
    expect(() => parseDuration(text)).toThrow(`invalid duration "${text}"`);
  });
});
