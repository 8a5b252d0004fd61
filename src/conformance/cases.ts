/**
 * The provider-neutral conformance cases, modelled on the upstream `[sig-network] LoadBalancers
 * [Feature:LoadBalancer]` e2e tests (../shared/reference/upstream.md section 2). Each case runs against a
 * fresh namespace through the real API only, so the same cases run against every provider in the tests and
 * against a user's cluster through `lb-operator conformance`. Framework-neutral on purpose (node:assert): vitest
 * runs them through test/conformance/run-conformance.ts, the CLI through ./runner.ts.
 */
import assert from "node:assert/strict";
import type { V1Service } from "@kubernetes/client-node";
import { LOAD_BALANCER_CLEANUP_FINALIZER } from "../model/annotations.js";
import type { DataPathAccess } from "./data-path.js";
import { dataPathCases } from "./data-path-cases.js";
import { delay, eventually } from "../../testing/eventually.js";
import type { ConformanceKubeClient } from "./kube-client.js";
import {
  addressOf,
  createService,
  ingressOf,
  waitForLoadBalancer,
  waitForLoadBalancerDestroy,
} from "./service-waits.js";
import { conformanceService, withoutNodePorts } from "./test-service.js";
import { implementationWarnings } from "./service-events.js";
import { requestedAddressCases } from "./requested-address-cases.js";

export interface CaseContext {
  kube: ConformanceKubeClient;
  namespace: string;
  /** spec.loadBalancerClass for Services the provider under test must handle. */
  loadBalancerClass: string;
  /** An address the provider can hand out on request, if it supports requested addresses. */
  requestableAddress: string | undefined;
  /** An address the implementation cannot hand out (outside every pool or subnet), to see it refuse the request. */
  unavailableAddress: string | undefined;
  /** How long to wait for a load balancer (upstream: 2 min "LB lag"; local providers are much faster). */
  timeoutMs: number;
  /** How the runner sends traffic through the load balancer, if it can (the data-path cases need it). */
  dataPath?: DataPathAccess;
}

/** An input a case cannot run without; `unmetRequirementSkips` (skip-lists.ts) turns a missing one into a skip. */
export type CaseRequirement = "requestableAddress" | "unavailableAddress" | "dataPath";
export const CASE_REQUIREMENTS: readonly CaseRequirement[] = ["requestableAddress", "unavailableAddress", "dataPath"];

export interface ConformanceCase {
  readonly name: string;
  /** Inputs the case cannot run without; a runner skips it when the target does not give them. */
  readonly requires?: readonly CaseRequirement[];
  run(ctx: CaseContext): Promise<void>;
}

function toClusterIP(svc: V1Service): void {
  // upstream jig ChangeServiceType zeroes nodePorts; class and LB-only fields must go with the type.
  svc.spec!.type = "ClusterIP";
  delete svc.spec!.loadBalancerClass;
  delete svc.spec!.allocateLoadBalancerNodePorts;
  delete svc.spec!.externalTrafficPolicy;
  delete svc.spec!.healthCheckNodePort;
  delete svc.spec!.loadBalancerSourceRanges;
  for (const p of svc.spec!.ports ?? []) delete p.nodePort;
}

/**
 * LoadBalancer -> ClusterIP (ingress emptied, cleanup finalizer gone) -> LoadBalancer again -> deleted (the
 * deletion completes). `checkLoadBalancer` judges the Service each time it has a load balancer.
 */
async function typeRoundTrip(
  ctx: CaseContext,
  name: string,
  checkLoadBalancer: (svc: V1Service) => void,
): Promise<void> {
  await createService(ctx, conformanceService(ctx.namespace, name, ctx.loadBalancerClass));
  checkLoadBalancer(await waitForLoadBalancer(ctx, name));
  await ctx.kube.updateService(ctx.namespace, name, toClusterIP);
  await waitForLoadBalancerDestroy(ctx, name);
  await ctx.kube.updateService(ctx.namespace, name, (s) => {
    s.spec!.type = "LoadBalancer";
    s.spec!.loadBalancerClass = ctx.loadBalancerClass;
  });
  checkLoadBalancer(await waitForLoadBalancer(ctx, name));
  await ctx.kube.core.deleteNamespacedService({ namespace: ctx.namespace, name });
  await eventually("deletion to complete", async () => (await ctx.kube.service(ctx.namespace, name)) === undefined, {
    timeoutMs: ctx.timeoutMs,
  });
}

/** The cases that need only the API: what the provider and controller write, not where traffic goes. */
const controlPlaneCases: readonly ConformanceCase[] = [
  {
    name: "creates a load balancer with an ingress address and reports no failure",
    async run(ctx) {
      // What the API promises a Service of the class: an ingress address, and no Warning event on the way. The
      // cloud-provider service controller's Normal reasons (EnsuredLoadBalancer...) and its cleanup finalizer are
      // conventions of that controller, not of the API (../shared/reference/upstream.md section 1): another
      // implementation reports with its own reasons (MetalLB: IPAllocated, controller/service.go); the finalizer
      // has its own case below, after upstream e2e #8.
      await createService(ctx, conformanceService(ctx.namespace, "basic", ctx.loadBalancerClass));
      await waitForLoadBalancer(ctx, "basic");
      await delay(500);
      const warnings = implementationWarnings(await ctx.kube.events(ctx.namespace, "basic"));
      assert.deepEqual(
        warnings.map((e) => `${e.reason ?? "?"}: ${e.message ?? ""}`),
        [],
        "Warning events while creating the load balancer",
      );
    },
  },
  {
    name: "should be able to change the ports of a TCP service and keep its address",
    async run(ctx) {
      await createService(ctx, conformanceService(ctx.namespace, "ports", ctx.loadBalancerClass));
      const before = addressOf(await waitForLoadBalancer(ctx, "ports"));
      await ctx.kube.updateService(ctx.namespace, "ports", (s) => (s.spec!.ports![0]!.port = 81));
      // Providers that report ports[] must report the new one; others only keep their address.
      const after = await eventually("status to reflect port 81", async () => {
        const svc = await ctx.kube.service(ctx.namespace, "ports");
        const ports = ingressOf(svc)[0]?.ports;
        return ports === undefined || ports.some((p) => p.port === 81) ? svc : undefined;
      });
      assert.equal(addressOf(after), before, "the address changed when only the port changed");
    },
  },
  {
    name: "should remove the load balancer when the Service stops being one and create it again when it returns",
    async run(ctx) {
      // upstream e2e #1's last step and #8 without the finalizer: the contract every implementation has, whether
      // or not it uses the cleanup finalizer (if it does, it must have removed it once the type changed).
      await typeRoundTrip(ctx, "again", () => undefined);
    },
  },
  {
    name: "should handle load balancer cleanup finalizer for service",
    async run(ctx) {
      // upstream e2e #8: finalizer present on LB, removed after -> ClusterIP, re-added after -> LB; deletion completes.
      await typeRoundTrip(ctx, "fin", (svc) =>
        assert.ok(
          svc.metadata?.finalizers?.includes(LOAD_BALANCER_CLEANUP_FINALIZER),
          `finalizer ${LOAD_BALANCER_CLEANUP_FINALIZER} missing: ${JSON.stringify(svc.metadata?.finalizers ?? [])}`,
        ),
      );
    },
  },
  {
    name: "should be able to create LoadBalancer Service without NodePort and change it",
    async run(ctx) {
      // upstream e2e #9: allocateLoadBalancerNodePorts=false -> nodePort 0; flip to true -> nodePort allocated, ingress unchanged.
      await createService(ctx, conformanceService(ctx.namespace, "nonp", ctx.loadBalancerClass, withoutNodePorts));
      const svc = await waitForLoadBalancer(ctx, "nonp");
      assert.equal(svc.spec?.ports?.[0]?.nodePort ?? 0, 0);
      const before = addressOf(svc);
      await ctx.kube.updateService(ctx.namespace, "nonp", (s) => (s.spec!.allocateLoadBalancerNodePorts = true));
      const after = await eventually("a nodePort", async () => {
        const s = await ctx.kube.service(ctx.namespace, "nonp");
        return s?.spec?.ports?.[0]?.nodePort ? s : undefined;
      });
      await delay(500);
      assert.equal(addressOf(await ctx.kube.service(ctx.namespace, "nonp")), before);
      assert.ok(after.spec?.ports?.[0]?.nodePort);
    },
  },
  {
    name: "should switch externalTrafficPolicy and session affinity and keep the address",
    async run(ctx) {
      await createService(ctx, conformanceService(ctx.namespace, "policy", ctx.loadBalancerClass));
      const before = addressOf(await waitForLoadBalancer(ctx, "policy"));
      await ctx.kube.updateService(ctx.namespace, "policy", (s) => (s.spec!.externalTrafficPolicy = "Local"));
      const local = await eventually("a healthCheckNodePort", async () => {
        const s = await ctx.kube.service(ctx.namespace, "policy");
        return s?.spec?.healthCheckNodePort ? s : undefined;
      });
      assert.ok(local.spec!.healthCheckNodePort! >= 30000);
      await ctx.kube.updateService(ctx.namespace, "policy", (s) => (s.spec!.sessionAffinity = "ClientIP"));
      await delay(500);
      assert.equal(addressOf(await waitForLoadBalancer(ctx, "policy")), before);
    },
  },
  {
    name: "should keep its address while loadBalancerSourceRanges change",
    async run(ctx) {
      // upstream "should only allow access from service loadbalancer source ranges", the control-plane half: the
      // ranges change in place (firewall / security group / data path), the load balancer is not replaced. The
      // traffic half is the data-path case of the same name (data-path-cases.ts).
      await createService(
        ctx,
        conformanceService(
          ctx.namespace,
          "ranges",
          ctx.loadBalancerClass,
          (s) => (s.spec!.loadBalancerSourceRanges = ["198.51.100.0/24"]),
        ),
      );
      const before = addressOf(await waitForLoadBalancer(ctx, "ranges"));
      await ctx.kube.updateService(
        ctx.namespace,
        "ranges",
        (s) => (s.spec!.loadBalancerSourceRanges = ["203.0.113.0/24", "192.0.2.0/28"]),
      );
      await delay(1_000);
      assert.equal(
        addressOf(await waitForLoadBalancer(ctx, "ranges")),
        before,
        "the address changed when only the source ranges changed",
      );
      const failures = (await ctx.kube.events(ctx.namespace, "ranges")).filter(
        (e) => e.reason === "SyncLoadBalancerFailed",
      );
      assert.deepEqual(
        failures.map((e) => e.message),
        [],
        "changing the source ranges failed",
      );
    },
  },
  ...requestedAddressCases,
  {
    name: "never touches a Service of another load balancer class",
    async run(ctx) {
      await createService(ctx, conformanceService(ctx.namespace, "foreign", "example.com/someone-else"));
      await createService(ctx, conformanceService(ctx.namespace, "mine", ctx.loadBalancerClass));
      await waitForLoadBalancer(ctx, "mine");
      await delay(500);
      const svc = await ctx.kube.service(ctx.namespace, "foreign");
      assert.deepEqual(ingressOf(svc), []);
      assert.deepEqual(svc?.metadata?.finalizers ?? [], []);
      assert.deepEqual(await ctx.kube.events(ctx.namespace, "foreign"), []);
    },
  },
];

/** Every case, in the order runners run them: the control-plane cases, then the ones that send traffic. */
export const conformanceCases: readonly ConformanceCase[] = [...controlPlaneCases, ...dataPathCases];
