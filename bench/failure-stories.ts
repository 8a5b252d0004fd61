/**
 * bench/failure-stories.ts: failure stories MetalLB users report, each run against our implementation and MetalLB
 * in one run and one lab, printing what was measured (docs/failure-stories.md).
 *
 *   npm run bench:failure-stories            (every story)
 *   npm run bench:failure-stories -- --story b
 *   PATH=$PWD/node_modules/.bin:$PATH node --import tsx bench/failure-stories.ts --story a --story c
 *
 * a. a speaker restarted (SIGTERM, then started again) while its node keeps serving;
 * b. the announcing node cordoned, then labelled node.kubernetes.io/exclude-from-external-load-balancers;
 * c. two Services sharing one address, one of them deleted.
 * The lab starts without speakers; each implementation runs in turn (test/env/lab/lab-implementations.ts), every
 * story deletes its Services before the next. The client is a loop of fresh TCP connections every 10 ms
 * (bench/support/failure-story-probe.ts) and the client's ARP entry is sampled every 50 ms.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { errorMessage } from "../src/errors.js";
import { IMPLEMENTATIONS, type LabImplementation, startImplementation } from "../test/env/lab/lab-implementations.js";
import { type Lab, startLab } from "../test/env/lab/lab.js";
import type { StoryContext, StoryOutcome } from "./support/failure-story-context.js";
import { nodeExclusionStory } from "./support/failure-story-node-exclusion.js";
import { outcomeTable, type StoryRow } from "./support/failure-story-table.js";
import { sharedIpStory } from "./support/failure-story-shared-ip.js";
import { speakerRestartStory } from "./support/failure-story-speaker-restart.js";

const STORIES = {
  a: speakerRestartStory,
  b: nodeExclusionStory,
  c: sharedIpStory,
} as const satisfies Record<string, (ctx: StoryContext) => Promise<StoryOutcome[]>>;
type StoryName = keyof typeof STORIES;
const STORY_NAMES = Object.keys(STORIES) as StoryName[];

interface Options {
  story: StoryName[];
  keepLogs: boolean;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function storyName(value: string, previous: StoryName[] | undefined): StoryName[] {
  if (!(STORY_NAMES as string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${STORY_NAMES.join(", ")}`);
  return [...(previous ?? []), value as StoryName];
}

function parseOptions(argv: string[]): Options {
  const program = new Command("failure-stories")
    .description("MetalLB users' failure stories, run against lb-operator and MetalLB in one lab")
    .option("--story <a|b|c>", "run only this story (repeatable); default all", storyName)
    .option("--keep-logs", "keep the log directory (lab, speakers, controllers, probes)", false)
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<{ story?: StoryName[]; keepLogs: boolean }>();
  return { story: opts.story ?? STORY_NAMES, keepLogs: opts.keepLogs };
}

/** Every story against one implementation; a story that fails is reported in its cell and the rest still run. */
async function runImplementation(
  lab: Lab,
  name: (typeof IMPLEMENTATIONS)[number],
  stories: readonly StoryName[],
  logDir: string,
): Promise<{ label: string; outcomes: StoryOutcome[]; failed: boolean }> {
  let impl: LabImplementation | undefined;
  const outcomes: StoryOutcome[] = [];
  let failed = false;
  try {
    impl = await startImplementation(lab, name);
    const ctx: StoryContext = { lab, impl, logDir, namespace: `stories-${name}` };
    for (const story of stories) {
      const started = Date.now();
      log(`[${impl.label}] story ${story}...`);
      try {
        const got = await STORIES[story](ctx);
        for (const o of got) log(`[${impl.label}] ${o.story}: ${o.outcome}`);
        outcomes.push(...got);
      } catch (err) {
        failed = true;
        log(`[${impl.label}] story ${story} FAILED: ${errorMessage(err)}`);
        outcomes.push({ story: `${story}.`, outcome: `FAILED: ${errorMessage(err)}` });
      }
      log(`[${impl.label}] story ${story}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return { label: impl.label, outcomes, failed };
  } finally {
    await impl?.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv);
  const logDir = mkdtempSync(join(tmpdir(), "lb-operator-failure-stories-"));
  log(`failure stories ${opts.story.join(", ")}; logs in ${logDir}`);
  // Ctrl-C: process.exit runs the exit hooks of the lab (namespaces, agents, speakers, probes), the controllers
  // and the control plane; without this listener the lab's own handler re-raises the signal and skips them.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      log(`\n${signal}: tearing the lab down (logs in ${logDir})`);
      process.exit(130);
    });
  }
  let lab: Lab | undefined;
  let ok = false;
  const started = Date.now();
  try {
    lab = await startLab({ logDir, startSpeakers: false });
    const columns: StoryRow[][] = [];
    const labels: string[] = [];
    let failed = false;
    for (const name of IMPLEMENTATIONS) {
      const r = await runImplementation(lab, name, opts.story, logDir);
      labels.push(r.label);
      columns.push(r.outcomes);
      failed ||= r.failed;
    }
    const t = outcomeTable(labels, columns);
    process.stdout.write(`\n${markdown(t)}\n`);
    log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
    ok = !failed;
    if (failed) process.exitCode = 1;
  } catch (err) {
    log(`\nFAILED: ${errorMessage(err)}`);
    process.exitCode = 1;
  } finally {
    await lab?.teardown();
    if (ok && !opts.keepLogs) rmSync(logDir, { recursive: true, force: true });
    else log(`logs kept in ${logDir}`);
  }
}

function markdown(rows: readonly (readonly string[])[]): string {
  const [head, ...body] = rows;
  if (!head) return "";
  const line = (r: readonly string[]): string => `| ${r.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...body.map(line)].join("\n");
}

await main();
// Agents' IPC channels and pooled sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
