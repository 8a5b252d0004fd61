import { describe, expect, it } from "vitest";
import {
  arpNodes,
  arpPath,
  counts,
  failureSpans,
  forwarderLookup,
  parseProbeLog,
  podGatewayOf,
  type ProbeSample,
  summarizeProbe,
} from "./failure-story-analysis.js";

const ok = (s: number, via: string, backend = "web-0"): ProbeSample => ({
  s,
  d: s + 2,
  ok: true,
  b: `backend=${backend} client=${via}:40000`,
});
const fail = (s: number): ProbeSample => ({ s, d: s + 200, ok: false, e: "timeout" });

describe("parseProbeLog", () => {
  it("keeps samples in send order and skips the ready line and junk", () => {
    const text = [
      '{"ready":true}',
      JSON.stringify(ok(20, "192.0.2.11")),
      "not json",
      "{broken",
      JSON.stringify(fail(10)),
      "",
    ].join("\n");
    expect(parseProbeLog(text).map((x) => [x.s, x.ok])).toEqual([
      [10, false],
      [20, true],
    ]);
  });
});

describe("summarizeProbe", () => {
  const via = forwarderLookup(
    [
      { name: "node-1", ip: "192.0.2.11", podGateway: "198.51.100.17" },
      { name: "node-2", ip: "192.0.2.12", podGateway: "198.51.100.33" },
    ],
    "192.0.2.10",
  );

  it("counts failures, the longest time without an answer and who forwarded, inside the window only", () => {
    const samples = [
      ok(0, "192.0.2.11"),
      ok(100, "192.0.2.11"),
      ok(110, "192.0.2.11"),
      fail(120),
      fail(130),
      ok(400, "198.51.100.33", "web-1"),
      ok(410, "192.0.2.12", "web-1"),
      ok(900, "192.0.2.12"),
    ];
    const s = summarizeProbe(samples, { from: 100, to: 500 }, via);
    expect(s.requests).toBe(6);
    expect(s.failed).toBe(2);
    // Answers at 102, 112, 402, 412; the window ends at 500: the longest silence is 112 -> 402.
    expect(s.longestGapMs).toBe(290);
    expect([...s.forwardedBy]).toEqual([
      ["node-1", 2],
      ["node-2", 2],
    ]);
    expect(counts(s.backends)).toBe("web-0 2, web-1 2");
  });

  it("a window with no answer is one gap as long as the window", () => {
    const s = summarizeProbe([fail(10), fail(20)], { from: 0, to: 300 }, via);
    expect(s).toMatchObject({ requests: 2, failed: 2, longestGapMs: 300 });
    expect(counts(s.forwardedBy)).toBe("none");
  });

  it("names an unmasqueraded client and unknown sources as they are", () => {
    const s = summarizeProbe([ok(1, "192.0.2.10"), ok(2, "10.0.0.9")], { from: 0, to: 10 }, via);
    expect([...s.forwardedBy.keys()].sort()).toEqual(["10.0.0.9", "client (no SNAT)"]);
  });
});

describe("podGatewayOf", () => {
  it("is the first host of the pod subnet", () => {
    expect(podGatewayOf("198.51.100.16/28")).toBe("198.51.100.17");
    expect(() => podGatewayOf("nonsense")).toThrow(RangeError);
  });
});

describe("arpPath", () => {
  it("collapses repeats and times each change from t0", () => {
    const samples = [
      { at: 900, node: "node-1" },
      { at: 1_000, node: "node-1" },
      { at: 1_410, node: "node-2" },
      { at: 1_460, node: undefined },
      { at: 7_100, node: "node-1" },
    ];
    expect(arpPath(samples, 1_000)).toBe("node-1 -> node-2 (+0.41 s) -> none (+0.46 s) -> node-1 (+6.10 s)");
    expect(arpNodes(samples)).toEqual(["node-1", "node-2"]);
    expect(arpPath([], 0)).toBe("no sample");
  });
});

describe("failureSpans", () => {
  it("groups failures sent close together and times them from t0", () => {
    const samples = [fail(3_740), fail(3_750), fail(3_760), ok(3_770, "192.0.2.11"), fail(5_000), fail(20_000)];
    expect(failureSpans(samples, { from: 0, to: 10_000 }, 1_000)).toBe("+2.74..+2.76 s (3), +4.00..+4.00 s (1)");
    expect(failureSpans([ok(1, "x")], { from: 0, to: 10 }, 0)).toBe("none");
  });
});
