import { describe, expect, it } from "vitest";
import { CallLog, InjectedCallError } from "./call-recorder.js";

describe("CallLog", () => {
  it("records calls in order and fails only the chosen mutating call, once", () => {
    const log = new CallLog();
    log.failNth(2);
    log.record("get a", false);
    log.record("put a", true);
    expect(() => log.record("put b", true)).toThrow(InjectedCallError);
    log.record("put c", true);
    expect(log.calls()).toEqual([
      { operation: "get a", mutating: false },
      { operation: "put a", mutating: true },
      { operation: "put b", mutating: true },
      { operation: "put c", mutating: true },
    ]);
    log.clear();
    expect(log.calls()).toEqual([]);
    expect(() => log.failNth(-1)).toThrow(RangeError);
    log.failNth(1);
    log.failNth(0);
    log.record("put d", true);
  });
});
