/**
 * The cases about addresses a Service asks for in spec.loadBalancerIP (deprecated in the API since 1.24, still the
 * one provider-neutral way to ask) or our annotation: honoured when the implementation can hand the address out,
 * refused visibly when it cannot. Registered among the control-plane cases (cases.ts).
 */
import assert from "node:assert/strict";
import type { CoreV1Event } from "@kubernetes/client-node";
import type { CaseContext, ConformanceCase } from "./cases.js";
import { delay, eventually } from "../../testing/eventually.js";
import { describeEvents, emissions, implementationWarnings } from "./service-events.js";
import { addressOf, createService, ingressOf, waitForLoadBalancer } from "./service-waits.js";
import { conformanceService } from "./test-service.js";

/** How long the refused-address case watches the Service after the first Warning: nothing may be provisioned. */
export const REFUSAL_WINDOW_MS = 5_000;

/**
 * More Warning emissions than this about the refused Service, by the end of the window, is a retry storm. Retrying
 * is allowed: the upstream service controller re-emits SyncLoadBalancerFailed on each retry, 5 s after the failure
 * and doubling to 300 s (k8s.io/cloud-provider controllers/service minRetryDelay/maxRetryDelay), so at most twice
 * in the window; a controller-runtime reconciler returning an error is requeued with client-go's default per-item
 * backoff (5 ms doubling), about 10 failures in 5 s; MetalLB v0.16.1 does not requeue an allocation failure
 * (SyncStateErrorNoRetry, controller/main.go SetBalancer) and warns again only when the Service or its endpoints
 * change; ours warns once (an InvalidSpecError is not retried). A loop without backoff goes well past 20 within the
 * window, and one that emits through client-go's recorder reaches its spam filter's burst of 25 events per object
 * (tools/record/events_cache.go defaultSpamBurst) before it is throttled: the limit sits below that burst and twice
 * above the backoff that retries fastest.
 */
export const REFUSAL_STORM_LIMIT = 20;

/** How often the refused-address case looks at the Service during the window. */
const WATCH_INTERVAL_MS = 250;

/**
 * A request the implementation cannot meet (`ctx.unavailableAddress`: outside every pool or subnet, or any address
 * where the implementation hands out none on request) must be refused where the user looks: a Warning event on the
 * Service, whatever its reason and whoever reports it (the API names neither: MetalLB reports AllocationFailed,
 * the cloud-provider service controller SyncLoadBalancerFailed), no ingress during the window, and the Service left
 * in place. Upstream e2e has the same shape for a static IP it does not own: the Service stays pending. `windowMs`
 * is a parameter so the unit test can shorten it; the suite uses REFUSAL_WINDOW_MS.
 */
export function refusedAddressCase(windowMs: number = REFUSAL_WINDOW_MS): ConformanceCase {
  return {
    name: "reports a requested address it cannot hand out with a Warning event and provisions nothing",
    requires: ["unavailableAddress"],
    async run(ctx) {
      const address = ctx.unavailableAddress;
      assert.ok(address, "the target gave no unavailable address");
      const name = "refused";
      await createService(
        ctx,
        conformanceService(ctx.namespace, name, ctx.loadBalancerClass, (s) => (s.spec!.loadBalancerIP = address)),
      );
      // An ingress ends the wait too: an implementation that hands out an address without a warning fails at once.
      const first = await eventually(
        `a Warning event about ${ctx.namespace}/${name}`,
        async () => {
          const svc = await ctx.kube.service(ctx.namespace, name);
          if (ingressOf(svc).length > 0) return { ingress: addressOf(svc) };
          return implementationWarnings(await ctx.kube.events(ctx.namespace, name)).length > 0 ? {} : undefined;
        },
        { timeoutMs: ctx.timeoutMs },
      );
      assert.equal(first.ingress, undefined, `asked for ${address}, got a load balancer at ${first.ingress ?? ""}`);
      const deadline = Date.now() + windowMs;
      do {
        const svc = await ctx.kube.service(ctx.namespace, name);
        assert.ok(svc, "the Service was deleted: a refused request must leave it in place");
        assert.deepEqual(ingressOf(svc), [], `asked for ${address}, got a load balancer at ${addressOf(svc)}`);
        await delay(Math.min(WATCH_INTERVAL_MS, windowMs));
      } while (Date.now() < deadline);
      const warnings = implementationWarnings(await ctx.kube.events(ctx.namespace, name));
      assert.ok(
        emissions(warnings) <= REFUSAL_STORM_LIMIT,
        `${emissions(warnings)} Warning events within ${windowMs} ms of the first, more than ${REFUSAL_STORM_LIMIT} (a retry storm): ${describeEvents(warnings)}`,
      );
    },
  };
}

/** lb-operator's own refusal: its reason, its component, and one event (InvalidSpecError is not retried). */
const invalidAnnotationCase: ConformanceCase = {
  name: "reports an invalid requested address with one Warning event and provisions nothing",
  async run(ctx) {
    // The apiserver itself rejects a malformed source-range annotation (1.36 validates it), so the bad input that
    // reaches a controller is an annotation only we read: this case judges lb-operator's implementations only, and
    // another implementation's skip list names it (conformance/metallb.skips.json). Its provider-neutral form is
    // refusedAddressCase above.
    await createService(
      ctx,
      conformanceService(ctx.namespace, "badip", ctx.loadBalancerClass, (s) => {
        s.metadata!.annotations = { "lb-operator.io/load-balancer-ips": "not-an-ip" };
      }),
    );
    // Ours only: under load the apiserver's ClusterIP repair loop may add its own Warning (ClusterIPNotAllocated).
    const ours = (e: CoreV1Event): boolean =>
      e.type === "Warning" && (e.reportingComponent === "lb-operator" || e.source?.component === "lb-operator");
    const warning = await eventually("a Warning event", async () =>
      (await ctx.kube.events(ctx.namespace, "badip")).find(ours),
    );
    assert.equal(warning.reason, "SyncLoadBalancerFailed");
    assert.match(warning.message ?? "", /not-an-ip/);
    await delay(2_000);
    const svc = await ctx.kube.service(ctx.namespace, "badip");
    assert.deepEqual(ingressOf(svc), []);
    const warnings = (await ctx.kube.events(ctx.namespace, "badip")).filter(ours);
    const seen = describeEvents(warnings);
    assert.equal(warnings.length, 1, `expected one Warning event, got: ${seen}`);
    assert.equal(warnings[0]?.count ?? 1, 1, `the warning repeated (a retry storm): ${seen}`);
  },
};

const honouredAddressCase: ConformanceCase = {
  name: "honours a requested address in spec.loadBalancerIP",
  requires: ["requestableAddress"],
  async run(ctx: CaseContext) {
    assert.ok(ctx.requestableAddress, "the target gave no requestable address");
    await createService(
      ctx,
      conformanceService(
        ctx.namespace,
        "asked",
        ctx.loadBalancerClass,
        (s) => (s.spec!.loadBalancerIP = ctx.requestableAddress),
      ),
    );
    assert.equal(addressOf(await waitForLoadBalancer(ctx, "asked")), ctx.requestableAddress);
  },
};

/** In the order the suite runs them: honoured, then ours refused, then anyone's refused. */
export const requestedAddressCases: readonly ConformanceCase[] = [
  honouredAddressCase,
  invalidAnnotationCase,
  refusedAddressCase(),
];
