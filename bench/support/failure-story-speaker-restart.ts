/**
 * Story a: the speaker on the node announcing a VIP is restarted as a DaemonSet rolls it (SIGTERM, a pause, a new
 * one started) while the node itself, its kube-proxy and its pod keep serving. Does the VIP move, and for how long
 * do clients lose it?
 */
import { delay } from "../../testing/eventually.js";
import { arpPath, counts, failureSpans, summarizeProbe } from "./failure-story-analysis.js";
import {
  deployStoryService,
  HTTP_PORT,
  observe,
  type StoryContext,
  type StoryOutcome,
} from "./failure-story-context.js";
import { labForwarderOf } from "./failure-story-lab.js";

/** Between the old speaker's exit and the new one's start: a DaemonSet's pod replacement takes about this long. */
const RESTART_PAUSE_MS = 2_000;
/** How long the client keeps going after the new speaker is ready. */
const TAIL_MS = 5_000;

export async function speakerRestartStory(ctx: StoryContext): Promise<StoryOutcome[]> {
  const { svc, vip, announcer } = await deployStoryService(ctx, "restart");
  try {
    const o = await observe(
      ctx,
      { vip, port: HTTP_PORT, tag: "restart" },
      async () => {
        await ctx.impl.stopSpeaker(announcer);
        const stopped = Date.now();
        await delay(RESTART_PAUSE_MS);
        const started = Date.now();
        await ctx.impl.startSpeaker(announcer);
        return { stopped, started, ready: Date.now() };
      },
      { tailMs: TAIL_MS },
    );
    const via = labForwarderOf(ctx.lab);
    const whole = summarizeProbe(o.samples, { from: o.t0, to: o.end }, via);
    const down = summarizeProbe(o.samples, { from: o.t0, to: o.marks["ready"] ?? o.end }, via);
    const ms = (k: string): string => `${(((o.marks[k] ?? o.t0) - o.t0) / 1000).toFixed(2)} s`;
    return [
      {
        story: "a. speaker restarted (SIGTERM, 2 s, start)",
        outcome:
          `announcer ${announcer}; client ARP ${arpPath(o.arp, o.t0)}; ` +
          `${whole.failed} of ${whole.requests} requests failed (${failureSpans(o.samples, { from: o.t0, to: o.end }, o.t0)}), ` +
          `longest gap ${whole.longestGapMs} ms; old speaker exited +${ms("stopped")}, new one ready +${ms("ready")}; ` +
          `forwarded until ready by ${counts(down.forwardedBy)}`,
      },
    ];
  } finally {
    await svc.delete();
  }
}
