/**
 * The conformance cases that send real traffic through the load balancer, after the reachability checks of the
 * upstream `[Feature:LoadBalancer]` e2e tests (../shared/reference/upstream.md section 2): every backend reached,
 * source ranges enforced, the client address kept with Local, a removed backend drained. They need the runner to
 * reach the load balancer (`requires: ["dataPath"]`) and create their backends with echo-pods.ts.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import type { V1Service } from "@kubernetes/client-node";
import type { CaseContext, ConformanceCase } from "./cases.js";
import {
  DENY_TIMEOUT_MS,
  answerOf,
  describeAnswers,
  eventuallyAllAnswer,
  eventuallyAnswered,
  loadBalancerUrl,
  requireDataPath,
  sendRequests,
} from "./data-path-probes.js";
import { type EchoPod, deleteEchoPod, startEchoPods } from "./echo-pods.js";
import { eventually } from "../../testing/eventually.js";
import { createService, waitForLoadBalancer } from "./service-waits.js";
import { conformanceService } from "./test-service.js";

/** Fresh connections in a measured round: with two backends, 30 all going to one is a 1-in-a-billion chance. */
const REACH_REQUESTS = 30;
/** Consecutive unanswered requests that count as "denied" (one alone may be a lost packet). */
const DENY_STREAK = 5;
/** Consecutive answers, none from the removed backend, that count as "drained". */
const DRAIN_STREAK = 20;

/** The Service (selector `app: <name>`, port 80 -> 8080) and its backends; resolves once both are usable. */
async function serviceWithBackends(
  ctx: CaseContext,
  name: string,
  backends: number,
  ...tweaks: ((svc: V1Service) => void)[]
): Promise<{ svc: V1Service; pods: EchoPod[] }> {
  const dp = requireDataPath(ctx);
  const body = conformanceService(ctx.namespace, name, ctx.loadBalancerClass, ...tweaks);
  await createService(ctx, body);
  const pods = await startEchoPods(ctx, {
    prefix: name,
    selector: body.spec?.selector ?? {},
    count: backends,
    image: dp.echoImage,
  });
  return { svc: await waitForLoadBalancer(ctx, name), pods };
}

/** A single-address range: /32 or /128. */
const hostRange = (ip: string): string => `${ip}/${isIP(ip) === 6 ? 128 : 32}`;

/** A documentation address (RFC 5737 / RFC 3849) of the client's family that is not the client. */
function otherAddress(client: string): string {
  if (isIP(client) === 6) return client === "2001:db8::1" ? "2001:db8::2" : "2001:db8::1";
  return client === "203.0.113.1" ? "203.0.113.2" : "203.0.113.1";
}

/** agnhost's `/clientip` answer `ip:port` (`[v6]:port` for IPv6) -> ip, IPv4-mapped IPv6 unmapped. */
export function clientIpOf(answer: string): string {
  const host = answer.slice(0, answer.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  // A dual-stack listener reports an IPv4 peer as ::ffff:a.b.c.d; it is the same address.
  return host.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

export const dataPathCases: readonly ConformanceCase[] = [
  {
    name: "should reach every backend through the load balancer with externalTrafficPolicy Cluster",
    requires: ["dataPath"],
    async run(ctx) {
      // upstream e2e "should target all nodes with endpoints": two backends on two nodes when there are two.
      const dp = requireDataPath(ctx);
      const { svc, pods } = await serviceWithBackends(ctx, "reach", 2);
      const names = pods.map((p) => p.name);
      const url = loadBalancerUrl(svc, "/hostname");
      await eventuallyAllAnswer(ctx, url, names);
      // Converged: now every fresh connection must be answered, by our backends only, and spread over both.
      const round = await sendRequests(dp, url, REACH_REQUESTS);
      const seen = describeAnswers(round);
      const answers = round.map(answerOf);
      assert.ok(
        answers.every((a) => a !== undefined),
        `not every request was answered: ${seen}`,
      );
      assert.ok(
        answers.every((a) => a !== undefined && names.includes(a)),
        `something other than ${names.join(", ")} answered: ${seen}`,
      );
      for (const name of names)
        assert.ok(
          answers.includes(name),
          `${name} (on ${pods.find((p) => p.name === name)?.nodeName ?? "?"}) got no request: ${seen}`,
        );
    },
  },
  {
    name: "should only allow access from service loadbalancer source ranges",
    requires: ["dataPath"],
    async run(ctx) {
      // upstream e2e "should only allow access from service loadbalancer source ranges", from one client: allowed
      // as a /32, denied when the range moves to another address, allowed again when it moves back.
      const dp = requireDataPath(ctx);
      const allow = [hostRange(dp.clientAddress)];
      const deny = [hostRange(otherAddress(dp.clientAddress))];
      const { svc } = await serviceWithBackends(ctx, "srcrange", 1, (s) => (s.spec!.loadBalancerSourceRanges = allow));
      const url = loadBalancerUrl(svc, "/hostname");
      await eventuallyAnswered(ctx, url, `an answer with loadBalancerSourceRanges ${allow.join(",")} (the client's)`);

      await ctx.kube.updateService(ctx.namespace, "srcrange", (s) => (s.spec!.loadBalancerSourceRanges = deny));
      await eventually(
        `${DENY_STREAK} consecutive requests to go unanswered with loadBalancerSourceRanges ${deny.join(",")} (not the client's)`,
        async () => {
          const round = await sendRequests(dp, url, DENY_STREAK, DENY_TIMEOUT_MS);
          assert.ok(
            round.every((r) => answerOf(r) === undefined),
            `still answered: ${describeAnswers(round)}`,
          );
          return true;
        },
        { timeoutMs: ctx.timeoutMs, intervalMs: 200 },
      );

      await ctx.kube.updateService(ctx.namespace, "srcrange", (s) => (s.spec!.loadBalancerSourceRanges = allow));
      await eventuallyAnswered(ctx, url, `an answer again with loadBalancerSourceRanges ${allow.join(",")}`);
    },
  },
  {
    name: "should preserve the client address with externalTrafficPolicy Local",
    requires: ["dataPath"],
    async run(ctx) {
      // upstream e2e "ExternalTrafficPolicy: Local should work for type=LoadBalancer": the backend sees the client.
      const dp = requireDataPath(ctx);
      const { svc } = await serviceWithBackends(ctx, "local", 1, (s) => (s.spec!.externalTrafficPolicy = "Local"));
      const url = loadBalancerUrl(svc, "/clientip");
      const first = await eventuallyAnswered(ctx, url, "an answer to /clientip with externalTrafficPolicy Local");
      const round = await sendRequests(dp, url, 5);
      const answers = [first, ...round.map(answerOf)];
      for (const answer of answers) {
        assert.ok(answer !== undefined, `a request went unanswered after the first answer: ${describeAnswers(round)}`);
        // assert.ok, not assert.equal: the runner prints the message, and equal's would end in a diff of two addresses.
        assert.ok(
          clientIpOf(answer) === dp.clientAddress,
          `the backend saw the request come from ${answer}, not from the client ${dp.clientAddress}: the source address was not preserved`,
        );
      }
    },
  },
  {
    name: "should stop sending new connections to a removed backend",
    requires: ["dataPath"],
    async run(ctx) {
      const dp = requireDataPath(ctx);
      const { svc, pods } = await serviceWithBackends(ctx, "removed", 2);
      const [kept, removed] = pods.map((p) => p.name);
      assert.ok(kept !== undefined && removed !== undefined);
      const url = loadBalancerUrl(svc, "/hostname");
      await eventuallyAllAnswer(ctx, url, [kept, removed]);
      await deleteEchoPod(ctx, removed);
      await eventually(
        `${DRAIN_STREAK} consecutive fresh requests all answered by ${kept}, none by the deleted ${removed}`,
        async () => {
          const round = await sendRequests(dp, url, DRAIN_STREAK);
          assert.ok(
            round.every((r) => answerOf(r) === kept),
            describeAnswers(round),
          );
          return true;
        },
        { timeoutMs: ctx.timeoutMs, intervalMs: 200 },
      );
    },
  },
];
