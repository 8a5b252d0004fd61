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
 */
export type AwsFault =
  | { readonly kind: "throttle" }
  | { readonly kind: "server-error" }
  | { readonly kind: "drop-before" }
  | { readonly kind: "drop-after" }
  | { readonly kind: "delay"; readonly ms: number };

export type AwsFaultKind = AwsFault["kind"];

export interface InjectOptions {
  /** How many matching requests get the fault; default 1. Infinity: until clearFaults(). */
  readonly times?: number;
  /** Only requests to this API (an operation name like DescribeTags exists in several). */
  readonly api?: AwsApi;
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

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function classify(req: IncomingMessage, body: Buffer): { api: AwsApi; operation: string } {
  const url = new URL(req.url ?? "/", "http://proxy");
  const form = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")
    ? new URLSearchParams(body.toString("utf8"))
    : new URLSearchParams();
  const get = (k: string): string => form.get(k) ?? url.searchParams.get(k) ?? "";
  return { api: API_BY_VERSION[get("Version")] ?? "unknown", operation: get("Action") };
}

export async function startAwsFaultProxy(target: string): Promise<AwsFaultProxy> {
  const upstream = new URL(target);
  let rules: Rule[] = [];
  const seen: SeenRequest[] = [];

  const take = (api: AwsApi, operation: string): AwsFault | undefined => {
    const rule = rules.find(
      (r) => (r.operation === "*" || r.operation === operation) && (r.api === undefined || r.api === api),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) rules = rules.filter((r) => r !== rule);
    return rule.fault;
  };

  /** Forwards to moto and resolves with its whole answer (so drop-after happens after moto finished). */
  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> =>
    new Promise((resolve, reject) => {
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const { api, operation } = classify(req, body);
    const fault = take(api, operation);
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
      case "drop-after":
      case undefined:
        break;
    }
    const answer = await forward(req, body);
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
      });
    },
    clearFaults: () => {
      rules = [];
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
