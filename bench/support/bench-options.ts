/**
 * The command line of a call-count bench: `--name value` options with string defaults, plus -h/--help. Help goes to
 * stdout (exit 0); a bad option prints the message and the help to stderr (exit 2).
 */
import { parseArgs } from "node:util";
import { errorMessage } from "../../src/errors.js";

export interface BenchOptions<K extends string> {
  /** A whole number from min to max ("1_000" allowed). */
  int(name: K, min: number, max: number): number;
  /** A comma-separated list of whole numbers from min to max. */
  ints(name: K, min: number, max: number): number[];
}

export function parseBenchOptions<K extends string>(
  help: string,
  defaults: Readonly<Record<K, string>>,
): BenchOptions<K> {
  const usage = (message: string): never => {
    process.stderr.write(`${message}\n${help}\n`);
    process.exit(2);
  };
  const options = Object.fromEntries(
    Object.entries<string>(defaults).map(([name, value]) => [name, { type: "string" as const, default: value }]),
  );
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseArgs({ options: { ...options, help: { type: "boolean", short: "h", default: false } } }).values;
  } catch (err) {
    usage(errorMessage(err));
  }
  if (values.help === true) {
    process.stdout.write(`${help}\n`);
    process.exit(0);
  }
  const int = (name: string, text: string, min: number, max: number): number => {
    const v = Number(text.replaceAll("_", ""));
    if (!Number.isInteger(v) || v < min || v > max)
      usage(`--${name}: expected an integer from ${min} to ${max}, got "${text}"`);
    return v;
  };
  const text = (name: K): string => String(values[name] ?? defaults[name]);
  return {
    int: (name, min, max) => int(name, text(name), min, max),
    ints: (name, min, max) =>
      text(name)
        .split(",")
        .map((s) => int(name, s.trim(), min, max)),
  };
}
