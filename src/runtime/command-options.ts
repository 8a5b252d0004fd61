/**
 * Option parsers and process plumbing shared by every program's command line (the controller's `run`, the
 * speaker, a provider's own commands), so a duration or a bind address means the same thing everywhere.
 */
import { InvalidArgumentError } from "commander";
import type { Logger } from "pino";
import { loadKubeConfigData } from "../kube/kube-config-loader.js";
import { KubeConnection } from "../kube/kube-connection.js";
import { parseDuration } from "../util/duration.js";

/** "250ms", "10s", "2m" -> milliseconds. */
export const durationOption = (value: string): number => {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

export const positiveIntOption = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
};

export const portOption = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError(`expected a port (1-65535), got "${value}"`);
  return n;
};

/** A repeatable option: every occurrence is kept, in order. */
export const repeatableOption = (value: string, previous: string[]): string[] => [...previous, value];

/** A repeatable, comma-separated list option: items are trimmed and empty ones dropped. */
export const listOption = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean),
];

/** "host:port" or "[v6]:port" -> [host, port]; an empty host binds every address. */
export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  const port = Number(address.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`invalid bind address "${address}": expected host:port`);
  }
  return [address.slice(0, i).replace(/^\[|\]$/g, "") || "0.0.0.0", port];
}

/** `--kubeconfig`, else $KUBECONFIG, ~/.kube/config, in-cluster config; one pool of keep-alive connections. */
export function loadKubeConfig(path: string | undefined): KubeConnection {
  return new KubeConnection(loadKubeConfigData(path));
}

/** SIGINT/SIGTERM abort the returned controller (a graceful stop); a second signal exits at once. */
export function abortOnSignals(logger: Logger): AbortController {
  const abort = new AbortController();
  const onSignal = (sig: string): void => {
    if (abort.signal.aborted) process.exit(130);
    logger.info({ signal: sig }, "shutting down");
    abort.abort(new Error(`received ${sig}`));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  return abort;
}
