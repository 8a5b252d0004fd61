const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses "500ms", "30s", "10m", "1h" or "1m30s" into milliseconds; throws a RangeError naming the bad value. */
export function parseDuration(text: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== text.trim()) {
    throw new RangeError(`invalid duration "${text}": use a number with a unit, e.g. 500ms, 30s, 10m, 1h`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] ?? ""] ?? 0), 0);
}
