import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../src/errors.js";
import { deriveSpec } from "../src/model/derive-spec.js";
import { newSpec, newSpecId, newSpecInputs } from "./new-spec.js";

describe("newSpec", () => {
  it("is deriveSpec over the Service, slices and nodes newSpecInputs builds", () => {
    const options = { name: "api", nodes: [{ name: "n1", zone: "z1" }], annotations: { k: "v" } };
    const inputs = newSpecInputs(options);
    expect(newSpec(options)).toEqual(
      deriveSpec(inputs.service, inputs.endpointSlices, inputs.nodes, { clusterId: inputs.clusterId }),
    );
  });

  it("defaults: one TCP port 80 named http on NodePort 30080, Cluster policy, IPv4, no nodes", () => {
    const spec = newSpec();
    expect(spec.ports).toEqual([{ name: "http", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined }]);
    expect(spec.backends).toEqual({ mode: "nodePort", nodes: [] });
    expect(spec.healthCheck).toEqual({ kind: "http", source: "kubeProxy", port: 10256, path: "/healthz" });
    expect([spec.externalTrafficPolicy, spec.ipFamilies, spec.selector]).toEqual(["Cluster", ["IPv4"], { app: "web" }]);
    expect(spec.id).toMatchObject({ clusterId: "test-cluster", namespace: "default", name: "web" });
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it("gives a real short name (the documented rule) and a UUID per Service", () => {
    const web = newSpecId();
    const api = newSpecId({ name: "api" });
    expect(web.shortName).toMatch(/^lb[a-z2-7]{18}$/);
    expect(web.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(api.uid).not.toBe(web.uid);
    expect(newSpecId({ uid: "u-1" }).uid).toBe("u-1");
    expect(newSpecId()).toEqual(web);
  });

  it("ports default their name and NodePort; Local sets the health check", () => {
    const spec = newSpec({
      ports: [{ port: 443 }, { port: 53, protocol: "UDP", name: "dns", nodePort: 31053 }],
      healthCheckNodePort: 32100,
    });
    expect(spec.ports.map((p) => [p.name, p.protocol, p.port, p.nodePort])).toEqual([
      ["p443", "TCP", 443, 30443],
      ["dns", "UDP", 53, 31053],
    ]);
    expect(spec.externalTrafficPolicy).toBe("Local");
    expect(spec.healthCheck).toEqual({ kind: "http", source: "healthCheckNodePort", port: 32100, path: "/healthz" });
  });

  it("nodes come out as the controller sorts and carries them", () => {
    const spec = newSpec({
      nodes: [
        { name: "n2", zone: "z2", providerID: "x://n2" },
        { name: "n1", addresses: [{ type: "InternalIP", address: "10.0.0.1" }] },
      ],
    });
    expect(spec.backends).toEqual({
      mode: "nodePort",
      nodes: [
        {
          name: "n1",
          addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
          providerID: undefined,
          zone: undefined,
          labels: {},
        },
        {
          name: "n2",
          addresses: [],
          providerID: "x://n2",
          zone: "z2",
          labels: { "topology.kubernetes.io/zone": "z2" },
        },
      ],
    });
  });

  it("endpoints mean pod mode: no NodePorts, TCP health check, only ready endpoints, ports resolved", () => {
    const spec = newSpec({
      ports: [{ name: "http", port: 80 }],
      endpoints: [
        { ip: "10.1.0.9", ports: { http: 8080 }, nodeName: "n1" },
        { ip: "10.1.0.2" },
        { ip: "10.1.0.3", ready: false },
      ],
    });
    expect(spec.ports[0]?.nodePort).toBeUndefined();
    expect(spec.healthCheck).toEqual({ kind: "tcp", source: "targetPort" });
    expect(spec.backends).toEqual({
      mode: "pod",
      endpoints: [
        { ip: "10.1.0.2", ports: { http: 80 }, nodeName: undefined, zone: undefined, ready: true, serving: true },
        { ip: "10.1.0.9", ports: { http: 8080 }, nodeName: "n1", zone: undefined, ready: true, serving: true },
      ],
    });
  });

  it("carries annotations, source ranges, requested address, families and affinity as deriveSpec reads them", () => {
    const spec = newSpec({
      annotations: { a: "1" },
      sourceRanges: ["10.0.0.1/8"],
      loadBalancerIP: "192.0.2.5",
      ipFamilies: ["IPv4", "IPv6"],
      clientIPAffinity: true,
      selector: { tier: "x" },
    });
    expect(spec).toMatchObject({
      annotations: { a: "1" },
      sourceRanges: ["10.0.0.0/8"],
      requestedIPs: ["192.0.2.5"],
      ipFamilies: ["IPv4", "IPv6"],
      sessionAffinity: { type: "ClientIP", timeoutSeconds: 10800 },
      selector: { tier: "x" },
    });
  });

  it("refuses what the controller refuses, with the same InvalidSpecError", () => {
    expect(() =>
      newSpec({
        ports: [
          { port: 80, name: "a" },
          { port: 80, name: "b" },
        ],
      }),
    ).toThrow(InvalidSpecError);
    expect(() => newSpec({ ports: [] })).toThrow(/spec\.ports: a LoadBalancer Service needs at least one port/);
  });
});
