import type { KubernetesListObject, V1ConfigMap } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { ResilientInformer } from "./informer.js";
import { WatchExpiredError, type WatchEventType, type WatchTransport } from "./watch-stream.js";

/** A watch transport whose connections the test drives: it sees each call's resourceVersion and ends it at will. */
class ScriptedWatch implements WatchTransport {
  readonly calls: {
    resourceVersion: string;
    send: (type: WatchEventType, obj: unknown) => void;
    end: (err?: unknown) => void;
  }[] = [];
  watch(
    _path: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const ended = Promise.withResolvers<void>();
    signal.addEventListener("abort", () => ended.reject(signal.reason), { once: true });
    this.calls.push({
      resourceVersion,
      send: onEvent,
      end: (err) => (err === undefined ? ended.resolve() : ended.reject(err)),
    });
    return ended.promise;
  }
  get last() {
    return this.calls.at(-1)!;
  }
}

const cm = (name: string, rv: string, data = "x"): V1ConfigMap => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
  data: { v: data },
});
const tick = () => new Promise((r) => setImmediate(r));
async function settle() {
  for (let i = 0; i < 10; i++) await tick();
}

function harness(lists: (() => KubernetesListObject<V1ConfigMap>)[]) {
  const clock = new FakeClock();
  const watch = new ScriptedWatch();
  const seen: string[] = [];
  let listCalls = 0;
  let restarts = 0;
  const informer = new ResilientInformer<V1ConfigMap>({
    resource: "configmaps",
    path: "/api/v1/configmaps",
    kubeConfig: { clusters: [], users: [], contexts: [], currentContext: "" },
    watch,
    clock,
    logger: pino({ level: "silent" }),
    watchdogMs: 60_000,
    list: async () => {
      const next = lists[Math.min(listCalls++, lists.length - 1)]!;
      return next();
    },
    handlers: {
      onAdd: (o) => seen.push(`add ${o.metadata!.name}@${o.metadata!.resourceVersion}`),
      onUpdate: (a, b) =>
        seen.push(`update ${a.metadata!.name}@${a.metadata!.resourceVersion}->${b.metadata!.resourceVersion}`),
      onDelete: (o) => seen.push(`delete ${o.metadata!.name}`),
    },
    onRestart: () => restarts++,
  });
  return { clock, watch, seen, informer, listCalls: () => listCalls, restarts: () => restarts };
}

const listOf =
  (rv: string, ...items: V1ConfigMap[]) =>
  () => ({ metadata: { resourceVersion: rv }, items });

describe("ResilientInformer", () => {
  it("resolves start after the first list, then watches from its resourceVersion; updates carry the old object", async () => {
    const h = harness([listOf("10", cm("a", "5"))]);
    await h.informer.start();
    expect(h.seen).toEqual(["add a@5"]);
    expect(h.informer.get("a", "ns")?.metadata?.resourceVersion).toBe("5");
    expect(h.watch.last.resourceVersion).toBe("10");
    h.watch.last.send("MODIFIED", cm("a", "11", "y"));
    h.watch.last.send("ADDED", cm("b", "12"));
    h.watch.last.send("DELETED", cm("a", "13"));
    expect(h.seen).toEqual(["add a@5", "update a@5->11", "add b@12", "delete a"]);
    await h.informer.stop();
  });

  it("restarts after a watch error with backoff and resumes from the last resourceVersion without relisting", async () => {
    const h = harness([listOf("10", cm("a", "5"))]);
    await h.informer.start();
    h.watch.last.send("MODIFIED", cm("a", "20"));
    h.watch.last.end(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    await settle();
    const watchesBefore = h.watch.calls.length;
    h.clock.advance(999);
    await settle();
    expect(h.watch.calls.length).toBe(watchesBefore);
    h.clock.advance(1);
    await settle();
    expect(h.restarts()).toBe(1);
    expect(h.watch.calls.length).toBe(watchesBefore + 1);
    expect(h.watch.last.resourceVersion).toBe("20");
    expect(h.listCalls()).toBe(1);
    await h.informer.stop();
  });

  it("resumes a watch the server ended from the last resourceVersion, without relisting", async () => {
    const h = harness([listOf("10", cm("a", "5"))]);
    await h.informer.start();
    h.watch.last.send("MODIFIED", cm("a", "15"));
    h.watch.last.end();
    await settle();
    // Ended as soon as it opened: the next one waits a second, so a server that ends every watch is not hammered.
    const watches = h.watch.calls.length;
    h.clock.advance(1_000);
    await settle();
    expect(h.watch.calls.length).toBe(watches + 1);
    expect(h.watch.last.resourceVersion).toBe("15");
    expect(h.listCalls()).toBe(1);
    expect(h.restarts()).toBe(0);
    await h.informer.stop();
  });

  it("a bookmark moves the resourceVersion on and reaches no handler", async () => {
    const h = harness([listOf("10", cm("a", "5"))]);
    await h.informer.start();
    h.watch.last.send("BOOKMARK", { metadata: { resourceVersion: "99" } });
    h.watch.last.end(new Error("read ECONNRESET"));
    await settle();
    h.clock.advance(1_000);
    await settle();
    expect(h.seen).toEqual(["add a@5"]);
    expect(h.informer.list()).toHaveLength(1);
    expect(h.watch.last.resourceVersion).toBe("99");
    await h.informer.stop();
  });

  it("relists on 410 Gone and reports objects that vanished meanwhile as deleted", async () => {
    const h = harness([listOf("10", cm("a", "5"), cm("b", "6")), listOf("30", cm("b", "6"), cm("c", "29"))]);
    await h.informer.start();
    h.watch.last.end(new WatchExpiredError("watch: HTTP 410: too old resource version"));
    await settle();
    expect(h.listCalls()).toBe(2);
    expect(h.seen).toEqual(["add a@5", "add b@6", "delete a", "add c@29"]);
    expect(h.watch.last.resourceVersion).toBe("30");
    await h.informer.stop();
  });

  it("waits out a failing first list, retrying with backoff", async () => {
    let fail = 2;
    const h = harness([
      () => {
        if (fail-- > 0) throw new Error("connect ECONNREFUSED");
        return listOf("7", cm("a", "1"))();
      },
    ]);
    let started = false;
    const start = h.informer.start().then(() => (started = true));
    await settle();
    expect(started).toBe(false);
    h.clock.advance(1_000);
    await settle();
    h.clock.advance(2_000);
    await settle();
    await start;
    expect(started).toBe(true);
    expect(h.seen).toEqual(["add a@1"]);
    await h.informer.stop();
  });

  it("a watchdog restarts a watch that stayed silent for its period", async () => {
    const h = harness([listOf("10")]);
    await h.informer.start();
    const watches = h.watch.calls.length;
    h.clock.advance(60_000);
    await settle();
    h.clock.advance(0);
    await settle();
    expect(h.restarts()).toBe(1);
    expect(h.watch.calls.length).toBe(watches + 1);
    await h.informer.stop();
  });
});

describe("ResilientInformer memory", () => {
  it("drops managedFields from cached objects", async () => {
    const withFields = {
      ...cm("a", "5"),
      metadata: { ...cm("a", "5").metadata, managedFields: [{ manager: "kubectl", operation: "Update" }] },
    };
    const h = harness([listOf("10", withFields)]);
    await h.informer.start();
    expect(h.informer.get("a", "ns")?.metadata?.managedFields).toBeUndefined();
    h.watch.last.send("MODIFIED", { ...withFields, metadata: { ...withFields.metadata, resourceVersion: "11" } });
    expect(h.informer.get("a", "ns")?.metadata?.resourceVersion).toBe("11");
    expect(h.informer.get("a", "ns")?.metadata?.managedFields).toBeUndefined();
    await h.informer.stop();
  });
});
