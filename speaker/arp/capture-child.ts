/**
 * Entry point of one capture child process: opens libpcap (the `cap` package) on one interface and relays
 * frames to and from the parent over the IPC channel (capture-process.ts). It exits when the parent
 * disconnects or dies.
 *
 * Why a process: cap 0.2.1 asserts `status == 0` in its poll callback (src/binding.cc cb_packets), and libuv
 * reports a socket error there as soon as the interface goes down or is deleted (the kernel sets ENETDOWN on
 * bound packet sockets), so the whole process aborts. That cannot be caught in JavaScript; a child per
 * interface turns it into an exit the parent reports and recovers from.
 *
 * This file must stay self-contained (Node built-ins and cap only; `import type` is fine): in development
 * Node runs the .ts file directly with type stripping, which does not resolve "./x.js" to x.ts.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Parent to child. */
export interface SendFrameMessage {
  readonly type: "send";
  readonly frame: Uint8Array;
}

/** Child to parent. */
export type ChildMessage =
  | { readonly type: "ready"; readonly linkType: string }
  | { readonly type: "frame"; readonly frame: Uint8Array }
  | { readonly type: "error"; readonly message: string };

/** The part of cap's native `Cap` class we use (cap ships no types; see node_modules/cap/README.md). */
interface CapHandle {
  /** Returns the link type ("ETHERNET", ...); frames are written into `buffer`. Throws on failure. */
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  on(event: "packet", listener: (nbytes: number, truncated: boolean) => void): unknown;
  /** pcap_sendpacket; throws with pcap's error text. */
  send(buffer: Buffer, length: number): void;
  close(): boolean;
}

interface CapModule {
  readonly Cap: new () => CapHandle;
}

/** Kernel capture buffer. ARP is a trickle; 1 MiB absorbs a broadcast storm for a moment. */
const KERNEL_BUFFER_BYTES = 1 << 20;

function loadCap(): CapModule {
  const require = createRequire(import.meta.url);
  return require("cap") as CapModule;
}

function isSendFrameMessage(message: unknown): message is SendFrameMessage {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as { type?: unknown }).type === "send" &&
    (message as { frame?: unknown }).frame instanceof Uint8Array
  );
}

function report(message: ChildMessage, then?: () => void): void {
  if (process.send === undefined || !process.connected) {
    then?.();
    return;
  }
  process.send(message, undefined, {}, () => then?.());
}

export function runCaptureChild(iface: string, filter: string): void {
  const buffer = Buffer.alloc(65_535);
  let cap: CapHandle;
  let linkType: string;
  try {
    cap = new (loadCap().Cap)();
    linkType = cap.open(iface, filter, KERNEL_BUFFER_BYTES, buffer);
  } catch (err) {
    report({ type: "error", message: `cannot open: ${String(err)}` }, () => process.exit(1));
    return;
  }
  if (linkType !== "ETHERNET") {
    cap.close();
    report({ type: "error", message: `link type ${linkType} is not Ethernet` }, () => process.exit(1));
    return;
  }
  cap.on("packet", (nbytes, truncated) => {
    if (truncated) return;
    // cap reuses `buffer` for the next packet; the IPC serializer copies these bytes now.
    report({ type: "frame", frame: buffer.subarray(0, nbytes) });
  });
  process.on("message", (message: unknown) => {
    if (!isSendFrameMessage(message)) return;
    const frame = Buffer.from(message.frame.buffer, message.frame.byteOffset, message.frame.byteLength);
    try {
      cap.send(frame, frame.length);
    } catch (err) {
      report({ type: "error", message: `send failed: ${String(err)}` });
    }
  });
  process.on("disconnect", () => {
    cap.close();
    process.exit(0);
  });
  report({ type: "ready", linkType });
}

// Entry-point guard: runs only when this file is the process's main module (forked by capture-process.ts),
// never when imported for its types.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send !== undefined) {
  runCaptureChild(process.argv[2] ?? "", process.argv[3] ?? "arp");
}
