/**
 * HAProxy as the userspace baseline of the data-path bench: TCP mode (layer 4, no HTTP parsing), one frontend
 * per forwarded port, one server each, run in the foreground inside a lab namespace.
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { LabHost } from "../../test/env/lab/lab-network.js";

export interface HaproxyForward {
  /** Frontend/backend name (letters, digits, dashes). */
  readonly name: string;
  readonly listen: { readonly ip: string; readonly port: number };
  readonly server: { readonly ip: string; readonly port: number };
}

/**
 * The config: defaults as close to a plain TCP relay as HAProxy gets (no health checks, so the server is never
 * marked down mid-run; no logging, so the relay does no I/O besides the two sockets). Threads are HAProxy's
 * default (one per CPU), as a packaged HAProxy would run.
 */
export function haproxyConfig(forwards: readonly HaproxyForward[]): string {
  const lines = [
    "global",
    "  maxconn 4096",
    "",
    "defaults",
    "  mode tcp",
    "  timeout connect 5s",
    "  timeout client 120s",
    "  timeout server 120s",
  ];
  for (const f of forwards) {
    if (!/^[A-Za-z0-9-]+$/.test(f.name))
      throw new RangeError(`haproxy forward name "${f.name}" must be letters, digits and dashes`);
    lines.push(
      "",
      `frontend fe-${f.name}`,
      `  bind ${f.listen.ip}:${f.listen.port}`,
      `  default_backend be-${f.name}`,
      "",
      `backend be-${f.name}`,
      `  server s-${f.name} ${f.server.ip}:${f.server.port}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Writes the config to `configPath`, checks it (`haproxy -c`) and starts `haproxy -db` (foreground) in `host`.
 * The process is the lab's (LabHost.spawn): killed at teardown. Callers wait for the listeners themselves.
 */
export async function startHaproxy(
  host: LabHost,
  forwards: readonly HaproxyForward[],
  paths: { configPath: string; logPath: string },
): Promise<ChildProcess> {
  writeFileSync(paths.configPath, haproxyConfig(forwards));
  await host.exec("haproxy", ["-c", "-q", "-f", paths.configPath]);
  return host.spawn("haproxy", ["-db", "-f", paths.configPath], { logPath: paths.logPath });
}
