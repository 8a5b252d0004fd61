/**
 * The proxy in front of moto that bench/aws-calls.ts points both controllers at: it counts every request by API
 * and operation, and mends two places where moto's answers are not AWS's, which cloud-provider-aws relies on.
 *
 * moto 5.2.5 names an NLB `<name>-1.<region>.elb.amazonaws.com` (moto/elbv2/models.py), the pattern of a classic
 * ELB; AWS names it `<name>-<id>.elb.<region>.amazonaws.com`. cloud-provider-aws tells the two apart by that
 * suffix (validateServiceAnnotations in pkg/providers/v1/aws_validations.go: a Service annotated nlb whose address
 * ends in ".elb.amazonaws.com" "cannot update Load Balancer Type annotation ... after creation"), so on moto's
 * names it refuses every reconcile of an NLB after the first.
 *
 * moto gives a classic ELB no HealthCheck until ConfigureHealthCheck; AWS gives every one a default (TCP to the
 * first listener's instance port, interval 30 s, timeout 5 s, unhealthy 2, healthy 10). cloud-provider-aws
 * dereferences it (ensureLoadBalancerHealthCheck, aws_loadbalancer.go) and crashes on moto's answer.
 *
 * Both mends apply to both controllers' answers.
 *
 * ELB, ELBv2 and EC2 speak the query protocol: a form POST whose `Action` is the operation and whose `Version`
 * tells the API apart (ELB 2012-06-01, ELBv2 2015-12-01, EC2 2016-11-15).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { classify, forwardRequest, readBody } from "../../test/env/aws-fault-proxy.js";

export interface CountedRequest {
  /** ec2, elb, elbv2, or the Version when it is none of them. */
  readonly api: string;
  readonly operation: string;
}

export interface CountingProxy {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Every request since the last clear, in arrival order. */
  seen(): readonly CountedRequest[];
  clearSeen(): void;
  stop(): Promise<void>;
}

/** `<name>-1.us-east-1.elb.amazonaws.com` -> `<name>-1.elb.us-east-1.amazonaws.com`, in ELBv2 answers only. */
export function awsNlbDnsNames(xml: string): string {
  return xml.replace(
    /<DNSName>([^<]*?)\.([a-z]{2}(?:-[a-z]+)+-\d+)\.elb\.amazonaws\.com<\/DNSName>/g,
    "<DNSName>$1.elb.$2.amazonaws.com</DNSName>",
  );
}

/**
 * A default HealthCheck in every classic ELB description that has none. moto writes LoadBalancerName first in
 * each description, so the text between two of them is one description; element order does not matter to SDKs.
 */
export function awsClassicHealthChecks(xml: string): string {
  const parts = xml.split("<LoadBalancerName>");
  return parts
    .map((part, i) => {
      if (i === 0 || part.includes("<HealthCheck>")) return part;
      const port = /<InstancePort>(\d+)<\/InstancePort>/.exec(part)?.[1];
      if (port === undefined) return part;
      const check =
        `<HealthCheck><Target>TCP:${port}</Target><Interval>30</Interval><Timeout>5</Timeout>` +
        `<UnhealthyThreshold>2</UnhealthyThreshold><HealthyThreshold>10</HealthyThreshold></HealthCheck>`;
      return part.replace("</LoadBalancerName>", `</LoadBalancerName>${check}`);
    })
    .join("<LoadBalancerName>");
}

function mend(api: string, operation: string, body: Buffer): Buffer {
  if (api === "elbv2") return Buffer.from(awsNlbDnsNames(body.toString("utf8")));
  if (api === "elb" && operation === "DescribeLoadBalancers")
    return Buffer.from(awsClassicHealthChecks(body.toString("utf8")));
  return body;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const seen: CountedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const kind = classify(req, body);
      const api = kind.api === "unknown" ? (kind.params.get("Version") ?? "") : kind.api;
      const operation = kind.operation;
      seen.push({ api, operation });
      const answer = await forwardRequest(upstream, req, body);
      const text = answer.status === 200 ? mend(api, operation, answer.body) : answer.body;
      const headers = { ...answer.headers, "content-length": String(text.length) };
      delete headers["transfer-encoding"];
      res.writeHead(answer.status, headers);
      res.end(text);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`aws-counting-proxy: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen: () => [...seen],
    clearSeen: () => void (seen.length = 0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
