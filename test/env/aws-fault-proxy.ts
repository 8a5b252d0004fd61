/**
 * An HTTP proxy on loopback in front of moto that injects AWS faults by operation, because moto never
 * throttles, never fails and never loses an answer (../shared/reference/aws.md section 6, takeaways): point
 * the SDK clients at `endpoint` (MotoServer.clients(proxy.endpoint)) and script faults per operation.
 *
 * ELB, ELBv2 and EC2 speak the query protocol: a form POST whose `Action` is the operation and whose `Version`
 * tells the API apart (ELB 2012-06-01, ELBv2 2015-12-01, EC2 2016-11-15). Error bodies are the XML each API
 * returns, so the SDK's error name is the AWS error code (Throttling for ELB/ELBv2, RequestLimitExceeded for
 * EC2, which AWS sends with HTTP 503; botocore's _retry.json keys its EC2 throttling policy on that pair).
 */
import { randomUUID } from "node:crypto";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LbOperatorError } from "../../src/errors.js";

export class AwsFaultProxyError extends LbOperatorError {}

export type AwsApi = "elb" | "elbv2" | "ec2" | "unknown";

/**
 * - throttle: the API's throttling error (ELB/ELBv2: 400 Throttling; EC2: 503 RequestLimitExceeded).
 * - server-error: 500 with the API's internal error (InternalFailure; EC2: InternalError); not forwarded.
 * - drop-before: the request is read, never forwarded, and the connection is destroyed.
 * - drop-after: the request is forwarded and moto performs it, then the connection is destroyed before the
 *   answer reaches the client ("a dropped connection mid-create": the resource exists, the caller never knew).
 * - delay: forwarded after `ms` milliseconds.
 * - hang: the request is read and held, never answered, until releaseHung() forwards it (or the client gives up and
 *   closes the connection, which ends it unforwarded): a cloud call that hangs forever.
 */
export type AwsFault =
  | { readonly kind: "throttle" }
  | { readonly kind: "server-error" }
  | { readonly kind: "drop-before" }
  | { readonly kind: "drop-after" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "hang" };

export type AwsFaultKind = AwsFault["kind"];

export interface InjectOptions {
  /** How many matching requests get the fault; default 1. Infinity: until clearFaults(). */
  readonly times?: number;
  /** Only requests to this API (an operation name like DescribeTags exists in several). */
  readonly api?: AwsApi;
  /** Only requests whose parameters pass, e.g. one load balancer's name or tags; others do not use up the fault. */
  readonly match?: (params: URLSearchParams) => boolean;
}

export interface SeenRequest {
  readonly api: AwsApi;
  /** The `Action` parameter; "" when the request had none. */
  readonly operation: string;
  /** The fault applied to this request, if any. */
  readonly fault: AwsFaultKind | undefined;
  /** Whether moto received the request. */
  readonly forwarded: boolean;
}

export interface AwsFaultProxy {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Queues a fault for the next `times` requests for `operation` ("*" for any operation). First queued, first used. */
  inject(operation: string, fault: AwsFault | Exclude<AwsFaultKind, "delay">, options?: InjectOptions): void;
  clearFaults(): void;
  /** Requests held by a hang fault right now (a client that gave up has closed its connection and is not counted). */
  hanging(): number;
  /** Drops every queued hang fault and forwards the held requests whose client still waits; returns how many. */
  releaseHung(): number;
  /** Faults queued and not yet used up. */
  pendingFaults(): readonly { operation: string; fault: AwsFaultKind; remaining: number }[];
  /** Every request seen, in arrival order. */
  seen(): readonly SeenRequest[];
  clearSeen(): void;
  /** Closes the listener and every open connection; idempotent. */
  stop(): Promise<void>;
}

const API_BY_VERSION: Readonly<Record<string, AwsApi>> = {
  "2012-06-01": "elb",
  "2015-12-01": "elbv2",
  "2016-11-15": "ec2",
};
const ELB_NS: Readonly<Record<string, string>> = {
  elb: "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
  elbv2: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
};

interface Rule {
  operation: string;
  api: AwsApi | undefined;
  fault: AwsFault;
  remaining: number;
  match: ((params: URLSearchParams) => boolean) | undefined;
}

function errorResponse(api: AwsApi, status: number, code: string, message: string): { status: number; body: string } {
  const requestId = randomUUID();
  if (api === "ec2") {
    // EC2's error document (Response/Errors/Error), unlike the ErrorResponse of the other query APIs.
    return {
      status,
      body:
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code>` +
        `<Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  const type = status >= 500 ? "Receiver" : "Sender";
  return {
    status,
    body:
      `<ErrorResponse xmlns="${ELB_NS[api] ?? ELB_NS["elbv2"]}"><Error><Type>${type}</Type>` +
      `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** The whole body of a request or response (the counting proxy in bench/support reads both with it). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/** Which AWS query API and operation a request is: form `Version` and `Action`, or the same in the query string. */
export function classify(
  req: IncomingMessage,
  body: Buffer,
): { api: AwsApi; operation: string; params: URLSearchParams } {
  const url = new URL(req.url ?? "/", "http://proxy");
  const form = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")
    ? new URLSearchParams(body.toString("utf8"))
    : new URLSearchParams();
  const get = (k: string): string => form.get(k) ?? url.searchParams.get(k) ?? "";
  for (const [k, v] of url.searchParams) if (!form.has(k)) form.append(k, v);
  return { api: API_BY_VERSION[get("Version")] ?? "unknown", operation: get("Action"), params: form };
}

export async function startAwsFaultProxy(target: string): Promise<AwsFaultProxy> {
  const upstream = new URL(target);
  let rules: Rule[] = [];
  const seen: SeenRequest[] = [];
  /** Held requests, each resolved true to forward it or false when its client went away. */
  const held = new Set<(forward: boolean) => void>();

  const take = (api: AwsApi, operation: string, params: URLSearchParams): AwsFault | undefined => {
    const rule = rules.find(
      (r) =>
        (r.operation === "*" || r.operation === operation) &&
        (r.api === undefined || r.api === api) &&
        (r.match === undefined || r.match(params)),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) rules = rules.filter((r) => r !== rule);
    return rule.fault;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const { api, operation, params } = classify(req, body);
    const fault = take(api, operation, params);
    const record = (forwarded: boolean): void => {
      seen.push({ api, operation, fault: fault?.kind, forwarded });
    };
    const reply = (r: { status: number; body: string }): void => {
      res.writeHead(r.status, { "content-type": "text/xml", "content-length": Buffer.byteLength(r.body) });
      res.end(r.body);
    };
    switch (fault?.kind) {
      case "throttle":
        record(false);
        reply(
          api === "ec2"
            ? errorResponse(api, 503, "RequestLimitExceeded", "Request limit exceeded.")
            : errorResponse(api, 400, "Throttling", "Rate exceeded"),
        );
        return;
      case "server-error":
        record(false);
        reply(errorResponse(api, 500, api === "ec2" ? "InternalError" : "InternalFailure", "Injected internal error"));
        return;
      case "drop-before":
        record(false);
        req.socket.destroy();
        return;
      case "delay":
        await new Promise((r) => setTimeout(r, fault.ms));
        break;
      case "hang": {
        const forward = await new Promise<boolean>((resolve) => {
          const settle = (go: boolean): void => {
            held.delete(settle);
            resolve(go);
          };
          held.add(settle);
          res.once("close", () => settle(false));
        });
        if (!forward) {
          record(false);
          return;
        }
        break;
      }
      case "drop-after":
      case undefined:
        break;
    }
    const answer = await forwardRequest(upstream, req, body);
    record(true);
    if (fault?.kind === "drop-after") {
      req.socket.destroy();
      return;
    }
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    headers["content-length"] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`aws-fault-proxy: ${message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inject(operation, fault, options = {}): void {
      const times = options.times ?? 1;
      if (!(times >= 1)) throw new AwsFaultProxyError(`times must be at least 1, got ${times}`);
      rules.push({
        operation,
        api: options.api,
        fault: typeof fault === "string" ? { kind: fault } : fault,
        remaining: times,
        match: options.match,
      });
    },
    clearFaults: () => {
      rules = [];
    },
    hanging: () => held.size,
    releaseHung: () => {
      rules = rules.filter((r) => r.fault.kind !== "hang");
      const waiting = [...held];
      for (const settle of waiting) settle(true);
      return waiting.length;
    },
    pendingFaults: () => rules.map((r) => ({ operation: r.operation, fault: r.fault.kind, remaining: r.remaining })),
    seen: () => [...seen],
    clearSeen: () => {
      seen.length = 0;
    },
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

export interface ForwardedAnswer {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

/**
 * Sends `req` (its already-read `body`) on to `upstream` (moto) and resolves with the whole answer, so a proxy can
 * look at or change it before replying (and drop-after happens after moto finished).
 */
export function forwardRequest(upstream: URL, req: IncomingMessage, body: Buffer): Promise<ForwardedAnswer> {
  return new Promise((resolve, reject) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host, "content-length": String(body.length) },
      },
      (res) => {
        readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
      },
    );
    out.on("error", reject);
    out.end(body);
  });
}
