import { describe, it, expect } from "vitest";
import type { TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { HealthCheckSettings } from "../aws-types.js";
import type { DesiredListener } from "./desired-nlb.js";
import {
  TAG_ADDITIONAL_KEYS,
  chunk,
  diffAttributes,
  diffTags,
  diffTargets,
  healthCheckDiffers,
  isListenerPlanEmpty,
  planListeners,
  sameSet,
  withAdditionalTags,
  type CurrentListener,
} from "./nlb-diff.js";

describe("tags", () => {
  const owned = new Set(["owner", TAG_ADDITIONAL_KEYS]);

  it("withAdditionalTags records additional keys; owned keys win", () => {
    expect(withAdditionalTags({ b: "1", a: "2", owner: "x" }, { owner: "me" })).toEqual({
      a: "2",
      b: "1",
      owner: "me",
      [TAG_ADDITIONAL_KEYS]: "a,b",
    });
    expect(withAdditionalTags({}, { owner: "me" })[TAG_ADDITIONAL_KEYS]).toBe("");
  });

  it("adds what differs, removes previously-added and owned keys only, never foreign tags", () => {
    const current = { owner: "me", old: "1", keep: "2", foreign: "3", [TAG_ADDITIONAL_KEYS]: "keep,old" };
    const desired = withAdditionalTags({ keep: "changed", added: "4" }, { owner: "me" });
    const diff = diffTags(current, desired, owned);
    expect(diff.add).toEqual({ keep: "changed", added: "4", [TAG_ADDITIONAL_KEYS]: "added,keep" });
    expect(diff.remove).toEqual(["old"]);
  });

  it("is empty when converged", () => {
    const desired = withAdditionalTags({ a: "1" }, { owner: "me" });
    expect(diffTags({ ...desired, foreign: "x" }, desired, owned)).toEqual({ add: {}, remove: [] });
  });
});

describe("attributes and sets", () => {
  it("diffAttributes returns only changed managed keys", () => {
    expect(diffAttributes({ a: "1", b: "2", other: "x" }, { a: "1", b: "3", c: "4" })).toEqual({ b: "3", c: "4" });
    expect(diffAttributes({ a: "1" }, { a: "1" })).toEqual({});
  });

  it("sameSet ignores order and duplicates", () => {
    expect(sameSet(["a", "b"], ["b", "a", "a"])).toBe(true);
    expect(sameSet(["a"], ["a", "b"])).toBe(false);
  });
});

describe("healthCheckDiffers", () => {
  const tcp: HealthCheckSettings = {
    protocol: "TCP",
    port: "traffic-port",
    path: undefined,
    intervalSeconds: 10,
    timeoutSeconds: 10,
    healthyThreshold: 3,
    unhealthyThreshold: 3,
  };
  const current: TargetGroup = {
    HealthCheckEnabled: true,
    HealthCheckProtocol: "TCP",
    HealthCheckPort: "traffic-port",
    HealthCheckPath: "/stale",
    HealthCheckIntervalSeconds: 10,
    HealthCheckTimeoutSeconds: 10,
    HealthyThresholdCount: 3,
    UnhealthyThresholdCount: 3,
  };

  it("equal settings (stale path on a TCP check ignored) do not differ", () => {
    expect(healthCheckDiffers(current, tcp)).toBe(false);
  });

  it("any field differs", () => {
    const variants: TargetGroup[] = [
      { HealthCheckEnabled: false },
      { HealthCheckProtocol: "HTTP" },
      { HealthCheckPort: "32000" },
      { HealthCheckIntervalSeconds: 30 },
      { HealthCheckTimeoutSeconds: 5 },
      { HealthyThresholdCount: 5 },
      { UnhealthyThresholdCount: 2 },
    ];
    for (const v of variants) expect(healthCheckDiffers({ ...current, ...v }, tcp)).toBe(true);
  });

  it("HTTP compares port and path", () => {
    const http: HealthCheckSettings = { ...tcp, protocol: "HTTP", port: 32000, path: "/healthz" };
    const cur = {
      ...current,
      HealthCheckProtocol: "HTTP" as const,
      HealthCheckPort: "32000",
      HealthCheckPath: "/healthz",
    };
    expect(healthCheckDiffers(cur, http)).toBe(false);
    expect(healthCheckDiffers({ ...cur, HealthCheckPath: "/" }, http)).toBe(true);
  });
});

describe("targets", () => {
  it("diffTargets keys by id and port", () => {
    const d = diffTargets(
      [
        { id: "i-1", port: 30080 },
        { id: "i-2", port: 30080 },
      ],
      [
        { id: "i-2", port: 30080 },
        { id: "i-3", port: 30080 },
        { id: "i-1", port: 30081 },
      ],
    );
    expect(d.register).toEqual([
      { id: "i-3", port: 30080 },
      { id: "i-1", port: 30081 },
    ]);
    expect(d.deregister).toEqual([{ id: "i-1", port: 30080 }]);
    expect(diffTargets([{ id: "a", port: 1 }], [{ id: "a", port: 1 }])).toEqual({ register: [], deregister: [] });
  });

  it("chunk splits into batches of at most n", () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    expect(chunk(items, 100).map((c) => c.length)).toEqual([100, 100, 50]);
    expect(chunk([], 100)).toEqual([]);
    expect(() => chunk(items, 0)).toThrow(RangeError);
  });
});

describe("planListeners", () => {
  const want = (port: number, tg: string, extra: Partial<DesiredListener> = {}): DesiredListener => ({
    port,
    protocol: "TCP",
    certificateArn: undefined,
    sslPolicy: undefined,
    targetGroupName: tg,
    tags: {},
    ...extra,
  });
  const have = (arn: string, port: number, tgArn: string, extra: Partial<CurrentListener> = {}): CurrentListener => ({
    arn,
    port,
    protocol: "TCP",
    certificateArn: undefined,
    sslPolicy: undefined,
    targetGroupArns: [tgArn],
    ...extra,
  });
  const arns = new Map([
    ["tg80", "arn:tg80"],
    ["tg443", "arn:tg443"],
  ]);

  it("converged: nothing to do", () => {
    expect(isListenerPlanEmpty(planListeners([have("l1", 80, "arn:tg80")], [want(80, "tg80")], arns))).toBe(true);
  });

  it("creates missing, modifies changed, deletes extra ports", () => {
    const plan = planListeners(
      [have("l80", 80, "arn:old"), have("l8080", 8080, "arn:x")],
      [want(80, "tg80"), want(443, "tg443", { protocol: "TLS", certificateArn: "c", sslPolicy: "p" })],
      arns,
    );
    expect(plan.create.map((l) => l.port)).toEqual([443]);
    expect(plan.modify.map((m) => m.arn)).toEqual(["l80"]);
    expect(plan.remove).toEqual(["l8080"]);
  });

  it("TLS: a certificate or policy change is a modify", () => {
    const d = want(443, "tg443", { protocol: "TLS", certificateArn: "c2", sslPolicy: "p" });
    const cur = have("l", 443, "arn:tg443", { protocol: "TLS", certificateArn: "c1", sslPolicy: "p" });
    expect(planListeners([cur], [d], arns).modify).toHaveLength(1);
    expect(planListeners([{ ...cur, certificateArn: "c2", sslPolicy: "q" }], [d], arns).modify).toHaveLength(1);
    expect(isListenerPlanEmpty(planListeners([{ ...cur, certificateArn: "c2" }], [d], arns))).toBe(true);
  });

  it("duplicate listeners on one port (moto accepts them): keeps the matching one, deletes the others", () => {
    const plan = planListeners([have("dup1", 80, "arn:other"), have("dup2", 80, "arn:tg80")], [want(80, "tg80")], arns);
    expect(plan.modify).toEqual([]);
    expect(plan.remove).toEqual(["dup1"]);
  });
});
