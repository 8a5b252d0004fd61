/**
 * Bounded text for everything that quotes user input (annotation values, sharing keys, spec strings) into an error,
 * an Event, a condition or a log line. The apiserver takes up to 256 KiB of annotations per object, but a condition
 * message may hold only 32 KiB (k8s.io/apimachinery meta/v1 validation, maxConditionMessageLen: a longer one is a 422)
 * and an events.k8s.io note 1 KiB (k8s.io/kubernetes core validation NoteLengthLimit). So a quote keeps the head of
 * the value and says how long the whole was, and a whole message is cut to a byte budget at a character boundary.
 * Every function here reads at most a bounded prefix of its input, except for one native UTF-8 length count.
 */

/** Characters of a quoted value kept, counted after escaping: enough to recognise a key, an ARN or a CIDR list. */
export const QUOTE_MAX_CHARS = 128;

const ELLIPSIS = "…";

/** UTF-8 length, as the apiserver measures strings. Native and allocation-free, so cheap even for 256 KiB. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * `value` as a JSON string literal (control characters escaped, so a newline cannot split a log line or an event),
 * cut after `maxChars` escaped characters with its full length appended: `"abcdef…" (262144 bytes)`.
 * A short value reads exactly as JSON.stringify writes it. Never splits a surrogate pair or an escape sequence.
 */
export function quote(value: string, maxChars: number = QUOTE_MAX_CHARS): string {
  const head = escapedHead(value, maxChars);
  if (head.complete) return `"${head.text}"`;
  return `"${head.text}${ELLIPSIS}" (${utf8Bytes(value)} bytes)`;
}

/**
 * `message` cut to at most `maxBytes` UTF-8 bytes, ending in "…" when cut (the last line of defence for what goes to
 * the apiserver; quoted values should already be short). Cuts between code points only.
 */
export function capBytes(message: string, maxBytes: number): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair is 4 bytes for 2 units): the common case is O(1).
  if (message.length * 3 <= maxBytes) return message;
  if (message.length <= maxBytes && utf8Bytes(message) <= maxBytes) return message;
  const budget = maxBytes - utf8Bytes(ELLIPSIS);
  let used = 0;
  let end = 0;
  for (const ch of message) {
    const size = utf8Bytes(ch);
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  return message.slice(0, end) + ELLIPSIS;
}

interface Head {
  readonly text: string;
  /** The whole value fitted. */
  readonly complete: boolean;
}

/** The escaped form of the longest prefix of `value` whose escaped form has at most `maxChars` characters. */
function escapedHead(value: string, maxChars: number): Head {
  let text = "";
  for (const ch of value) {
    const escaped = JSON.stringify(ch).slice(1, -1);
    if (text.length + escaped.length > maxChars) return { text, complete: false };
    text += escaped;
  }
  return { text, complete: true };
}
