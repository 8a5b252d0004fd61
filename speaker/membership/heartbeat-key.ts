/**
 * Reads the shared heartbeat key. The file's bytes are the HMAC key as they are (a trailing newline included: every
 * speaker reads the same Secret, so they agree). A key shorter than MIN_KEY_BYTES, an empty file among them, is
 * refused so a speaker never runs with a key that gives no protection; MetalLB instead starts unencrypted with a
 * warning when no memberlist secret is set (internal/speakerlist/speakerlist.go New).
 */
import { readFile } from "node:fs/promises";
import { HeartbeatKeyError } from "./membership-errors.js";
import { MIN_KEY_BYTES } from "./membership-options.js";

export async function loadHeartbeatKey(path: string): Promise<Uint8Array> {
  let key: Buffer;
  try {
    key = await readFile(path);
  } catch (err) {
    throw new HeartbeatKeyError(`cannot read the heartbeat key file ${path}`, { cause: err });
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new HeartbeatKeyError(
      `the heartbeat key file ${path} holds ${key.length} bytes; at least ${MIN_KEY_BYTES} are required ` +
        `(e.g. head -c 48 /dev/urandom | base64 > ${path})`,
    );
  }
  return new Uint8Array(key);
}
