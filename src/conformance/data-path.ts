/**
 * How the conformance runner sends traffic through a load balancer. The data-path cases only see the
 * `DataPathAccess` port, so the tests can fake it; the CLI gives the one below, which requests from the runner's
 * own process (in the lab the lead runs the CLI inside the lab client's network namespace).
 */
import { request } from "node:http";
import { isIP } from "node:net";
import { LbOperatorError, errorMessage } from "../errors.js";

/** One request's outcome. `ok` means an HTTP 2xx answer whose whole body arrived; never an exception. */
export interface DataPathResponse {
  ok: boolean;
  status?: number;
  body?: string;
  error?: string;
}

export interface DataPathAccess {
  /** The address backends see for the runner's requests when the source is preserved (source ranges, Local). */
  clientAddress: string;
  /** The backends' image: it must answer like agnhost netexec (`/hostname`, `/clientip`). */
  echoImage: string;
  /** GET on a fresh connection (a new connection is a new balancing decision); resolves, never rejects. */
  get(url: string, options: { timeoutMs: number }): Promise<DataPathResponse>;
}

/** agnhost's netexec, the echo server the upstream e2e tests use; the lab's kubelet stand-in answers the same. */
export const DEFAULT_ECHO_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.53";

/** Echo answers are a pod name or an `ip:port`; anything near this size is not an echo server. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * GET over node:http with `agent: false`, so each request opens (and closes) its own connection from a new source
 * port: a kept-alive connection would pin every request to one backend and hide a half-working load balancer.
 * The timeout covers the whole exchange, connect included, since a dropped SYN (a source-range deny) never errors.
 */
export function freshHttpGet(url: string, { timeoutMs }: { timeoutMs: number }): Promise<DataPathResponse> {
  return new Promise((resolve) => {
    let settled = false;
    let req: ReturnType<typeof request> | undefined;
    const finish = (response: DataPathResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      resolve(response);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    try {
      req = request(url, { method: "GET", agent: false, headers: { connection: "close" } }, (res) => {
        const status = res.statusCode;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) finish({ ok: false, status, error: `the body exceeds ${MAX_BODY_BYTES} bytes` });
          else chunks.push(chunk);
        });
        res.on("end", () => {
          const ok = status !== undefined && status >= 200 && status < 300;
          finish({ ok, status, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", (err) => finish({ ok: false, status, error: errorMessage(err) }));
      });
    } catch (err) {
      // An invalid URL throws synchronously; the port promises a result, not an exception.
      finish({ ok: false, error: errorMessage(err) });
      return;
    }
    req.on("error", (err) => finish({ ok: false, error: errorMessage(err) }));
    req.end();
  });
}

/** The `lb-operator conformance` flags about the data path, as commander parsed them. */
export interface DataPathFlags {
  dataPath?: boolean;
  clientAddress?: string;
  echoImage?: string;
}

/** The data-path flags do not fit together (the CLI prints the message and exits 1). */
export class DataPathOptionsError extends LbOperatorError {}

/**
 * The CLI's data path, or undefined without `--data-path` (the data-path cases are then skipped with a reason).
 * The client address cannot be discovered from the runner's side: behind NAT the backends see another one.
 */
export function dataPathFromFlags(
  flags: DataPathFlags,
  get: DataPathAccess["get"] = freshHttpGet,
): DataPathAccess | undefined {
  if (!flags.dataPath) {
    if (flags.clientAddress !== undefined) {
      throw new DataPathOptionsError(
        "--client-address is only used with --data-path: add --data-path to run the data-path cases",
      );
    }
    return undefined;
  }
  if (flags.clientAddress === undefined) {
    throw new DataPathOptionsError(
      "--data-path needs --client-address <ip>: the address the backends see for this runner's requests (for source ranges and client-address preservation)",
    );
  }
  if (isIP(flags.clientAddress) === 0) {
    throw new DataPathOptionsError(`--client-address: expected an IPv4 or IPv6 address, got "${flags.clientAddress}"`);
  }
  return { clientAddress: flags.clientAddress, echoImage: flags.echoImage ?? DEFAULT_ECHO_IMAGE, get };
}
