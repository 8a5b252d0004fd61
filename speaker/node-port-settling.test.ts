import { describe, expect, it } from "vitest";
import { NodePortSettling, nodePortKey } from "./node-port-settling.js";

const A = nodePortKey("uid-a", "TCP", 30080);
const B = nodePortKey("uid-b", "TCP", 30081);

describe("NodePortSettling", () => {
  it("treats NodePorts present at start as settled, and new ones as settled only after the settle time", () => {
    const s = new NodePortSettling(2_000);
    expect(s.observe([A], 1_000)).toEqual({ settled: new Set([A]), nextAt: undefined });
    expect(s.observe([A, B], 5_000)).toEqual({ settled: new Set([A]), nextAt: 7_000 });
    expect(s.observe([A, B], 6_999).settled.has(B)).toBe(false);
    expect(s.observe([A, B], 7_000)).toEqual({ settled: new Set([A, B]), nextAt: undefined });
  });

  it("forgets a NodePort that went away, so its return settles again", () => {
    const s = new NodePortSettling(2_000);
    s.observe([A], 0);
    s.observe([], 1_000);
    expect(s.observe([A], 2_000)).toEqual({ settled: new Set(), nextAt: 4_000 });
  });

  it("keys by Service: the same NodePort given to another Service is new", () => {
    const s = new NodePortSettling(2_000);
    s.observe([A], 0);
    const reused = nodePortKey("uid-c", "TCP", 30080);
    expect(s.observe([reused], 10_000)).toEqual({ settled: new Set(), nextAt: 12_000 });
  });
});
