/**
 * Go's strconv.ParseBool, the parser the upstream controllers (cloud-provider-aws, cloud-provider-gcp, the
 * service controller's node predicates) read every boolean annotation and label with, so a value means the same
 * here as there.
 */
const TRUE_VALUES: ReadonlySet<string> = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_VALUES: ReadonlySet<string> = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** The exact accepted spellings, nothing trimmed; anything else is undefined (Go's parse error). */
export function parseGoBool(value: string): boolean | undefined {
  if (TRUE_VALUES.has(value)) return true;
  if (FALSE_VALUES.has(value)) return false;
  return undefined;
}
