import type { V1EndpointSlice } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { newEndpointSlice } from "../../test/fixtures/services.js";
import { EndpointSliceIndex } from "./endpoint-slice-index.js";

const PORTS = [{ name: "http", port: 8080 }];

function slice(service: string, name: string, ip: string, namespace = "default"): V1EndpointSlice {
  return newEndpointSlice(service, name, PORTS, [{ ip }], namespace);
}

function ipsOf(slices: readonly V1EndpointSlice[]): string[] {
  return slices.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();
}

describe("EndpointSliceIndex", () => {
  it("indexes slices by their Service's namespace/name and returns that key", () => {
    const index = new EndpointSliceIndex();
    expect(index.upsert(slice("web", "web-a", "10.0.0.1"))).toBe("default/web");
    expect(index.upsert(slice("web", "web-b", "10.0.0.2"))).toBe("default/web");
    expect(index.upsert(slice("api", "api-a", "10.0.1.1"))).toBe("default/api");
    expect(index.upsert(slice("web", "web-a", "10.0.2.1", "other"))).toBe("other/web");
    expect(ipsOf(index.forService("default", "web"))).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(ipsOf(index.forService("default", "api"))).toEqual(["10.0.1.1"]);
    expect(ipsOf(index.forService("other", "web"))).toEqual(["10.0.2.1"]);
    expect(index.forService("default", "none")).toEqual([]);
  });

  it("replaces a slice with the same name on upsert", () => {
    const index = new EndpointSliceIndex();
    index.upsert(slice("web", "web-a", "10.0.0.1"));
    index.upsert(slice("web", "web-a", "10.0.0.9"));
    expect(ipsOf(index.forService("default", "web"))).toEqual(["10.0.0.9"]);
  });

  it("removes slices, returning the Service key; removing an unknown slice is harmless", () => {
    const index = new EndpointSliceIndex();
    index.upsert(slice("web", "web-a", "10.0.0.1"));
    index.upsert(slice("web", "web-b", "10.0.0.2"));
    expect(index.remove(slice("web", "web-a", "ignored"))).toBe("default/web");
    expect(ipsOf(index.forService("default", "web"))).toEqual(["10.0.0.2"]);
    expect(index.remove(slice("web", "web-b", "ignored"))).toBe("default/web");
    expect(index.forService("default", "web")).toEqual([]);
    expect(index.remove(slice("web", "web-b", "ignored"))).toBe("default/web");
    expect(index.remove(slice("ghost", "ghost-a", "ignored"))).toBe("default/ghost");
  });

  it("ignores slices without the kubernetes.io/service-name label", () => {
    const index = new EndpointSliceIndex();
    const unlabelled = slice("web", "web-a", "10.0.0.1");
    delete unlabelled.metadata!.labels;
    const emptyLabel = slice("web", "web-b", "10.0.0.2");
    emptyLabel.metadata!.labels = { "kubernetes.io/service-name": "" };
    expect(index.upsert(unlabelled)).toBeUndefined();
    expect(index.upsert(emptyLabel)).toBeUndefined();
    expect(index.remove(unlabelled)).toBeUndefined();
    expect(index.forService("default", "web")).toEqual([]);
    expect(index.forService("default", "")).toEqual([]);
  });

  it("files a slice without a namespace under default", () => {
    const index = new EndpointSliceIndex();
    const s = slice("web", "web-a", "10.0.0.1");
    delete s.metadata!.namespace;
    expect(index.upsert(s)).toBe("default/web");
    expect(index.forService("default", "web")).toHaveLength(1);
  });

  it("returns a copy: changing the returned list does not change the index", () => {
    const index = new EndpointSliceIndex();
    index.upsert(slice("web", "web-a", "10.0.0.1"));
    index.forService("default", "web").pop();
    expect(index.forService("default", "web")).toHaveLength(1);
  });
});
