/**
 * One-shot network probes. Each opens its own connection and closes it afterwards: a kept-alive connection
 * would keep answering from a process that no longer accepts new ones, and the health checkers in front of
 * kube-proxy (cloud LBs, CPK's Envoy) open a connection per check too. Both settle promptly when `signal`
 * aborts, and never reject.
 */
import http from "node:http";
import net from "node:net";
import { hostPort, type ProbeResult, type ProbeTarget } from "./probe-target.js";
import { errorMessage } from "../../src/toolkit/index.js";

export const PROBE_USER_AGENT = "lb-operator-speaker/1";

export type ProbeFn = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

export const networkProbe: ProbeFn = (target, signal) =>
  target.kind === "http" ? probeHttp(target, signal) : probeTcp(target, signal);

/** Healthy iff the server answers HTTP 200 (kube-proxy healthz semantics); the body is not read. */
export function probeHttp(target: Extract<ProbeTarget, { kind: "http" }>, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    if (signal.aborted) {
      finish({ ok: false, detail: "aborted" });
      return;
    }
    const req = http.request(
      {
        host: target.ip,
        port: target.port,
        path: target.path.startsWith("/") ? target.path : `/${target.path}`,
        method: "GET",
        agent: false,
        signal,
        headers: {
          Host: hostPort(target.ip, target.port),
          "User-Agent": PROBE_USER_AGENT,
          Accept: "*/*",
          Connection: "close",
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on("error", () => undefined);
        req.destroy();
        finish(status === 200 ? { ok: true, detail: "HTTP 200" } : { ok: false, detail: `HTTP ${status}` });
      },
    );
    req.on("error", (err) => finish({ ok: false, detail: signal.aborted ? "aborted" : errorMessage(err) }));
    req.end();
  });
}

/** Healthy iff a TCP connection is established; it is closed at once. */
export function probeTcp(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ ok: false, detail: "aborted" });
      return;
    }
    const socket = net.connect({ host: target.ip, port: target.port });
    const finish = (r: ProbeResult): void => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => finish({ ok: false, detail: "aborted" });
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish({ ok: true, detail: "connected" }));
    socket.once("error", (err) => finish({ ok: false, detail: errorMessage(err) }));
  });
}
