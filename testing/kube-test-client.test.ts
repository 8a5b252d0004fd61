import {
  ApiException,
  type CoreV1Event,
  KubeConfig,
  type V1Service,
  type V1ServiceList,
} from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { KubeTestClient } from "./kube-test-client.js";

// No server: every call a test makes is replaced on `core`, with client-node's own ApiException for HTTP errors.
function client(options?: ConstructorParameters<typeof KubeTestClient>[1]): KubeTestClient {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: "c", server: "http://127.0.0.1:1", skipTLSVerify: true },
    { name: "u", token: "t" },
  );
  return new KubeTestClient(kc, options);
}

const httpError = (code: number): ApiException<string> => new ApiException(code, `HTTP ${code}`, "", {});
const svc = (name: string, resourceVersion = "1"): V1Service => ({
  metadata: { name, namespace: "ns", resourceVersion },
  spec: { ports: [] },
});
const list = (n: number): V1ServiceList => ({ items: Array.from({ length: n }, (_, i) => svc(`s${i}`)) });

describe("KubeTestClient", () => {
  it("creates <prefix>-<random> namespaces, labelled only when asked", async () => {
    const plain = client();
    const created = vi.spyOn(plain.core, "createNamespace").mockResolvedValue({});
    const name = await plain.createNamespace("web");
    expect(name).toMatch(/^web-[a-z0-9]{1,6}$/);
    expect(created.mock.calls[0]?.[0].body.metadata).toEqual({ name, labels: undefined });

    const labelled = client({ namespaceLabels: { team: "net" } });
    const createdLabelled = vi.spyOn(labelled.core, "createNamespace").mockResolvedValue({});
    const other = await labelled.createNamespace("web");
    expect(other).not.toBe(name);
    expect(createdLabelled.mock.calls[0]?.[0].body.metadata).toEqual({ name: other, labels: { team: "net" } });
  });

  it("reads a Service, undefined when it is not there, and rethrows other errors", async () => {
    const kube = client();
    const read = vi.spyOn(kube.core, "readNamespacedService");
    read.mockResolvedValueOnce(svc("a"));
    expect((await kube.service("ns", "a"))?.metadata?.name).toBe("a");
    read.mockRejectedValueOnce(httpError(404));
    expect(await kube.service("ns", "a")).toBeUndefined();
    read.mockRejectedValueOnce(httpError(500));
    await expect(kube.service("ns", "a")).rejects.toMatchObject({ code: 500 });
  });

  it("lists one Service's events, oldest first", async () => {
    const kube = client();
    const event = (name: string, at: string, field: "firstTimestamp" | "eventTime"): CoreV1Event => ({
      metadata: { name },
      involvedObject: {},
      [field]: new Date(at),
    });
    const listed = vi.spyOn(kube.core, "listNamespacedEvent").mockResolvedValue({
      items: [
        event("late", "2024-01-01T00:00:03Z", "firstTimestamp"),
        event("early", "2024-01-01T00:00:01Z", "eventTime"),
        event("mid", "2024-01-01T00:00:02Z", "firstTimestamp"),
      ],
    });
    expect((await kube.events("ns", "web")).map((e) => e.metadata.name)).toEqual(["early", "mid", "late"]);
    expect(listed).toHaveBeenCalledWith({
      namespace: "ns",
      fieldSelector: "involvedObject.kind=Service,involvedObject.name=web",
    });
  });

  it("updates a Service on the current object, rereading after a conflict", async () => {
    const kube = client();
    vi.spyOn(kube.core, "readNamespacedService")
      .mockResolvedValueOnce(svc("a", "1"))
      .mockResolvedValueOnce(svc("a", "2"));
    const replaced = vi
      .spyOn(kube.core, "replaceNamespacedService")
      .mockRejectedValueOnce(httpError(409))
      .mockImplementationOnce(async ({ body }) => body);
    const updated = await kube.updateService("ns", "a", (s) => (s.spec!.loadBalancerClass = "x"));
    expect(updated.metadata?.resourceVersion).toBe("2");
    expect(updated.spec?.loadBalancerClass).toBe("x");
    expect(replaced).toHaveBeenCalledTimes(2);
  });

  it("gives up an update after seven conflicts, and at once on any other error", async () => {
    const kube = client();
    vi.spyOn(kube.core, "readNamespacedService").mockImplementation(async () => svc("a"));
    const replaced = vi.spyOn(kube.core, "replaceNamespacedService").mockRejectedValue(httpError(409));
    await expect(kube.updateService("ns", "a", () => undefined)).rejects.toMatchObject({ code: 409 });
    expect(replaced).toHaveBeenCalledTimes(7);
    replaced.mockClear().mockRejectedValue(httpError(422));
    await expect(kube.updateService("ns", "a", () => undefined)).rejects.toMatchObject({ code: 422 });
    expect(replaced).toHaveBeenCalledTimes(1);
  });

  it("deletes a namespace's Services and waits for them before its pods and the namespace", async () => {
    const kube = client();
    const order: string[] = [];
    vi.spyOn(kube.core, "deleteCollectionNamespacedService").mockImplementation(async () => {
      order.push("services");
      throw httpError(404);
    });
    const listed = vi
      .spyOn(kube.core, "listNamespacedService")
      .mockResolvedValueOnce(list(2))
      .mockResolvedValue(list(0));
    vi.spyOn(kube.core, "deleteCollectionNamespacedPod").mockImplementation(async () => {
      order.push("pods");
      throw httpError(403);
    });
    vi.spyOn(kube.core, "deleteNamespace").mockImplementation(async () => {
      order.push("namespace");
      throw httpError(404);
    });
    await kube.deleteNamespace("ns", 5_000);
    expect(order).toEqual(["services", "pods", "namespace"]);
    expect(listed).toHaveBeenCalledTimes(2);
  });

  it("stops waiting for Services at the timeout, and passes on errors it does not expect", async () => {
    const kube = client();
    vi.spyOn(kube.core, "deleteCollectionNamespacedService").mockResolvedValue({});
    vi.spyOn(kube.core, "listNamespacedService").mockResolvedValue(list(1));
    vi.spyOn(kube.core, "deleteCollectionNamespacedPod").mockRejectedValue(httpError(500));
    const deleted = vi.spyOn(kube.core, "deleteNamespace").mockResolvedValue({});
    await expect(kube.deleteNamespace("ns", 0)).rejects.toMatchObject({ code: 500 });
    expect(deleted).not.toHaveBeenCalled();
  });
});
