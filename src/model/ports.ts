/**
 * Service ports as the load balancer sees them. Mixed protocols are allowed (KEP-1435, GA 1.26): a provider that
 * cannot serve one reports it per port in LoadBalancerStatus instead of the whole Service failing here.
 */
import type { V1Service } from "@kubernetes/client-node";
import { InvalidSpecError } from "../errors.js";
import { quote } from "../util/quote.js";
import type { PortSpec, Protocol } from "../provider.js";

const PROTOCOLS: ReadonlySet<string> = new Set<Protocol>(["TCP", "UDP", "SCTP"]);

function isProtocol(value: string): value is Protocol {
  return PROTOCOLS.has(value);
}

function isPortNumber(value: number | undefined): value is number {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * Returns the ports in spec order. In nodePort mode every port must carry its nodePort: dropping one silently would
 * publish a load balancer that quietly lacks a port. In pod mode nodePort is always undefined, even when the user
 * asked for NodePorts anyway (allowed with allocateLoadBalancerNodePorts=false), because nothing routes to them.
 * @throws InvalidSpecError for no ports, a protocol other than TCP/UDP/SCTP (missing means TCP, the API default),
 *   a port outside 1-65535, a missing nodePort in nodePort mode, or two ports sharing a name or a (protocol, port).
 */
export function derivePorts(svc: V1Service, podMode: boolean): PortSpec[] {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) throw new InvalidSpecError("spec.ports", "a LoadBalancer Service needs at least one port");
  const seenNames = new Map<string, number>();
  const seenPorts = new Map<string, number>();
  return ports.map((p, i) => {
    const protocol = p.protocol ?? "TCP";
    if (!isProtocol(protocol)) {
      throw new InvalidSpecError(
        `spec.ports[${i}].protocol`,
        `unsupported protocol ${quote(protocol)}; want TCP, UDP or SCTP`,
      );
    }
    if (!isPortNumber(p.port))
      throw new InvalidSpecError(`spec.ports[${i}].port`, `${String(p.port)} is not a port (1-65535)`);
    if (!podMode && !isPortNumber(p.nodePort)) {
      throw new InvalidSpecError(
        `spec.ports[${i}].nodePort`,
        `port ${protocol}/${p.port} has no nodePort; traffic is sent to NodePorts unless allocateLoadBalancerNodePorts is false`,
      );
    }
    const name = p.name ?? "";
    const key = `${protocol}/${p.port}`;
    const sameKey = seenPorts.get(key);
    if (sameKey !== undefined)
      throw new InvalidSpecError(`spec.ports[${i}]`, `duplicate ${key}, also spec.ports[${sameKey}]`);
    const sameName = seenNames.get(name);
    if (sameName !== undefined)
      throw new InvalidSpecError(
        `spec.ports[${i}].name`,
        `duplicate name ${quote(name)}, also spec.ports[${sameName}]`,
      );
    seenPorts.set(key, i);
    seenNames.set(name, i);
    return { name, protocol, port: p.port, nodePort: podMode ? undefined : p.nodePort, appProtocol: p.appProtocol };
  });
}
