/**
 * How `nft` is run. NftTable only sees the NftRunner function, so tests can record calls or run nft inside a
 * network namespace, and the speaker can wrap it (nsenter, sudo) without touching the table logic.
 */
import { spawn } from "node:child_process";
import { NftError, NftNotFoundError } from "./nft-errors.js";

/**
 * Runs `nft` with `args`, feeding `stdin` when given. Resolves with the output on exit code 0; rejects
 * otherwise, preferably with an NftError whose message includes nft's stderr.
 */
export type NftRunner = (args: string[], stdin?: string) => Promise<{ stdout: string; stderr: string }>;

export interface NftRunnerOptions {
  /** The nft binary; default `nft` from PATH. */
  readonly command?: string;
  /** Words run in front of the command, e.g. `["ip", "netns", "exec", "lab-lb"]`. */
  readonly prefix?: readonly string[];
  /**
   * Kill nft after this long (default 10 s). nft holds the netlink transaction while it runs; a hung run must
   * not stall the speaker's reconcile loop forever.
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_NFT_TIMEOUT_MS = 10_000;

/** The production runner: spawns nft (optionally behind `prefix`) without a shell. */
export function createNftRunner(options: NftRunnerOptions = {}): NftRunner {
  const command = options.command ?? "nft";
  const prefix = options.prefix ?? [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_NFT_TIMEOUT_MS;
  const file = prefix[0] ?? command;
  const leading = prefix.length > 0 ? [...prefix.slice(1), command] : [];
  return (args, stdin) => runOnce(file, [...leading, ...args], stdin, timeoutMs);
}

/** A runner for nft inside network namespace `ns` (`ip netns exec <ns> nft ...`), for labs and tests. */
export function netnsNftRunner(ns: string, options: Omit<NftRunnerOptions, "prefix"> = {}): NftRunner {
  return createNftRunner({ ...options, prefix: ["ip", "netns", "exec", ns] });
}

function runOnce(
  file: string,
  args: readonly string[],
  stdin: string | undefined,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  const shown = [file, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let settled = false;
    const finish = (err: NftError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === undefined) resolve({ stdout, stderr });
      else reject(err);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new NftError(`${shown} timed out after ${timeoutMs} ms${detail(stderr)}`, { stderr }));
    }, timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") {
        finish(
          new NftNotFoundError(`${file} not found: install nftables (nft 1.0.6 or newer) on the node`, { cause: err }),
        );
      } else {
        finish(new NftError(`${shown} could not be started: ${err.message}`, { cause: err }));
      }
    });
    child.on("close", (code, signal) => {
      if (code === 0) finish(undefined);
      else {
        const how = code === null ? `was killed by ${signal ?? "a signal"}` : `exited with code ${code}`;
        finish(new NftError(`${shown} ${how}${detail(stderr)}`, { stderr, exitCode: code ?? undefined }));
      }
    });
    // nft may exit before reading all of stdin (e.g. a usage error); its exit status tells the story, not EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

function detail(stderr: string): string {
  const text = stderr.trim();
  return text === "" ? "" : `: ${text}`;
}
