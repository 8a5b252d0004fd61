import { type SuiteResult, countByStatus } from "./results.js";

/**
 * XML 1.0 text: escapes markup characters and drops what XML 1.0 cannot carry at all (C0 controls other than
 * tab/newline/CR, lone surrogates, U+FFFE/U+FFFF), e.g. ANSI colour codes in assertion diffs.
 */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- matching the ESC of ANSI colour codes is the point
      .replace(/\x1b\[[0-9;]*m/g, "")
      .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * The run as JUnit XML in the shape Jenkins, GitLab and GitHub reporters read: one `<testsuite>` per run, a
 * `<testcase>` per case with `<failure message type>` (stack in the body) or `<skipped message>` (the reason).
 */
export function toJUnitXml(result: SuiteResult): string {
  const counts = countByStatus(result.cases);
  const suiteName = `lb-operator conformance (${result.target})`;
  const classname = `lb-operator.conformance.${result.target}`;
  const attrs = `tests="${result.cases.length}" failures="${counts.failed}" errors="0" skipped="${counts.skipped}" time="${seconds(result.durationMs)}"`;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${escapeXml(suiteName)}" ${attrs}>`,
    `  <testsuite name="${escapeXml(suiteName)}" ${attrs} timestamp="${result.startedAt.toISOString()}">`,
  ];
  for (const c of result.cases) {
    const open = `    <testcase classname="${escapeXml(classname)}" name="${escapeXml(c.name)}" time="${seconds(c.durationMs)}"`;
    if (c.status === "passed") {
      lines.push(`${open}/>`);
    } else if (c.status === "skipped") {
      lines.push(`${open}>`, `      <skipped message="${escapeXml(c.message ?? "")}"/>`, `    </testcase>`);
    } else {
      lines.push(
        `${open}>`,
        `      <failure message="${escapeXml(c.message ?? "")}" type="${escapeXml(c.errorType ?? "Error")}">${escapeXml(c.detail ?? c.message ?? "")}</failure>`,
        `    </testcase>`,
      );
    }
  }
  lines.push(`  </testsuite>`, `</testsuites>`, ``);
  return lines.join("\n");
}
