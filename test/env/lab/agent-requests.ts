/**
 * The client side of a lab agent: one-shot TCP/UDP/HTTP requests and the failover loop. Runs inside a lab
 * namespace (see lab-agent.ts); every function resolves (never rejects) with what happened.
 */
import { createSocket } from "node:dgram";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { createConnection } from "node:net";
import { performance } from "node:perf_hooks";
import type {
  HttpGetCommand,
  HttpResult,
  LatencyCommand,
  LatencyResult,
  LoopCommand,
  LoopResult,
  RequestCommand,
  RequestResult,
} from "./agent-protocol.js";

type RequestSpec = Omit<RequestCommand, "op">;

const message = (err: unknown): string =>
  err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);

/** Connects, reads one line, closes. Fails on timeout, reset or a connection closed before a line. */
export function tcpRequest(spec: RequestSpec): Promise<RequestResult> {
  return new Promise((resolve) => {
    let buffer = "";
    let settled = false;
    const socket = createConnection({ host: spec.ip, port: spec.port, localAddress: spec.localAddress });
    const finish = (result: RequestResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, body: "", error: "timeout" }), spec.timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf("\n");
      if (newline >= 0) finish({ ok: true, body: buffer.slice(0, newline) });
    });
    socket.on("end", () =>
      finish(buffer ? { ok: true, body: buffer } : { ok: false, body: "", error: "closed without a line" }),
    );
    socket.on("error", (err) => finish({ ok: false, body: "", error: message(err) }));
  });
}

/** Sends one datagram from a fresh socket and waits for the answer line. */
export function udpRequest(spec: RequestSpec): Promise<RequestResult> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = createSocket("udp4");
    const finish = (result: RequestResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, body: "", error: "timeout" }), spec.timeoutMs);
    socket.on("error", (err) => finish({ ok: false, body: "", error: message(err) }));
    socket.on("message", (msg) => finish({ ok: true, body: msg.toString("utf8").replace(/\n$/, "") }));
    // A connected socket only accepts datagrams from the peer and reports ICMP port unreachable as an error.
    socket.bind({ address: spec.localAddress, port: 0 }, () => {
      socket.connect(spec.port, spec.ip, (err?: Error) => {
        if (err) finish({ ok: false, body: "", error: message(err) });
        else socket.send("ping\n", (sendErr) => sendErr && finish({ ok: false, body: "", error: message(sendErr) }));
      });
    });
  });
}

export function request(spec: RequestSpec): Promise<RequestResult> {
  return spec.protocol === "TCP" ? tcpRequest(spec) : udpRequest(spec);
}

export function fetchHttp(cmd: HttpGetCommand): Promise<HttpResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpResult): void => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const onResponse = (res: IncomingMessage): void => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => finish({ ok: true, status: res.statusCode, body }));
      res.on("error", (err) => finish({ ok: false, status: res.statusCode, body, error: message(err) }));
    };
    const options = { timeout: cmd.timeoutMs, ...(cmd.ca === undefined ? {} : { ca: cmd.ca }) };
    const req = cmd.url.startsWith("https:")
      ? httpsGet(cmd.url, options, onResponse)
      : httpGet(cmd.url, options, onResponse);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => finish({ ok: false, body: "", error: message(err) }));
  });
}

/** See LoopCommand. Requests overlap when one takes longer than `everyMs`, as a real client's retries would. */
export function loop(cmd: LoopCommand): Promise<LoopResult> {
  return new Promise((resolve) => {
    let attempts = 0;
    let failuresAfterStart = 0;
    let done = false;
    const finish = (result: Omit<LoopResult, "attempts" | "failuresAfterStart">): void => {
      if (done) return;
      done = true;
      clearInterval(ticker);
      clearTimeout(stopper);
      resolve({ ...result, attempts, failuresAfterStart });
    };
    const fire = (): void => {
      const sentAt = Date.now();
      attempts++;
      void request({ protocol: cmd.protocol, ip: cmd.ip, port: cmd.port, timeoutMs: cmd.timeoutMs }).then((r) => {
        if (done || sentAt < cmd.startAt) return;
        if (r.ok && (cmd.expect === undefined || r.body.includes(cmd.expect)))
          finish({ ok: true, at: Date.now(), sentAt, body: r.body });
        else failuresAfterStart++;
      });
    };
    const ticker = setInterval(fire, cmd.everyMs);
    const stopper = setTimeout(
      () => finish({ ok: false, error: "deadline passed without a qualifying success" }),
      Math.max(0, cmd.deadline - Date.now()),
    );
    fire();
  });
}

/** See LatencyCommand. Sequential on purpose: one request in flight, so each sample is one round trip. */
export async function latency(cmd: LatencyCommand): Promise<LatencyResult> {
  const samplesMs: number[] = [];
  for (let i = 0; i < cmd.count; i++) {
    const started = performance.now();
    const r = await tcpRequest({ protocol: "TCP", ip: cmd.ip, port: cmd.port, timeoutMs: cmd.timeoutMs });
    if (!r.ok) return { samplesMs, error: `request ${i + 1} of ${cmd.count}: ${r.error ?? "failed"}` };
    samplesMs.push(performance.now() - started);
  }
  return { samplesMs };
}
