/**
 * What the speaker probes before forwarding to a destination. Node mode probes kube-proxy's health endpoints:
 * a Service's healthCheckNodePort answers 200 only while the node has local endpoints for it (503 otherwise),
 * and :10256/healthz is the node's own health; pod mode can only check that the pod port accepts TCP. So UDP
 * destinations get no target at all (desired-data-plan.ts): EndpointSlice readiness is their health.
 */
export type ProbeTarget =
  | { readonly kind: "http"; readonly ip: string; readonly port: number; readonly path: string }
  | { readonly kind: "tcp"; readonly ip: string; readonly port: number };

export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed (or "HTTP 200"), for logs. */
  readonly detail: string;
}

/** A stable identity for a target: equal targets give equal keys, so callers can rebuild target lists freely. */
export function probeKey(t: ProbeTarget): string {
  const host = hostPort(t.ip, t.port);
  return t.kind === "http" ? `http://${host}${t.path}` : `tcp://${host}`;
}

/** `ip:port`, bracketing IPv6 as URLs and Host headers need. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
