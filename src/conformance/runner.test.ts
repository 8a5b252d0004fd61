import { describe, expect, it } from "vitest";
import { type ConformanceCase, conformanceCases } from "./cases.js";
import { dataPathCases } from "./data-path-cases.js";
import { type SuiteKube, runConformanceSuite } from "./runner.js";
import {
  UNMET_REQUIREMENT_REASONS,
  UnknownCaseError,
  dataPathSkip,
  resolveSkips,
  unmetRequirementSkips,
} from "./skip-lists.js";

function fakeKube(): { kube: SuiteKube; created: string[]; deleted: string[] } {
  const created: string[] = [];
  const deleted: string[] = [];
  const kube = {
    createNamespace: async (prefix: string) => {
      const name = `${prefix}-${created.length}`;
      created.push(name);
      return name;
    },
    deleteNamespace: async (name: string) => void deleted.push(name),
  } as unknown as SuiteKube;
  return { kube, created, deleted };
}

const options = {
  target: "test",
  loadBalancerClass: "x/y",
  requestableAddress: undefined,
  unavailableAddress: undefined,
  timeoutMs: 1_000,
  namespacePrefix: "conf",
};

describe("runConformanceSuite", () => {
  it("runs cases in order, reports pass, fail and skip, and deletes every namespace it created", async () => {
    const order: string[] = [];
    const cases: ConformanceCase[] = [
      { name: "good", run: async (ctx) => void order.push(`good@${ctx.namespace}`) },
      {
        name: "bad",
        run: async () => {
          order.push("bad");
          throw new Error("boom");
        },
      },
      { name: "listed", run: async () => void order.push("listed") },
    ];
    const { kube, created, deleted } = fakeKube();
    const lines: string[] = [];
    let t = 0;
    const result = await runConformanceSuite(
      { ...options, cases, skips: new Map([["listed", "not for this provider"]]) },
      { kube, write: (l) => lines.push(l), now: () => (t += 1_000) },
    );
    expect(order).toEqual(["good@conf-0", "bad"]);
    expect(result.cases.map((c) => [c.name, c.status, c.message])).toEqual([
      ["good", "passed", undefined],
      ["bad", "failed", "boom"],
      ["listed", "skipped", "not for this provider"],
    ]);
    expect(deleted).toEqual(created);
    expect(lines).toContain("✓ good (1.0 s)");
    expect(lines).toContain("✗ bad (1.0 s)");
    expect(lines).toContain("- listed [skipped: not for this provider]");
    expect(lines.at(-1)).toMatch(/^3 cases: 1 passed, 1 failed, 1 skipped in /);
  });

  it("gives every case the runner's data path", async () => {
    const dataPath = { clientAddress: "192.0.2.10", echoImage: "example.com/echo:1", get: async () => ({ ok: true }) };
    const seen: unknown[] = [];
    const cases: ConformanceCase[] = [
      { name: "traffic", requires: ["dataPath"], run: async (ctx) => void seen.push(ctx.dataPath) },
    ];
    await runConformanceSuite(
      { ...options, cases, skips: new Map(), dataPath },
      { kube: fakeKube().kube, write: () => undefined },
    );
    expect(seen).toEqual([dataPath]);
  });

  it("applies --focus and --skip to case names", async () => {
    const ran: string[] = [];
    const cases: ConformanceCase[] = ["alpha one", "alpha two", "beta"].map((name) => ({
      name,
      run: async () => void ran.push(name),
    }));
    const result = await runConformanceSuite(
      { ...options, cases, skips: new Map(), focus: /alpha/, skip: /two/ },
      { kube: fakeKube().kube, write: () => undefined },
    );
    expect(ran).toEqual(["alpha one"]);
    expect(result.cases.filter((c) => c.status === "skipped").map((c) => c.message)).toEqual([
      "matches --skip /two/",
      "does not match --focus /alpha/",
    ]);
  });

  it("on abort stops the running case, still deletes its namespace and skips the rest as interrupted", async () => {
    const abort = new AbortController();
    const cases: ConformanceCase[] = [
      {
        name: "hangs",
        run: () => {
          abort.abort();
          return new Promise(() => undefined);
        },
      },
      {
        name: "later",
        run: async () => {
          throw new Error("must not run");
        },
      },
    ];
    const { kube, created, deleted } = fakeKube();
    const result = await runConformanceSuite(
      { ...options, cases, skips: new Map() },
      { kube, write: () => undefined, signal: abort.signal },
    );
    expect(result.interrupted).toBe(true);
    expect(result.cases.map((c) => [c.status, c.message])).toEqual([
      ["failed", "interrupted"],
      ["skipped", "interrupted"],
    ]);
    expect(created).toHaveLength(1);
    expect(deleted).toEqual(created);
  });
});

describe("skip lists", () => {
  const cases: ConformanceCase[] = [
    { name: "a", run: async () => undefined },
    { name: "needs address", requires: ["requestableAddress"], run: async () => undefined },
    { name: "needs traffic", requires: ["dataPath"], run: async () => undefined },
    { name: "needs both", requires: ["dataPath", "requestableAddress"], run: async () => undefined },
  ];

  it("rejects a skip list naming an unknown case", () => {
    expect(() => resolveSkips([{ reason: "r", tests: ["renamed"] }], cases)).toThrow(UnknownCaseError);
  });

  it("skips cases whose requirement is not given, and keeps the first reason", () => {
    const reasons = { requestableAddress: "no address" };
    const entries = [{ reason: "provider", tests: ["needs address"] }, ...unmetRequirementSkips(cases, {}, reasons)];
    expect(resolveSkips(entries, cases).get("needs address")).toBe("provider");
    expect(resolveSkips(unmetRequirementSkips(cases, { dataPath: {} }, reasons), cases)).toEqual(
      new Map([
        ["needs address", "no address"],
        ["needs both", "no address"],
      ]),
    );
    expect(unmetRequirementSkips(cases, { requestableAddress: "192.0.2.1", dataPath: {} }, reasons)).toEqual([]);
  });

  it("names the missing input in the default reasons", () => {
    const skipped = resolveSkips(unmetRequirementSkips(cases, { requestableAddress: "192.0.2.1" }), cases);
    expect(skipped).toEqual(
      new Map([
        ["needs traffic", "the runner was not given a way to reach the load balancer (--data-path)"],
        ["needs both", "the runner was not given a way to reach the load balancer (--data-path)"],
      ]),
    );
    expect(resolveSkips(unmetRequirementSkips(cases, { dataPath: {} }), cases).get("needs address")).toBe(
      UNMET_REQUIREMENT_REASONS.requestableAddress,
    );
  });

  it("skips every data-path case in the real suite with the data-path reason when the runner has no data path", async () => {
    const skips = resolveSkips(unmetRequirementSkips(conformanceCases, { requestableAddress: "192.0.2.1" }));
    const lines: string[] = [];
    const result = await runConformanceSuite(
      { ...options, cases: dataPathCases, skips },
      { kube: fakeKube().kube, write: (l) => lines.push(l) },
    );
    expect(dataPathCases.length).toBe(4);
    expect(result.cases.map((c) => [c.status, c.message])).toEqual(
      dataPathCases.map(() => ["skipped", "the runner was not given a way to reach the load balancer (--data-path)"]),
    );
    expect(lines).toContain(
      `- ${dataPathCases[0]!.name} [skipped: the runner was not given a way to reach the load balancer (--data-path)]`,
    );
  });

  it("registers the data-path cases with the others, each requiring a data path, under unique names", () => {
    for (const c of dataPathCases) {
      expect(conformanceCases).toContain(c);
      expect(c.requires).toContain("dataPath");
    }
    expect(new Set(conformanceCases.map((c) => c.name)).size).toBe(conformanceCases.length);
    expect(dataPathSkip("no data path here").tests).toEqual(dataPathCases.map((c) => c.name));
  });
});
