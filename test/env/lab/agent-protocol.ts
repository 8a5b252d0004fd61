/**
 * Messages between the harness and a lab agent (lab-agent.ts) over the Node IPC channel. The harness sends
 * `AgentEnvelope`s; the agent answers each with an `AgentReply` carrying the same id, and announces itself
 * once with `AgentHello` when it is ready.
 */

export type LabProtocol = "TCP" | "UDP";

export interface Endpoint {
  readonly protocol: LabProtocol;
  readonly ip: string;
  readonly port: number;
}

/** Serve `ip:port`: every TCP connection / UDP datagram is answered with `backend=<name> client=<ip>:<port>\n`. */
export interface ServeCommand extends Endpoint {
  readonly op: "serve";
  readonly name: string;
}
export interface UnserveCommand extends Endpoint {
  readonly op: "unserve";
}

/** One request: TCP connect and read the line, or UDP send and await the line. */
export interface RequestCommand extends Endpoint {
  readonly op: "request";
  readonly timeoutMs: number;
  /** Source address to bind, e.g. a pod address. */
  readonly localAddress?: string;
}

export interface HttpGetCommand {
  readonly op: "httpGet";
  readonly url: string;
  readonly timeoutMs: number;
  /** PEM CA for https URLs. */
  readonly ca?: string;
}

/**
 * Failover measurement: starts a fresh request every `everyMs` (each with `timeoutMs`) until the first success
 * of a request sent at or after `startAt` (epoch ms, same clock as the harness) whose body contains `expect`
 * (when given), or until `deadline` (epoch ms).
 */
export interface LoopCommand extends Endpoint {
  readonly op: "loop";
  readonly everyMs: number;
  readonly timeoutMs: number;
  readonly startAt: number;
  readonly deadline: number;
  readonly expect?: string;
}

/**
 * Latency series (bench/datapath.ts): `count` TCP requests one after another, each a fresh connection as in
 * `request`, each timed in the agent from connect to the answer line. Stops at the first failure.
 */
export interface LatencyCommand extends Endpoint {
  readonly op: "latency";
  readonly count: number;
  /** Per request. */
  readonly timeoutMs: number;
}

export type AgentCommand =
  ServeCommand | UnserveCommand | RequestCommand | HttpGetCommand | LoopCommand | LatencyCommand;

export interface RequestResult {
  readonly ok: boolean;
  /** The line the server sent (without the newline), or "" on failure. */
  readonly body: string;
  readonly error?: string;
}

export interface HttpResult {
  readonly ok: boolean;
  /** HTTP status when a response arrived. */
  readonly status?: number;
  readonly body: string;
  readonly error?: string;
}

export interface LoopResult {
  readonly ok: boolean;
  /** Date.now() when the first qualifying response arrived. */
  readonly at?: number;
  /** Date.now() when that request was sent. */
  readonly sentAt?: number;
  readonly body?: string;
  /** Requests sent in total, and how many of those sent at or after startAt failed. */
  readonly attempts: number;
  readonly failuresAfterStart: number;
  readonly error?: string;
}

export interface LatencyResult {
  /** Milliseconds (performance.now() in the agent) of each successful request, in order. */
  readonly samplesMs: number[];
  /** Set when a request failed; the series stopped there. */
  readonly error?: string;
}

/** The result type of each command. */
export interface AgentResults {
  serve: null;
  unserve: null;
  request: RequestResult;
  httpGet: HttpResult;
  loop: LoopResult;
  latency: LatencyResult;
}

export interface AgentEnvelope {
  readonly id: number;
  readonly command: AgentCommand;
}

export type AgentReply =
  | { readonly id: number; readonly ok: true; readonly result: AgentResults[keyof AgentResults] }
  | { readonly id: number; readonly ok: false; readonly error: string };

export interface AgentHello {
  readonly hello: "lab-agent";
  readonly pid: number;
}

export function backendLine(name: string, remoteIp: string, remotePort: number): string {
  return `backend=${name} client=${remoteIp}:${remotePort}`;
}
