import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { DataPlan } from "../data-plan.js";
import { NftError, NftRenderError } from "./nft-errors.js";
import { renderDeleteTable, renderRuleset } from "./nft-ruleset.js";
import type { NftRunner } from "./nft-runner.js";
import { NftTable } from "./nft-table.js";

const logger = pino({ level: "silent" });

function plan(port = 80): DataPlan {
  return {
    announced: ["192.0.2.200"],
    rules: [
      {
        vip: "192.0.2.200",
        protocol: "TCP",
        port,
        destinations: [{ ip: "192.0.2.11", port: 30080 }],
        clientIPAffinity: false,
        masquerade: true,
        sourceRanges: [],
        service: "default/web",
      },
    ],
  };
}

interface Call {
  args: string[];
  stdin: string | undefined;
}

/** Records calls; `respond` decides each call's outcome. */
function recordingRunner(
  respond: (call: Call) => Promise<{ stdout: string; stderr: string }> = async () => ({ stdout: "", stderr: "" }),
) {
  const calls: Call[] = [];
  const run: NftRunner = (args, stdin) => {
    const call = { args, stdin };
    calls.push(call);
    return respond(call);
  };
  return { calls, run };
}

describe("NftTable.apply", () => {
  it("feeds the rendered script to `nft -f -`", async () => {
    const { calls, run } = recordingRunner();
    await new NftTable({ table: "t1", logger, run }).apply(plan());
    expect(calls).toEqual([{ args: ["-f", "-"], stdin: renderRuleset(plan(), { table: "t1" }) }]);
  });

  it("skips an unchanged plan, but applies changes and forced resyncs", async () => {
    const { calls, run } = recordingRunner();
    const table = new NftTable({ logger, run });
    await table.apply(plan());
    await table.apply(plan());
    expect(calls).toHaveLength(1);
    await table.apply(plan(81));
    expect(calls).toHaveLength(2);
    await table.apply(plan(81), { force: true });
    expect(calls).toHaveLength(3);
  });

  it("wraps a failure in NftError with nft's stderr and the cause, and retries the same plan next time", async () => {
    let fail = true;
    const cause = new NftError("nft -f - exited with code 1", { stderr: "Error: syntax error\n", exitCode: 1 });
    const { calls, run } = recordingRunner(async () => {
      if (fail) throw cause;
      return { stdout: "", stderr: "" };
    });
    const table = new NftTable({ logger, run });
    const err = await table.apply(plan()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftError);
    expect((err as NftError).message).toContain("Error: syntax error");
    expect((err as NftError).stderr).toBe("Error: syntax error\n");
    expect((err as NftError).exitCode).toBe(1);
    expect((err as NftError).cause).toBe(cause);
    fail = false;
    await table.apply(plan());
    expect(calls).toHaveLength(2);
  });

  it("puts the stderr of a foreign runner error into the message", async () => {
    const { run } = recordingRunner(async () => {
      throw Object.assign(new Error("Command failed"), { stderr: "Operation not permitted" });
    });
    const err = await new NftTable({ logger, run }).apply(plan()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftError);
    expect((err as NftError).message).toMatch(/Command failed: Operation not permitted/);
  });

  it("reports each nft transaction it runs, timed, and whether it failed; not the unchanged plans it skips", async () => {
    let fail = false;
    const { run } = recordingRunner(async () => {
      if (fail) throw new NftError("nft -f - exited with code 1", { stderr: "", exitCode: 1 });
      return { stdout: "", stderr: "" };
    });
    const results: { ok: boolean; seconds: number }[] = [];
    let t = 0;
    const now = (): number => (t += 250);
    const table = new NftTable({ logger, run, now, onApply: (r) => results.push({ ...r }) });
    await table.apply(plan());
    await table.apply(plan());
    fail = true;
    await expect(table.apply(plan(81))).rejects.toBeInstanceOf(NftError);
    expect(results).toEqual([
      { ok: true, seconds: 0.25 },
      { ok: false, seconds: 0.25 },
    ]);
  });

  it("runs nothing for a plan it refuses to render", async () => {
    const { calls, run } = recordingRunner();
    const bad = { announced: [], rules: [{ ...plan().rules[0]!, vip: "not-an-ip" }] };
    await expect(new NftTable({ logger, run }).apply(bad)).rejects.toBeInstanceOf(NftRenderError);
    expect(calls).toHaveLength(0);
  });

  it("runs overlapping calls one at a time, in call order", async () => {
    const events: string[] = [];
    const { run } = recordingRunner(async ({ stdin }) => {
      const which =
        stdin?.includes(". 81 ") === true
          ? "81"
          : stdin?.includes("delete") === true && !stdin.includes("{")
            ? "rm"
            : "80";
      events.push(`start ${which}`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`end ${which}`);
      return { stdout: "", stderr: "" };
    });
    const table = new NftTable({ logger, run });
    await Promise.all([table.apply(plan()), table.apply(plan(81)), table.remove()]);
    expect(events).toEqual(["start 80", "end 80", "start 81", "end 81", "start rm", "end rm"]);
  });

  it("rejects an unsafe table name at construction", () => {
    expect(() => new NftTable({ table: "x; flush ruleset", logger })).toThrow(NftRenderError);
  });
});

describe("NftTable.remove", () => {
  it("deletes the table idempotently and forgets the last plan", async () => {
    const { calls, run } = recordingRunner();
    const table = new NftTable({ table: "t2", logger, run });
    await table.apply(plan());
    await table.remove();
    expect(calls[1]).toEqual({ args: ["-f", "-"], stdin: renderDeleteTable("t2") });
    await table.apply(plan());
    expect(calls).toHaveLength(3);
  });
});

describe("NftTable.list", () => {
  it("returns the table, or an empty string when it does not exist", async () => {
    let tables = "table ip other\n";
    const { calls, run } = recordingRunner(async ({ args }) => {
      if (args.join(" ") === "list tables ip") return { stdout: tables, stderr: "" };
      return { stdout: "table ip lb-operator {\n}\n", stderr: "" };
    });
    const table = new NftTable({ logger, run });
    expect(await table.list()).toBe("");
    tables = "table ip other\ntable ip lb-operator\n";
    expect(await table.list()).toBe("table ip lb-operator {\n}\n");
    expect(calls.at(-1)?.args).toEqual(["list", "table", "ip", "lb-operator"]);
  });
});
