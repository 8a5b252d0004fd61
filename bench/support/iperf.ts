/**
 * iperf3 for the data-path bench: a TCP test from a lab host, read from `iperf3 -J`. The server is one
 * `iperf3 -s` per run of the bench, so tests must run one at a time (iperf3 serves one test at a time and
 * answers "busy" otherwise).
 */
import { LbOperatorError } from "../../src/errors.js";
import type { LabHost } from "../../test/env/lab/lab-network.js";

export interface IperfResult {
  /** What the receiver counted (end.sum_received), the figure iperf3 prints as the receiver's bitrate. */
  receivedBitsPerSecond: number;
  sentBitsPerSecond: number;
  /** TCP retransmits of the sender; undefined when iperf3 does not report them. */
  retransmits: number | undefined;
  seconds: number;
}

export class IperfError extends LbOperatorError {
  constructor(
    message: string,
    /** iperf3's own "error" field, when it wrote one. */
    readonly iperfError?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface IperfJson {
  error?: string;
  end?: {
    sum_sent?: { bits_per_second?: number; retransmits?: number; seconds?: number };
    sum_received?: { bits_per_second?: number; seconds?: number };
  };
}

/** The totals of one `iperf3 -c ... -J` run; throws IperfError when iperf3 reported an error or no totals. */
export function parseIperfJson(text: string): IperfResult {
  let doc: IperfJson;
  try {
    doc = JSON.parse(text) as IperfJson;
  } catch (err) {
    throw new IperfError(`iperf3 printed no JSON: ${text.slice(0, 300)}`, undefined, { cause: err });
  }
  if (doc.error) throw new IperfError(`iperf3: ${doc.error}`, doc.error);
  const received = doc.end?.sum_received;
  const sent = doc.end?.sum_sent;
  if (typeof received?.bits_per_second !== "number" || typeof sent?.bits_per_second !== "number") {
    throw new IperfError(`iperf3 JSON has no end.sum_received/sum_sent totals: ${text.slice(0, 300)}`);
  }
  return {
    receivedBitsPerSecond: received.bits_per_second,
    sentBitsPerSecond: sent.bits_per_second,
    retransmits: sent.retransmits,
    seconds: received.seconds ?? sent.seconds ?? Number.NaN,
  };
}

/** iperf3 3.x says this when another test (or a health probe it mistook for a client) holds the server. */
const isBusy = (e: unknown): boolean => e instanceof IperfError && /busy/i.test(e.iperfError ?? "");

/**
 * `iperf3 -c ip -p port -t seconds -J` inside `host`. The speaker's TCP health probe connects to the same
 * server every second (it checks the pod's target port), and iperf3 treats each probe as a client that sends
 * nothing; a test that lands in that moment is refused as "busy", so a busy answer is retried a few times.
 */
export async function runIperf(
  host: LabHost,
  target: { ip: string; port: number },
  seconds: number,
): Promise<IperfResult> {
  const args = [
    "-c",
    target.ip,
    "-p",
    String(target.port),
    "-t",
    String(seconds),
    "-J",
    "-4",
    "--connect-timeout",
    "3000",
  ];
  for (let attempt = 1; ; attempt++) {
    const { stdout, stderr } = await host.exec("iperf3", args, { check: false });
    try {
      return parseIperfJson(stdout || stderr);
    } catch (err) {
      if (!isBusy(err) || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
