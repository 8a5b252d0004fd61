import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadHeartbeatKey } from "./heartbeat-key.js";
import { HeartbeatKeyError } from "./membership-errors.js";

const dir = mkdtempSync(join(tmpdir(), "heartbeat-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe("loadHeartbeatKey", () => {
  it("returns the file's bytes as they are when there are at least 32", async () => {
    const key = Buffer.from("k".repeat(43) + "\n");
    expect(Buffer.from(await loadHeartbeatKey(file("ok", key)))).toEqual(key);
  });

  it("refuses an empty file and a short key, saying how long it is and how to make one", async () => {
    await expect(loadHeartbeatKey(file("empty", ""))).rejects.toThrow(
      /holds 0 bytes; at least 32 are required \(e\.g\. head -c 48 \/dev\/urandom/,
    );
    await expect(loadHeartbeatKey(file("short", "x".repeat(31)))).rejects.toBeInstanceOf(HeartbeatKeyError);
  });

  it("refuses a missing file with the cause attached", async () => {
    const err = await loadHeartbeatKey(join(dir, "missing")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeartbeatKeyError);
    expect((err as HeartbeatKeyError).cause).toMatchObject({ code: "ENOENT" });
  });
});
