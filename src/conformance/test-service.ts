import type { V1Service } from "@kubernetes/client-node";

/**
 * The Service every case starts from, ready to POST: the same shape as test/fixtures `apiService` (one TCP port
 * 80 -> 8080, Cluster traffic policy, no affinity, IPv4), in the given namespace and class. Shipped in the product
 * because the CLI runs the cases; the test fixtures stay test-only.
 */
export function conformanceService(
  namespace: string,
  name: string,
  loadBalancerClass: string,
  ...tweaks: ((svc: V1Service) => void)[]
): V1Service {
  const svc: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, annotations: {} },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass,
      selector: { app: name },
      ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: 8080 }],
      externalTrafficPolicy: "Cluster",
      sessionAffinity: "None",
      ipFamilies: ["IPv4"],
    },
  };
  for (const tweak of tweaks) tweak(svc);
  return svc;
}

/** Pod mode: no NodePorts (KEP-1864 `allocateLoadBalancerNodePorts: false`). */
export const withoutNodePorts = (svc: V1Service): void => {
  svc.spec!.allocateLoadBalancerNodePorts = false;
};
