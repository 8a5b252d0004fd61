import type { CoreV1Event, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { CaseContext } from "./cases.js";
import { conformanceCases } from "./cases.js";
import type { ConformanceKubeClient } from "./kube-client.js";
import { REFUSAL_STORM_LIMIT, refusedAddressCase, requestedAddressCases } from "./requested-address-cases.js";
import { UNMET_REQUIREMENT_REASONS, resolveSkips, unmetRequirementSkips } from "./skip-lists.js";

const UNAVAILABLE = "203.0.113.77";
const WINDOW_MS = 300;

/** How the fake implementation answers a Service asking for an address it cannot hand out; default: correctly. */
interface Behaviour {
  /** Events on the Service once it exists; default one Warning by "some-lb". */
  events?: CoreV1Event[];
  /** Written at once: the implementation ignores the request and hands out this address. */
  ingressAtOnce?: string;
  /** Written this long after creation. */
  ingressAfterMs?: { ms: number; ip: string };
  deleteAfterMs?: number;
}

const warning = (component: string, count = 1, reason = "AllocationFailed"): CoreV1Event => ({
  metadata: {},
  involvedObject: {},
  type: "Warning",
  reason,
  message: `cannot hand out ${UNAVAILABLE}`,
  count,
  source: { component },
});

function fakeWorld(behaviour: Behaviour = {}) {
  const created: V1Service[] = [];
  let svc: V1Service | undefined;
  let createdAt = 0;
  const kube = {
    core: {
      createNamespacedService: async ({ body }: { namespace: string; body: V1Service }) => {
        svc = structuredClone(body);
        created.push(structuredClone(body));
        createdAt = Date.now();
        if (behaviour.ingressAtOnce) svc.status = { loadBalancer: { ingress: [{ ip: behaviour.ingressAtOnce }] } };
        return svc;
      },
    },
    service: async () => {
      const age = Date.now() - createdAt;
      if (behaviour.deleteAfterMs !== undefined && age >= behaviour.deleteAfterMs) return undefined;
      if (svc && behaviour.ingressAfterMs && age >= behaviour.ingressAfterMs.ms)
        svc.status = { loadBalancer: { ingress: [{ ip: behaviour.ingressAfterMs.ip }] } };
      return structuredClone(svc);
    },
    events: async () => (svc ? (behaviour.events ?? [warning("some-lb")]) : []),
  } as unknown as ConformanceKubeClient;
  const ctx: CaseContext = {
    kube,
    namespace: "ns",
    loadBalancerClass: "x/y",
    requestableAddress: undefined,
    unavailableAddress: UNAVAILABLE,
    timeoutMs: 400,
  };
  return { ctx, created };
}

const refused = refusedAddressCase(WINDOW_MS);

describe("reports a requested address it cannot hand out", () => {
  it("passes an implementation that warns, writes no ingress and keeps the Service, whatever its reason and component", async () => {
    const { ctx, created } = fakeWorld({ events: [warning("metallb-controller"), warning("x", 2, "Whatever")] });
    await refused.run(ctx);
    expect(created[0]?.spec?.loadBalancerIP).toBe(UNAVAILABLE);
    expect(created[0]?.spec?.loadBalancerClass).toBe("x/y");
  });

  it("fails when the only warning is the apiserver's repair loop, or there is none", async () => {
    const repair = fakeWorld({ events: [warning("ipallocator-repair-controller", 1, "ClusterIPNotAllocated")] });
    await expect(refused.run(repair.ctx)).rejects.toThrow(/timed out after 400 ms waiting for a Warning event/);
    const normal = fakeWorld({ events: [{ ...warning("some-lb"), type: "Normal" }] });
    await expect(refused.run(normal.ctx)).rejects.toThrow(/waiting for a Warning event/);
  });

  it("fails at once when the implementation hands out some address instead of refusing", async () => {
    const { ctx } = fakeWorld({ events: [], ingressAtOnce: "192.0.2.100" });
    await expect(refused.run(ctx)).rejects.toThrow(`asked for ${UNAVAILABLE}, got a load balancer at 192.0.2.100`);
  });

  it("fails when an ingress is written during the window, after the warning", async () => {
    const { ctx } = fakeWorld({ ingressAfterMs: { ms: WINDOW_MS / 2, ip: UNAVAILABLE } });
    await expect(refused.run(ctx)).rejects.toThrow(`got a load balancer at ${UNAVAILABLE}`);
  });

  it("fails when the Service is deleted", async () => {
    const { ctx } = fakeWorld({ deleteAfterMs: WINDOW_MS / 2 });
    await expect(refused.run(ctx)).rejects.toThrow(/the Service was deleted/);
  });

  it(`allows retries up to ${REFUSAL_STORM_LIMIT} warnings, counted through event counts, and fails a storm`, async () => {
    const retried = fakeWorld({ events: [warning("a", REFUSAL_STORM_LIMIT - 5), warning("b", 5, "Other")] });
    await refused.run(retried.ctx);
    const storm = fakeWorld({ events: [warning("a", REFUSAL_STORM_LIMIT), warning("b")] });
    await expect(refused.run(storm.ctx)).rejects.toThrow(
      new RegExp(`${REFUSAL_STORM_LIMIT + 1} Warning events within ${WINDOW_MS} ms of the first.*a retry storm`),
    );
  });

  it("requires an unavailable address: skipped without one, with a reason naming the flag", async () => {
    const { ctx } = fakeWorld();
    await expect(refused.run({ ...ctx, unavailableAddress: undefined })).rejects.toThrow(/no unavailable address/);
    const name = refused.name;
    expect(
      resolveSkips(unmetRequirementSkips(conformanceCases, { requestableAddress: "192.0.2.1", dataPath: {} })),
    ).toEqual(new Map([[name, UNMET_REQUIREMENT_REASONS.unavailableAddress]]));
    expect(UNMET_REQUIREMENT_REASONS.unavailableAddress).toContain("--unavailable-address");
  });

  it("runs next to our own invalid-address case, after the honoured one", () => {
    const names = conformanceCases.map((c) => c.name);
    const at = names.indexOf(refused.name);
    expect(requestedAddressCases.map((c) => c.name)).toEqual(names.slice(at - 2, at + 1));
    expect(names[at - 1]).toBe("reports an invalid requested address with one Warning event and provisions nothing");
  });
});
