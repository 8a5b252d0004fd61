import { describe, expect, it } from "vitest";
import type { ControlPlane } from "../../test/env/control-plane.js";
import { ccmCloudConfig, type RaceAccount } from "./aws-contenders.js";

describe("the CCM's cloud-config", () => {
  it("sets what spares it IMDS and points EC2, ELB and ELBv2 at the proxy by their SDK ServiceIDs", () => {
    const account: RaceAccount = {
      cp: {} as ControlPlane,
      awsEndpoint: "http://127.0.0.1:4000",
      region: "us-east-1",
      clusterId: "bench",
      vpcId: "vpc-1",
      subnetId: "subnet-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    };
    const ini = ccmCloudConfig(account);
    for (const line of ["Region = us-east-1", "VPC = vpc-1", "SubnetID = subnet-1", "KubernetesClusterID = bench"])
      expect(ini).toContain(line);
    const services = [...ini.matchAll(/^Service = (.+)$/gm)].map((m) => m[1]);
    expect(services).toEqual(["EC2", "Elastic Load Balancing", "Elastic Load Balancing v2"]);
    expect(ini.match(/^URL = http:\/\/127\.0\.0\.1:4000$/gm)).toHaveLength(3);
  });
});
