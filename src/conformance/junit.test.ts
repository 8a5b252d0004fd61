import { describe, expect, it } from "vitest";
import { escapeXml, toJUnitXml } from "./junit.js";
import type { SuiteResult } from "./results.js";

const suite: SuiteResult = {
  target: "baremetal",
  startedAt: new Date("2026-01-02T03:04:05.000Z"),
  durationMs: 12_345,
  interrupted: false,
  cases: [
    { name: "creates a load balancer", status: "passed", durationMs: 1_500 },
    {
      name: `keeps <"the"> & 'address'`,
      status: "failed",
      durationMs: 250,
      message: "expected 1 < 2 & \x1b[31mred\x1b[39m",
      errorType: "AssertionError",
      detail: "AssertionError: expected <a>\n    at x (y.ts:1:2)",
    },
    {
      name: "honours a requested address",
      status: "skipped",
      durationMs: 0,
      message: "no --requestable-address given",
    },
  ],
};

describe("toJUnitXml", () => {
  const xml = toJUnitXml(suite);

  it("counts tests, failures and skips on the suite", () => {
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    expect(xml).toContain(
      `<testsuite name="lb-operator conformance (baremetal)" tests="3" failures="1" errors="0" skipped="1" time="12.345" timestamp="2026-01-02T03:04:05.000Z">`,
    );
  });

  it("writes a passed case as an empty testcase with its time in seconds", () => {
    expect(xml).toContain(
      `<testcase classname="lb-operator.conformance.baremetal" name="creates a load balancer" time="1.500"/>`,
    );
  });

  it("writes a failure with an escaped message, type and body, without ANSI codes", () => {
    expect(xml).toContain(`name="keeps &lt;&quot;the&quot;&gt; &amp; &apos;address&apos;" time="0.250">`);
    expect(xml).toContain(
      `<failure message="expected 1 &lt; 2 &amp; red" type="AssertionError">AssertionError: expected &lt;a&gt;\n    at x (y.ts:1:2)</failure>`,
    );
    expect(xml).not.toContain("\x1b");
  });

  it("writes a skipped case with its reason", () => {
    expect(xml).toMatch(
      /name="honours a requested address" time="0.000">\n\s+<skipped message="no --requestable-address given"\/>\n\s+<\/testcase>/,
    );
  });

  it("closes every element it opens", () => {
    const opened = (xml.match(/<testcase /g) ?? []).length;
    const closed = (xml.match(/<\/testcase>|<testcase [^>]*\/>/g) ?? []).length;
    expect(opened).toBe(3);
    expect(closed).toBe(3);
    expect(xml.trimEnd().endsWith("</testsuite>\n</testsuites>")).toBe(true);
  });
});

describe("escapeXml", () => {
  it("escapes the five markup characters", () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  });

  it("drops characters XML 1.0 cannot carry and keeps tab, newline and non-ASCII text", () => {
    expect(escapeXml("a\x00b\x07c\x1bd\uFFFEe")).toBe("abcde");
    expect(escapeXml("t\tn\nr\r ✓ 😀")).toBe("t\tn\nr\r ✓ 😀");
  });
});
