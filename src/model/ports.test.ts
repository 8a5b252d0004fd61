import type { V1ServicePort } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import { newService, tweakPorts } from "../../test/fixtures/services.js";
import { deepFreeze } from "./freeze.js";
import { derivePorts } from "./ports.js";

const svcWith = (...ports: V1ServicePort[]) => deepFreeze(newService("web", tweakPorts(...ports)));

describe("derivePorts", () => {
  it("maps the fixture port in nodePort mode", () => {
    expect(derivePorts(deepFreeze(newService("web")), false)).toEqual([
      { name: "http", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined },
    ]);
  });

  it.each([
    {
      name: "missing protocol means TCP, missing name means empty",
      ports: [{ port: 80, nodePort: 30080 }],
      podMode: false,
      want: [{ name: "", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined }],
    },
    {
      name: "mixed protocols allowed, spec order kept, appProtocol copied",
      ports: [
        { name: "dns-udp", protocol: "UDP", port: 53, nodePort: 30053 },
        { name: "dns-tcp", protocol: "TCP", port: 53, nodePort: 30054, appProtocol: "dns" },
        { name: "sig", protocol: "SCTP", port: 3868, nodePort: 30868 },
      ],
      podMode: false,
      want: [
        { name: "dns-udp", protocol: "UDP", port: 53, nodePort: 30053, appProtocol: undefined },
        { name: "dns-tcp", protocol: "TCP", port: 53, nodePort: 30054, appProtocol: "dns" },
        { name: "sig", protocol: "SCTP", port: 3868, nodePort: 30868, appProtocol: undefined },
      ],
    },
    {
      name: "pod mode: no nodePort needed",
      ports: [{ name: "http", port: 80, targetPort: "http" }],
      podMode: true,
      want: [{ name: "http", protocol: "TCP", port: 80, nodePort: undefined, appProtocol: undefined }],
    },
    {
      name: "pod mode: a user-set nodePort is not used",
      ports: [{ name: "http", port: 80, nodePort: 30080 }],
      podMode: true,
      want: [{ name: "http", protocol: "TCP", port: 80, nodePort: undefined, appProtocol: undefined }],
    },
  ])("$name", ({ ports, podMode, want }) => {
    expect(derivePorts(svcWith(...ports), podMode)).toEqual(want);
  });

  it.each([
    { name: "no ports", ports: [], podMode: false, field: "spec.ports", text: "at least one port" },
    {
      name: "unknown protocol",
      ports: [
        { name: "a", port: 80, nodePort: 30080 },
        { name: "b", protocol: "ICMP", port: 81, nodePort: 30081 },
      ],
      podMode: false,
      field: "spec.ports[1].protocol",
      text: '"ICMP"',
    },
    {
      name: "lowercase protocol",
      ports: [{ protocol: "tcp", port: 80, nodePort: 30080 }],
      podMode: false,
      field: "spec.ports[0].protocol",
      text: '"tcp"',
    },
    {
      name: "missing nodePort",
      ports: [{ name: "a", port: 80 }],
      podMode: false,
      field: "spec.ports[0].nodePort",
      text: "TCP/80 has no nodePort",
    },
    {
      name: "nodePort 0",
      ports: [{ name: "a", port: 80, nodePort: 0 }],
      podMode: false,
      field: "spec.ports[0].nodePort",
      text: "no nodePort",
    },
    { name: "port 0", ports: [{ name: "a", port: 0 }], podMode: true, field: "spec.ports[0].port", text: "not a port" },
    {
      name: "port too big",
      ports: [{ name: "a", port: 70000 }],
      podMode: true,
      field: "spec.ports[0].port",
      text: "not a port",
    },
    {
      name: "duplicate protocol/port",
      ports: [
        { name: "a", port: 80, nodePort: 30080 },
        { name: "b", protocol: "TCP", port: 80, nodePort: 30081 },
      ],
      podMode: false,
      field: "spec.ports[1]",
      text: "duplicate TCP/80, also spec.ports[0]",
    },
    {
      name: "duplicate name",
      ports: [
        { name: "a", port: 80 },
        { name: "a", port: 81 },
      ],
      podMode: true,
      field: "spec.ports[1].name",
      text: 'duplicate name "a"',
    },
  ])("$name", ({ ports, podMode, field, text }) => {
    const svc = svcWith(...ports);
    const attempt = () => derivePorts(svc, podMode);
    expect(attempt).toThrow(InvalidSpecError);
    expect(attempt).toThrow(`${field}: `);
    expect(attempt).toThrow(text);
  });
});
