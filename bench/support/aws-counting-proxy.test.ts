import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  awsClassicHealthChecks,
  awsNlbDnsNames,
  startCountingProxy,
  type CountingProxy,
} from "./aws-counting-proxy.js";

describe("moto answers mended as AWS gives them", () => {
  it("moves the region of an NLB DNS name behind 'elb', as AWS names NLBs", () => {
    const xml =
      "<DNSName>a1b2-1.us-east-1.elb.amazonaws.com</DNSName><DNSName>x-1.eu-west-3.elb.amazonaws.com</DNSName>";
    expect(awsNlbDnsNames(xml)).toBe(
      "<DNSName>a1b2-1.elb.us-east-1.amazonaws.com</DNSName><DNSName>x-1.elb.eu-west-3.amazonaws.com</DNSName>",
    );
    expect(awsNlbDnsNames("<DNSName>a-1.elb.us-east-1.amazonaws.com</DNSName>")).toBe(
      "<DNSName>a-1.elb.us-east-1.amazonaws.com</DNSName>",
    );
  });

  it("gives a classic ELB without a health check AWS's default one on its first instance port, and keeps one it has", () => {
    const bare = "<member><LoadBalancerName>a</LoadBalancerName><InstancePort>31000</InstancePort></member>";
    const checked =
      "<member><LoadBalancerName>b</LoadBalancerName><InstancePort>31001</InstancePort><HealthCheck><Target>HTTP:1/x</Target></HealthCheck></member>";
    const out = awsClassicHealthChecks(`<LoadBalancerDescriptions>${bare}${checked}</LoadBalancerDescriptions>`);
    expect(out).toContain(
      "<LoadBalancerName>a</LoadBalancerName><HealthCheck><Target>TCP:31000</Target><Interval>30</Interval>",
    );
    expect(out.match(/<HealthCheck>/g)).toHaveLength(2);
    expect(out).toContain("<Target>HTTP:1/x</Target>");
  });
});

describe("counting proxy", () => {
  let proxy: CountingProxy | undefined;
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/xml" });
      res.end("<DNSName>n-1.us-east-1.elb.amazonaws.com</DNSName>");
    });
  });
  afterEach(async () => {
    await proxy?.stop();
    await new Promise((r) => upstream.close(r));
  });

  it("counts each request by API and operation and mends ELBv2 answers only", async () => {
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = await startCountingProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    const post = async (form: string): Promise<string> => {
      const res = await fetch(proxy!.endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form,
      });
      return res.text();
    };
    expect(await post("Action=DescribeLoadBalancers&Version=2015-12-01")).toBe(
      "<DNSName>n-1.elb.us-east-1.amazonaws.com</DNSName>",
    );
    expect(await post("Action=DescribeInstances&Version=2016-11-15")).toBe(
      "<DNSName>n-1.us-east-1.elb.amazonaws.com</DNSName>",
    );
    expect(proxy.seen()).toEqual([
      { api: "elbv2", operation: "DescribeLoadBalancers" },
      { api: "ec2", operation: "DescribeInstances" },
    ]);
    proxy.clearSeen();
    expect(proxy.seen()).toEqual([]);
  });
});
