/**
 * The default PacketSession: libpcap on one interface, run in a child process (capture-child.ts explains why
 * a process). Frames cross the IPC channel with the structured-clone serializer; that costs well under a
 * millisecond per ARP exchange, far below what an ARP client waits (arping: 1 s).
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildMessage, SendFrameMessage } from "./capture-child.js";
import { CaptureError, type OpenCapture, type PacketHandlers, type PacketSession } from "./packet-session.js";

export interface CaptureProcessOptions {
  /** libpcap filter; default "arp". */
  readonly filter?: string;
  /** Node binary for the child; default the one running us. */
  readonly execPath?: string;
}

/** The child entry beside this module: the .ts source under vitest/tsx, the compiled .js in dist/. */
function childModulePath(): string {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return fileURLToPath(new URL(`./capture-child${ext}`, import.meta.url));
}

const STDERR_TAIL_CHARS = 2_000;

function isChildMessage(message: unknown): message is ChildMessage {
  if (typeof message !== "object" || message === null) return false;
  const m = message as { type?: unknown; frame?: unknown; message?: unknown; linkType?: unknown };
  switch (m.type) {
    case "frame":
      return m.frame instanceof Uint8Array;
    case "error":
      return typeof m.message === "string";
    case "ready":
      return typeof m.linkType === "string";
    default:
      return false;
  }
}

class CaptureProcessSession implements PacketSession {
  private state: "running" | "failed" | "closed" = "running";
  private stderrTail = "";
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(
    private readonly iface: string,
    private readonly handlers: PacketHandlers,
    options: CaptureProcessOptions,
  ) {
    this.child = fork(childModulePath(), [iface, options.filter ?? "arp"], {
      execPath: options.execPath ?? process.execPath,
      execArgv: [],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        this.onExit(code, signal);
        resolve();
      });
      this.child.once("error", (err) => {
        this.fail(new CaptureError(iface, `capture process failed: ${err.message}`, { cause: err }));
        if (this.child.exitCode !== null || this.child.pid === undefined) resolve();
      });
    });
    this.child.on("message", (message: unknown) => this.onMessage(message));
  }

  send(frame: Buffer): void {
    if (this.state !== "running") throw new CaptureError(this.iface, `session is ${this.state}`);
    const message: SendFrameMessage = { type: "send", frame };
    try {
      this.child.send(message, (err) => {
        if (err) this.fail(new CaptureError(this.iface, `send failed: ${err.message}`, { cause: err }));
      });
    } catch (err) {
      this.fail(new CaptureError(this.iface, "send failed: capture process is gone", { cause: err }));
    }
  }

  async close(): Promise<void> {
    if (this.state !== "closed") {
      this.state = "closed";
      // SIGTERM ends the child at once; the kernel drops its packet socket and promiscuous membership.
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    }
    await this.exited;
  }

  private onMessage(message: unknown): void {
    if (this.state !== "running" || !isChildMessage(message)) return;
    if (message.type === "frame") {
      this.handlers.onFrame(Buffer.from(message.frame.buffer, message.frame.byteOffset, message.frame.byteLength));
    } else if (message.type === "error") {
      this.fail(new CaptureError(this.iface, message.message));
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.state !== "running") return;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    // SIGABRT is cap's assertion when the socket errors: the interface went down or was deleted.
    const hint = signal === "SIGABRT" ? " (the interface went down or was deleted)" : "";
    // Node ends a crash report with its version line; the line before says what went wrong.
    const lines = this.stderrTail.split("\n").map((l) => l.trim());
    const lastLine = lines.filter((l) => l !== "" && !/^Node\.js v\d/.test(l)).at(-1) ?? "";
    this.fail(
      new CaptureError(this.iface, `capture process exited with ${how}${hint}${lastLine ? `: ${lastLine}` : ""}`),
    );
  }

  private fail(error: CaptureError): void {
    if (this.state !== "running") return;
    this.state = "failed";
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    this.handlers.onError(error);
  }
}

/** Opens a libpcap session on `iface` in a child process. Never throws; failures arrive via onError. */
export function openCaptureProcess(
  iface: string,
  handlers: PacketHandlers,
  options: CaptureProcessOptions = {},
): PacketSession {
  return new CaptureProcessSession(iface, handlers, options);
}

export function captureProcessOpener(options: CaptureProcessOptions = {}): OpenCapture {
  return (iface, handlers) => openCaptureProcess(iface, handlers, options);
}
