/**
 * Typed requests to a lab agent (lab-agent.ts) over the IPC channel, each with a timeout. The agent runs in a
 * lab namespace; `dispose()` kills it.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LbOperatorError } from "../../../src/errors.js";
import type {
  AgentCommand,
  AgentEnvelope,
  AgentHello,
  AgentReply,
  AgentResults,
  HttpResult,
  LabProtocol,
  LatencyResult,
  LoopCommand,
  LoopResult,
  RequestResult,
} from "./agent-protocol.js";

export class AgentError extends LbOperatorError {}

export const AGENT_SCRIPT = fileURLToPath(new URL("./lab-agent.ts", import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** Extra time over the agent's own deadline before the harness gives up on a reply. */
const REPLY_GRACE_MS = 5_000;

/** Starts a process in the agent's namespace with an IPC channel (LabHost.spawn with `ipc: true`). */
export type IpcSpawner = (command: string, args: string[], options: { logPath: string; ipc: true }) => ChildProcess;

type Command<K extends AgentCommand["op"]> = Extract<AgentCommand, { op: K }>;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class AgentClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  private gone: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
    readonly logPath: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.gone = `agent ${name} exited (${code ?? signal})`;
        this.failAll();
        resolve();
      });
    });
    child.on("message", (raw: AgentReply) => this.onReply(raw));
    // A send racing the agent's exit fails with EPIPE; the exit handler already reports it.
    child.on("error", () => undefined);
  }

  /** Spawns the agent and waits for its hello. */
  static async start(spawn: IpcSpawner, name: string, logPath: string): Promise<AgentClient> {
    const child = spawn(process.execPath, ["--import", "tsx", AGENT_SCRIPT], { logPath, ipc: true });
    const hello = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AgentError(`agent ${name} sent no hello within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.on("message", (m: AgentHello | AgentReply) => {
        if ("hello" in m) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new AgentError(
            `agent ${name} exited (${code ?? signal}) before its hello; log ${logPath}:\n${tail(logPath)}`,
          ),
        );
      });
    });
    const client = new AgentClient(child, name, logPath);
    try {
      await hello;
    } catch (err) {
      await client.dispose();
      throw err;
    }
    return client;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<K extends AgentCommand["op"]>(
    command: Command<K>,
    timeoutMs = defaultTimeout(command),
  ): Promise<AgentResults[K]> {
    if (this.gone !== undefined) return Promise.reject(new AgentError(`${this.gone}; cannot send ${command.op}`));
    const id = this.nextId++;
    return new Promise<AgentResults[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentError(`agent ${this.name}: no reply to ${command.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, command } satisfies AgentEnvelope, (err) => {
        if (!err || !this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(new AgentError(`agent ${this.name}: cannot send ${command.op}`, { cause: err }));
      });
    });
  }

  serve(protocol: LabProtocol, ip: string, port: number, name: string): Promise<null> {
    return this.call({ op: "serve", protocol, ip, port, name });
  }

  unserve(protocol: LabProtocol, ip: string, port: number): Promise<null> {
    return this.call({ op: "unserve", protocol, ip, port });
  }

  /** One TCP or UDP request; `body` is the line the backend answered. */
  request(
    protocol: LabProtocol,
    ip: string,
    port: number,
    options: { timeoutMs?: number; localAddress?: string } = {},
  ): Promise<RequestResult> {
    return this.call({
      op: "request",
      protocol,
      ip,
      port,
      timeoutMs: options.timeoutMs ?? 2_000,
      localAddress: options.localAddress,
    });
  }

  httpGet(url: string, options: { timeoutMs?: number; ca?: string } = {}): Promise<HttpResult> {
    return this.call({ op: "httpGet", url, timeoutMs: options.timeoutMs ?? 2_000, ca: options.ca });
  }

  /** See LoopCommand; `deadline` defaults to 30 s from now. */
  loop(options: Omit<LoopCommand, "op" | "deadline"> & { deadline?: number }): Promise<LoopResult> {
    return this.call({ op: "loop", ...options, deadline: options.deadline ?? Date.now() + 30_000 });
  }

  /** `count` sequential TCP requests to ip:port, each on a new connection, timed in the agent (LatencyCommand). */
  latency(ip: string, port: number, options: { count: number; timeoutMs?: number }): Promise<LatencyResult> {
    return this.call({
      op: "latency",
      protocol: "TCP",
      ip,
      port,
      count: options.count,
      timeoutMs: options.timeoutMs ?? 2_000,
    });
  }

  /** Kills the agent (SIGKILL: it holds no state worth saving) and waits for it to exit. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }

  private onReply(raw: AgentReply | AgentHello): void {
    if ("hello" in raw) return;
    const pending = this.pending.get(raw.id);
    if (!pending) return;
    this.pending.delete(raw.id);
    clearTimeout(pending.timer);
    if (raw.ok) pending.resolve(raw.result);
    else pending.reject(new AgentError(`agent ${this.name}: ${raw.error}`));
  }

  private failAll(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new AgentError(`${this.gone ?? "agent gone"} before replying; log ${this.logPath}:\n${tail(this.logPath)}`),
      );
      this.pending.delete(id);
    }
  }
}

function defaultTimeout(command: AgentCommand): number {
  switch (command.op) {
    case "request":
    case "httpGet":
      return command.timeoutMs + REPLY_GRACE_MS;
    case "loop":
      return Math.max(0, command.deadline - Date.now()) + REPLY_GRACE_MS;
    case "latency":
      return command.count * command.timeoutMs + REPLY_GRACE_MS;
    default:
      return DEFAULT_CALL_TIMEOUT_MS;
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
