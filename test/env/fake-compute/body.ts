/**
 * Typed reads of a JSON request body with Compute's validation messages: a field of the wrong JSON type is a
 * 400 "invalid", a missing required one a 400 "required" naming `resource.<path>`.
 */
import { invalid, required } from "./types.js";

export class Body {
  private readonly raw: Readonly<Record<string, unknown>>;
  readonly path: string;

  constructor(raw: unknown, path = "resource") {
    if (raw === undefined || raw === null) raw = {};
    if (typeof raw !== "object" || Array.isArray(raw))
      throw invalid(`Invalid JSON payload: '${path}' must be an object`);
    this.raw = raw as Record<string, unknown>;
    this.path = path;
  }

  /** The raw JSON object (for merge-patch). */
  json(): Readonly<Record<string, unknown>> {
    return this.raw;
  }

  has(name: string): boolean {
    const value = this.raw[name];
    return value !== undefined && value !== null;
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw this.wrongType(name, value);
    return value;
  }

  /** A non-empty string, or 400 required. */
  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") throw required(`${this.path}.${name}`);
    return value;
  }

  /** One of `allowed`, or undefined when absent. */
  enumOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined || value === "") return undefined;
    const found = allowed.find((a) => a === value);
    if (found === undefined)
      throw invalid(
        `Invalid value for field '${this.path}.${name}': '${value}'. Must be one of [${allowed.join(", ")}]`,
      );
    return found;
  }

  strings(name: string): string[] | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw this.wrongType(name, value);
    return value as string[];
  }

  /** An integer (the client sends int32 fields as JSON numbers). */
  integer(name: string): number | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) throw this.wrongType(name, value);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw this.wrongType(name, value);
    return value;
  }

  object(name: string): Body | undefined {
    return this.has(name) ? new Body(this.raw[name], `${this.path}.${name}`) : undefined;
  }

  objects(name: string): Body[] | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw this.wrongType(name, value);
    return value.map((v, i) => new Body(v, `${this.path}.${name}[${i}]`));
  }

  private wrongType(name: string, value: unknown) {
    return invalid(`Invalid value for field '${this.path}.${name}': '${JSON.stringify(value)}'.`);
  }
}

/** JSON merge patch (RFC 7396) as Compute's PATCH applies it: objects merge, arrays and scalars replace, null clears. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
