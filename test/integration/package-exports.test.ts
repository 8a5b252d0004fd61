/**
 * The published package as a third party meets it: compiled with tsconfig.build.json exactly as `npm run build`
 * does (into a scratch package directory beside a copy of package.json), then imported by its name from another
 * project, and its bin asked for `--version`.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};
const scratch = mkdtempSync(join(tmpdir(), "lb-operator-package-"));
const packageDir = join(scratch, "package");
const consumer = join(scratch, "consumer");

beforeAll(async () => {
  mkdirSync(packageDir);
  cpSync(join(REPO, "package.json"), join(packageDir, "package.json"));
  symlinkSync(join(REPO, "node_modules"), join(packageDir, "node_modules"));
  await exec(
    join(REPO, "node_modules/.bin/tsc"),
    ["-p", join(REPO, "tsconfig.build.json"), "--outDir", join(packageDir, "dist")],
    { cwd: REPO },
  );
  mkdirSync(join(consumer, "node_modules"), { recursive: true });
  symlinkSync(packageDir, join(consumer, "node_modules", pkg.name));
}, 180_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function importInConsumer(specifier: string, expression: string): Promise<unknown> {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(${expression}));`;
  const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script], { cwd: consumer });
  return JSON.parse(stdout) as unknown;
}

describe("the package", () => {
  it(`"${pkg.name}" exports the provider contract's errors and the conformance suite entry point`, async () => {
    const names = await importInConsumer(pkg.name, "Object.keys(m).sort()");
    expect(names).toEqual(
      expect.arrayContaining([
        "InvalidSpecError",
        "LbOperatorError",
        "RetryAfterError",
        "ProviderError",
        "runConformanceSuite",
        "conformanceCases",
        "providerSkips",
        "resolveSkips",
        "ConformanceKubeClient",
        "toJUnitXml",
        "packageVersion",
      ]),
    );
    // Errors carry their type across the package boundary: retry decisions come from it.
    expect(
      await importInConsumer(pkg.name, "new m.RetryAfterError('slow down', 1500) instanceof m.LbOperatorError"),
    ).toBe(true);
    expect(await importInConsumer(pkg.name, "m.conformanceCases.length > 10")).toBe(true);
    expect(await importInConsumer(pkg.name, "m.packageVersion()")).toBe(pkg.version);
  });

  it(`"${pkg.name}/providers/baremetal" resolves`, async () => {
    expect(await importInConsumer(`${pkg.name}/providers/baremetal`, "typeof m.BaremetalProvider")).toBe("function");
  });

  it(`"${pkg.name}/runtime" gives a program the core's runtime layer`, async () => {
    const names = await importInConsumer(`${pkg.name}/runtime`, "Object.keys(m).sort()");
    expect(names).toEqual(
      expect.arrayContaining([
        "kubeCacheFactory",
        "KubeRest",
        "KubeEventRecorder",
        "startHttpServer",
        "LeaderElector",
        "systemClock",
      ]),
    );
  });

  it("the controller, the bare-metal provider and the speaker load none of client-node's generated APIs", async () => {
    // The hook sees every module the imports resolve; client-node's index and gen/ cost 58 MB of RSS on import.
    const probe = (specifiers: string[]): string =>
      `import { registerHooks } from "node:module";
       const heavy = new Set();
       registerHooks({ resolve(s, c, next) { const r = next(s, c);
         if (/@kubernetes\\/client-node\\/dist\\/(index|gen\\/)/.test(r.url)) heavy.add(r.url.replace(/.*client-node\\//, ""));
         return r; } });
       for (const s of ${JSON.stringify(specifiers)}) await import(s);
       console.log(JSON.stringify([...heavy].sort()));`;
    const run = async (specifiers: string[]): Promise<string[]> => {
      const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", probe(specifiers)], {
        cwd: consumer,
      });
      return JSON.parse(stdout) as string[];
    };
    const dist = (file: string): string => join(packageDir, "dist", file);
    expect(
      await run([
        `${pkg.name}/runtime`,
        `${pkg.name}/toolkit`,
        `${pkg.name}/providers/baremetal`,
        dist("src/cli/run-command.js"),
        dist("src/run-controller.js"),
        dist("providers/baremetal/create-baremetal-provider.js"),
        dist("speaker/speaker-command.js"),
        dist("speaker/run-speaker.js"),
      ]),
    ).toEqual([]);
    // The probe sees it where it is meant to be: the main export carries the conformance suite's client.
    expect(await run([pkg.name])).toContain("dist/index.js");
  });

  it(`"${pkg.name}/toolkit" gives a provider the shared cloud-call policy, annotation reader and IP module`, async () => {
    expect(
      await importInConsumer(
        `${pkg.name}/toolkit`,
        "[typeof m.cloudCall, typeof m.AnnotationReader, m.formatIP(m.parseIP('2001:db8::1'))]",
      ),
    ).toEqual(["function", "function", "2001:db8::1"]);
  });

  it("the speaker is its own program: lb-operator-speaker prints --version and its own --help", async () => {
    const bin = join(packageDir, pkg.bin["lb-operator-speaker"]!);
    expect((await exec(process.execPath, [bin, "--version"])).stdout.trim()).toBe(pkg.version);
    const help = (await exec(process.execPath, [bin, "--help"])).stdout;
    expect(help).toContain("Usage: lb-operator-speaker");
    expect(help).toContain("--heartbeat-port");
  });

  it("its bin prints --version and --help", async () => {
    const bin = join(packageDir, pkg.bin[pkg.name]!);
    expect((await exec(process.execPath, [bin, "--version"])).stdout.trim()).toBe(pkg.version);
    const help = (await exec(process.execPath, [bin, "--help"])).stdout;
    expect(help).toContain("Usage: lb-operator");
    for (const command of ["run", "speaker", "conformance"]) expect(help).toContain(command);
  });
});
