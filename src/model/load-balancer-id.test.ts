import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import { newService, tweakNamespace } from "../../test/fixtures/services.js";
import { deepFreeze } from "./freeze.js";
import { base32, loadBalancerId } from "./load-balancer-id.js";

const RFC1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

describe("base32", () => {
  // RFC 4648 section 10 test vectors, lowercased and unpadded.
  it.each([
    ["", ""],
    ["f", "my"],
    ["fo", "mzxq"],
    ["foo", "mzxw6"],
    ["foob", "mzxw6yq"],
    ["fooba", "mzxw6ytb"],
    ["foobar", "mzxw6ytboi"],
  ])("%j -> %j", (input, want) => {
    expect(base32(new TextEncoder().encode(input))).toBe(want);
  });
});

describe("loadBalancerId", () => {
  const svc = deepFreeze(newService("web"));

  it("carries the owner fields and a 20-character RFC 1035 short name", () => {
    const id = loadBalancerId(svc, "cluster-1");
    expect(id).toMatchObject({ clusterId: "cluster-1", namespace: "default", name: "web", uid: "uid-web" });
    expect(id.shortName).toHaveLength(20);
    expect(id.shortName).toMatch(RFC1035_LABEL);
    expect(id.shortName.startsWith("lb")).toBe(true);
  });

  it("is lb + base32(sha256(clusterId/namespace/name/uid)) cut to 20", () => {
    const digest = createHash("sha256").update("cluster-1/default/web/uid-web").digest();
    expect(loadBalancerId(svc, "cluster-1").shortName).toBe(`lb${base32(digest).slice(0, 18)}`);
  });

  it("is stable", () => {
    expect(loadBalancerId(svc, "c").shortName).toBe(loadBalancerId(deepFreeze(newService("web")), "c").shortName);
  });

  it.each([
    ["another cluster", () => loadBalancerId(svc, "cluster-2")],
    ["another namespace", () => loadBalancerId(newService("web", tweakNamespace("prod")), "cluster-1")],
    ["another name", () => loadBalancerId(newService("api"), "cluster-1")],
    [
      "re-created (new uid)",
      () =>
        loadBalancerId(
          newService("web", (s) => void (s.metadata!.uid = "uid-2")),
          "cluster-1",
        ),
    ],
  ])("differs for %s", (_name, other) => {
    expect(other().shortName).not.toBe(loadBalancerId(svc, "cluster-1").shortName);
  });

  it.each(["namespace", "name", "uid"] as const)("throws InvalidSpecError without metadata.%s", (key) => {
    const broken = newService("web", (s) => void delete s.metadata![key]);
    expect(() => loadBalancerId(broken, "c")).toThrow(InvalidSpecError);
    expect(() => loadBalancerId(broken, "c")).toThrow(`metadata.${key}`);
  });

  it("rejects an empty clusterId as a configuration error", () => {
    expect(() => loadBalancerId(svc, "")).toThrow(RangeError);
  });
});
