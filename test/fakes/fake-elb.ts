/**
 * Test double for the classic ELB client: answers DescribeLoadBalancers from a fixed description (or
 * AccessPointNotFound when there is none) and records every command by name with its input.
 */
import type { LoadBalancerDescription } from "@aws-sdk/client-elastic-load-balancing";
import type { AwsClients } from "../../providers/aws/aws-types.js";

export interface FakeElb {
  readonly client: AwsClients["elb"];
  readonly sent: { readonly command: string; readonly input: unknown }[];
}

export function fakeElb(lb: LoadBalancerDescription | undefined): FakeElb {
  const sent: { command: string; input: unknown }[] = [];
  const send = (command: { constructor: { name: string }; input: unknown }): Promise<unknown> => {
    const name = command.constructor.name.replace(/Command$/, "");
    sent.push({ command: name, input: command.input });
    if (name !== "DescribeLoadBalancers") return Promise.resolve({});
    if (lb) return Promise.resolve({ LoadBalancerDescriptions: [lb] });
    const err = Object.assign(new Error("There is no ACTIVE Load Balancer"), {
      name: "AccessPointNotFoundException",
      $metadata: { httpStatusCode: 400 },
    });
    return Promise.reject(err);
  };
  return { client: { send } as unknown as AwsClients["elb"], sent };
}
