import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import { newService, tweakAnnotation, tweakLocal } from "../../test/fixtures/services.js";
import type { ServiceTweak } from "../../test/fixtures/services.js";
import { deepFreeze } from "./freeze.js";
import {
  copyAnnotations,
  deriveExternalTrafficPolicy,
  deriveHealthCheck,
  deriveIPFamilies,
  deriveSessionAffinity,
} from "./service-settings.js";

const svc = (...tweaks: ServiceTweak[]): V1Service => deepFreeze(newService("web", ...tweaks));
const spec =
  (f: (s: NonNullable<V1Service["spec"]>) => void): ServiceTweak =>
  (s) =>
    f(s.spec!);

function expectInvalid(attempt: () => unknown, field: string, text: string): void {
  expect(attempt).toThrow(InvalidSpecError);
  expect(attempt).toThrow(`${field}: `);
  expect(attempt).toThrow(text);
}

describe("deriveIPFamilies", () => {
  it.each([
    { name: "fixture", tweak: spec(() => undefined), want: ["IPv4"] },
    { name: "unset defaults to IPv4", tweak: spec((s) => void delete s.ipFamilies), want: ["IPv4"] },
    { name: "empty defaults to IPv4", tweak: spec((s) => void (s.ipFamilies = [])), want: ["IPv4"] },
    { name: "IPv6 single stack", tweak: spec((s) => void (s.ipFamilies = ["IPv6"])), want: ["IPv6"] },
    {
      name: "dual stack, order kept",
      tweak: spec((s) => void (s.ipFamilies = ["IPv6", "IPv4"])),
      want: ["IPv6", "IPv4"],
    },
  ])("$name", ({ tweak, want }) => {
    expect(deriveIPFamilies(svc(tweak))).toEqual(want);
  });

  it.each([
    { tweak: spec((s) => void (s.ipFamilies = ["IPv5"])), field: "spec.ipFamilies[0]", text: '"IPv5"' },
    { tweak: spec((s) => void (s.ipFamilies = ["IPv4", "IPv4"])), field: "spec.ipFamilies[1]", text: "duplicate" },
    {
      tweak: spec((s) => void (s.ipFamilies = ["IPv4", "IPv6", "IPv4"])),
      field: "spec.ipFamilies",
      text: "at most two",
    },
  ])("rejects $field", ({ tweak, field, text }) => {
    expectInvalid(() => deriveIPFamilies(svc(tweak)), field, text);
  });
});

describe("deriveExternalTrafficPolicy", () => {
  it.each([
    { tweak: spec((s) => void delete s.externalTrafficPolicy), want: "Cluster" },
    { tweak: spec((s) => void (s.externalTrafficPolicy = "Cluster")), want: "Cluster" },
    { tweak: tweakLocal(), want: "Local" },
  ])("-> $want", ({ tweak, want }) => {
    expect(deriveExternalTrafficPolicy(svc(tweak))).toBe(want);
  });

  it("rejects an unknown policy", () => {
    expectInvalid(
      () => deriveExternalTrafficPolicy(svc(spec((s) => void (s.externalTrafficPolicy = "Global")))),
      "spec.externalTrafficPolicy",
      '"Global"',
    );
  });
});

describe("deriveSessionAffinity", () => {
  it.each([
    { name: "unset", tweak: spec((s) => void delete s.sessionAffinity), want: { type: "None" } },
    { name: "None", tweak: spec(() => undefined), want: { type: "None" } },
    {
      name: "ClientIP default timeout",
      tweak: spec((s) => void (s.sessionAffinity = "ClientIP")),
      want: { type: "ClientIP", timeoutSeconds: 10800 },
    },
    {
      name: "ClientIP explicit timeout",
      tweak: spec(
        (s) => ((s.sessionAffinity = "ClientIP"), (s.sessionAffinityConfig = { clientIP: { timeoutSeconds: 60 } })),
      ),
      want: { type: "ClientIP", timeoutSeconds: 60 },
    },
  ])("$name", ({ tweak, want }) => {
    expect(deriveSessionAffinity(svc(tweak))).toEqual(want);
  });

  it.each([
    { tweak: spec((s) => void (s.sessionAffinity = "Cookie")), field: "spec.sessionAffinity", text: '"Cookie"' },
    {
      tweak: spec(
        (s) => ((s.sessionAffinity = "ClientIP"), (s.sessionAffinityConfig = { clientIP: { timeoutSeconds: 0 } })),
      ),
      field: "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
      text: "outside 1-86400",
    },
    {
      tweak: spec(
        (s) => ((s.sessionAffinity = "ClientIP"), (s.sessionAffinityConfig = { clientIP: { timeoutSeconds: 86401 } })),
      ),
      field: "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
      text: "86401",
    },
  ])("rejects $field", ({ tweak, field, text }) => {
    expectInvalid(() => deriveSessionAffinity(svc(tweak)), field, text);
  });
});

describe("deriveHealthCheck", () => {
  it.each([
    {
      name: "Cluster: kube-proxy healthz",
      s: svc(),
      podMode: false,
      policy: "Cluster",
      want: { kind: "http", source: "kubeProxy", port: 10256, path: "/healthz" },
    },
    {
      name: "Local: healthCheckNodePort",
      s: svc(tweakLocal(32123)),
      podMode: false,
      policy: "Local",
      want: { kind: "http", source: "healthCheckNodePort", port: 32123, path: "/healthz" },
    },
    {
      name: "pod mode, Cluster",
      s: svc(),
      podMode: true,
      policy: "Cluster",
      want: { kind: "tcp", source: "targetPort" },
    },
    {
      name: "pod mode, Local (no healthCheckNodePort needed)",
      s: svc(spec((x) => void (x.externalTrafficPolicy = "Local"))),
      podMode: true,
      policy: "Local",
      want: { kind: "tcp", source: "targetPort" },
    },
  ] as const)("$name", ({ s, podMode, policy, want }) => {
    expect(deriveHealthCheck(s, podMode, policy)).toEqual(want);
  });

  it("rejects Local without healthCheckNodePort", () => {
    const s = svc(spec((x) => void (x.externalTrafficPolicy = "Local")));
    expectInvalid(
      () => deriveHealthCheck(s, false, "Local"),
      "spec.healthCheckNodePort",
      "Local needs a healthCheckNodePort",
    );
  });
});

describe("copyAnnotations", () => {
  it("returns a fresh frozen copy with sorted keys", () => {
    const s = svc(tweakAnnotation("z", "1"), tweakAnnotation("a", "2"));
    const copy = copyAnnotations(s);
    expect(copy).toEqual({ a: "2", z: "1" });
    expect(Object.keys(copy)).toEqual(["a", "z"]);
    expect(copy).not.toBe(s.metadata!.annotations);
    expect(Object.isFrozen(copy)).toBe(true);
  });

  it("handles missing annotations", () => {
    expect(copyAnnotations(svc((s) => void delete s.metadata!.annotations))).toEqual({});
  });
});
