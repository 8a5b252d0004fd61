import { describe, expect, it } from "vitest";
import { QUOTE_MAX_CHARS, capBytes, quote, utf8Bytes } from "./quote.js";

describe("quote", () => {
  it("writes a short value as JSON.stringify does", () => {
    expect(quote("abc")).toBe('"abc"');
    expect(quote("")).toBe('""');
    expect(quote('a"b\\c')).toBe(JSON.stringify('a"b\\c'));
  });

  it("escapes control characters, so a newline cannot split a log line", () => {
    expect(quote("shared\nkey")).toBe('"shared\\nkey"');
    expect(quote("a\u0000b")).toBe('"a\\u0000b"');
  });

  it("cuts a long value and gives its length in bytes", () => {
    const value = "abcdef".repeat(262_144 / 6) + "abcd";
    expect(value).toHaveLength(262_144);
    const quoted = quote(value, 6);
    expect(quoted).toBe('"abcdef…" (262144 bytes)');
  });

  it("keeps at most QUOTE_MAX_CHARS escaped characters by default", () => {
    const quoted = quote("x".repeat(1_000));
    expect(quoted).toBe(`"${"x".repeat(QUOTE_MAX_CHARS)}…" (1000 bytes)`);
    const exact = "y".repeat(QUOTE_MAX_CHARS);
    expect(quote(exact)).toBe(`"${exact}"`);
  });

  it("counts escapes against the budget and never splits one", () => {
    // Each NUL escapes to 6 characters: 3 fit in 20, a 4th would not.
    expect(quote("\u0000".repeat(10), 20)).toBe(`"${"\\u0000".repeat(3)}…" (10 bytes)`);
  });

  it("never splits a surrogate pair, and counts bytes as UTF-8", () => {
    const smile = "😀"; // 2 UTF-16 units, 4 UTF-8 bytes
    expect(quote(smile.repeat(5), 3)).toBe(`"${smile}…" (20 bytes)`);
    expect(quote("é".repeat(200), 2)).toBe('"éé…" (400 bytes)');
  });
});

describe("capBytes", () => {
  it("leaves a message within the budget alone", () => {
    expect(capBytes("hello", 5)).toBe("hello");
    expect(capBytes("é".repeat(10), 20)).toBe("é".repeat(10));
  });

  it("cuts to the byte budget, ellipsis included, between code points", () => {
    const cut = capBytes("a".repeat(5_000), 1_024);
    expect(utf8Bytes(cut)).toBe(1_024);
    expect(cut.endsWith("…")).toBe(true);
    // 2-byte characters: 1021 bytes of budget after the 3-byte ellipsis hold 510 of them.
    const wide = capBytes("é".repeat(5_000), 1_024);
    expect(wide).toBe(`${"é".repeat(510)}…`);
    const emoji = capBytes("😀".repeat(1_000), 1_024);
    expect(emoji).toBe(`${"😀".repeat(255)}…`);
    expect(utf8Bytes(emoji)).toBeLessThanOrEqual(1_024);
  });

  it("counts bytes, not characters, for a message short in characters but long in bytes", () => {
    const text = "€".repeat(400); // 400 characters, 1200 bytes
    expect(utf8Bytes(capBytes(text, 1_024))).toBeLessThanOrEqual(1_024);
    expect(capBytes(text, 1_024)).not.toBe(text);
  });
});
