/**
 * The client of a failure story, run inside the lab's client namespace (`ip netns exec <ns> node --import tsx
 * failure-story-probe.ts IP PORT EVERY_MS TIMEOUT_MS MAX_MS`): a fresh TCP connection to IP:PORT every EVERY_MS,
 * each answered line or error printed to stdout as one JSON line (a ProbeSample, times from Date.now() here, so
 * the bench's own scheduling does not blur them). A first line `{"ready":true}` says it runs. Stops on SIGTERM or
 * after MAX_MS, waits for the requests in flight, and exits 0.
 *
 * Only started by bench/support/failure-story-lab.ts; the target is always a lab VIP.
 */
import { tcpRequest } from "../../test/env/lab/agent-requests.js";
import type { ProbeSample } from "./failure-story-analysis.js";

function main(argv: readonly string[]): void {
  const [ip, port, everyMs, timeoutMs, maxMs] = [argv[0] ?? "", ...argv.slice(1).map(Number)];
  if (!ip || ![port, everyMs, timeoutMs, maxMs].every((n) => Number.isInteger(n) && (n ?? 0) > 0)) {
    process.stderr.write("usage: failure-story-probe.ts IP PORT EVERY_MS TIMEOUT_MS MAX_MS\n");
    process.exit(2);
  }
  const inFlight = new Set<Promise<void>>();
  const fire = (): void => {
    const s = Date.now();
    const p = tcpRequest({ protocol: "TCP", ip, port: port ?? 0, timeoutMs: timeoutMs ?? 0 }).then((r) => {
      const sample: ProbeSample = r.ok
        ? { s, d: Date.now(), ok: true, b: r.body }
        : { s, d: Date.now(), ok: false, e: r.error };
      process.stdout.write(`${JSON.stringify(sample)}\n`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    clearTimeout(cap);
    void Promise.all(inFlight).then(() => process.exit(0));
  };
  const ticker = setInterval(fire, everyMs);
  const cap = setTimeout(stop, maxMs);
  process.on("SIGTERM", stop);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  fire();
}

main(process.argv.slice(2));
