/**
 * The lb-operator image under podman: builds it with scripts/build-image.sh (or takes LB_OPERATOR_IMAGE), runs
 * containers labelled with this process's pid, and removes them: by `remove()`, at process exit, and at the next
 * run's start for a run that was SIGKILLed.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LbOperatorError } from "../../../src/errors.js";
import { runInstallScript } from "../managed-process.js";

export class PodmanError extends LbOperatorError {}

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OWNER_LABEL = "lb-operator.test.owner-pid";

/**
 * Flags every `podman run` here needs (scripts/build-image.sh passes the same to `podman build`): crun 1.8 refuses
 * this machine's hybrid cgroups, and podman's default rlimits (1048576 open files) exceed what this process may
 * grant, so the runtime's setrlimit fails. Neither is part of the security context under test.
 */
export function hostRuntimeFlags(): string[] {
  const hardNofile = readLimit("Max open files");
  return ["--runtime", "runc", "--ulimit", `nofile=${hardNofile}:${hardNofile}`, "--ulimit", "nproc=32768:32768"];
}

function readLimit(name: string): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === "unlimited" ? 1_048_576 : Number(hard);
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `podman args`; never rejects: the caller judges the exit code. */
export async function podman(args: string[], timeoutMs = 120_000): Promise<PodmanResult> {
  try {
    const { stdout, stderr } = await execFileAsync("podman", args, { maxBuffer: 64 << 20, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
}

async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new PodmanError(`podman ${args.join(" ")} exited with ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Fails with the install step to take when podman or runc is missing. */
export async function requirePodman(): Promise<void> {
  for (const [tool, args] of [
    ["podman", ["--version"]],
    ["runc", ["--version"]],
  ] as const) {
    try {
      await execFileAsync(tool, [...args]);
    } catch {
      throw new PodmanError(
        `${tool} is not installed; the image tests need it (Debian: apt-get install podman runc mmdebstrap)`,
      );
    }
  }
}

/**
 * The image to test: LB_OPERATOR_IMAGE when set (must exist in podman's storage), else what
 * scripts/build-image.sh builds (cached layers make a rebuild of unchanged sources take seconds).
 */
export async function resolveImage(): Promise<string> {
  await requirePodman();
  const given = process.env["LB_OPERATOR_IMAGE"];
  const image = given || (await runInstallScript("build-image.sh", () => undefined));
  if ((await podman(["image", "exists", image])).code !== 0) {
    throw new PodmanError(
      given
        ? `LB_OPERATOR_IMAGE=${given} is not in podman's storage`
        : `build-image.sh printed ${JSON.stringify(image)}, which podman does not have`,
    );
  }
  return image;
}

/** Uncompressed size in bytes, as `podman images` reports it. */
export async function imageSize(image: string): Promise<number> {
  return Number((await podmanOk(["image", "inspect", "--format", "{{.Size}}", image])).trim());
}

/** The numeric uid of the image's USER (0 when unset). A user name is resolved in the image's /etc/passwd. */
export async function imageUid(image: string): Promise<number> {
  const user = (await podmanOk(["image", "inspect", "--format", "{{.Config.User}}", image])).trim().split(":")[0] ?? "";
  if (user === "") return 0;
  if (/^\d+$/.test(user)) return Number(user);
  const r = await podman([
    "run",
    "--rm",
    ...hostRuntimeFlags(),
    "--network",
    "none",
    "--entrypoint",
    "id",
    image,
    "-u",
    user,
  ]);
  if (r.code !== 0) throw new PodmanError(`cannot resolve the image's USER ${user}: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

/** Runs the image to completion (a CLI call): `podman run --rm image args`. */
export async function runToCompletion(image: string, args: string[]): Promise<PodmanResult> {
  return podman([
    "run",
    "--rm",
    ...hostRuntimeFlags(),
    "--network",
    "none",
    "--label",
    `${OWNER_LABEL}=${process.pid}`,
    image,
    ...args,
  ]);
}

const live = new Set<string>();
let exitHookInstalled = false;

function removeSync(names: Iterable<string>): void {
  const list = [...names];
  if (list.length === 0) return;
  try {
    execFileSync("podman", ["rm", "--force", "--time", "0", ...list], { stdio: "ignore", timeout: 60_000 });
  } catch {
    // best effort at exit
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => removeSync(live));
}

/** Removes containers a SIGKILLed earlier run left behind (their owner pid is gone). */
export async function sweepStaleContainers(): Promise<void> {
  const out = await podmanOk([
    "ps",
    "--all",
    "--filter",
    `label=${OWNER_LABEL}`,
    "--format",
    `{{.Names}} {{index .Labels "${OWNER_LABEL}"}}`,
  ]);
  const stale: string[] = [];
  for (const line of out.split("\n")) {
    const [name, pid] = line.trim().split(/\s+/);
    if (!name || !pid) continue;
    if (Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch {
      stale.push(name);
    }
  }
  if (stale.length) await podman(["rm", "--force", "--time", "0", ...stale]);
}

export interface ContainerSpec {
  /** Unique name; prefixed with lbo<pid>- here. */
  name: string;
  image: string;
  /** Arguments after the image (the entrypoint is lb-operator). */
  args: string[];
  /** Security flags (security-context.ts) and anything else: network, mounts. */
  flags: string[];
}

export interface ContainerState {
  running: boolean;
  exitCode: number;
  pid: number;
  error: string;
}

export class Container {
  private removed = false;

  private constructor(
    readonly name: string,
    readonly spec: ContainerSpec,
  ) {}

  /** `podman run --detach`; the container is tracked for removal from the moment it is created. */
  static async start(spec: ContainerSpec): Promise<Container> {
    installExitHook();
    const name = `lbo${process.pid}-${spec.name}`;
    live.add(name);
    const container = new Container(name, spec);
    const r = await podman([
      "run",
      "--detach",
      "--name",
      name,
      "--label",
      `${OWNER_LABEL}=${process.pid}`,
      ...hostRuntimeFlags(),
      ...spec.flags,
      spec.image,
      ...spec.args,
    ]);
    if (r.code !== 0) {
      await container.remove();
      throw new PodmanError(`podman run ${name} exited with ${r.code}: ${r.stderr.trim()}`);
    }
    return container;
  }

  async state(): Promise<ContainerState> {
    const out = await podmanOk([
      "inspect",
      "--format",
      "{{.State.Running}} {{.State.ExitCode}} {{.State.Pid}} {{.State.Error}}",
      this.name,
    ]);
    const [running, exitCode, pid, ...error] = out.trim().split(" ");
    return { running: running === "true", exitCode: Number(exitCode), pid: Number(pid), error: error.join(" ") };
  }

  /** stdout and stderr of the container so far. */
  async logs(): Promise<string> {
    const r = await podman(["logs", this.name]);
    return (r.stdout + r.stderr).trimEnd();
  }

  async logTail(lines = 40): Promise<string> {
    return (await this.logs()).split("\n").slice(-lines).join("\n");
  }

  /** Idempotent; also when the container never started. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await podman(["rm", "--force", "--time", "2", this.name], 60_000);
    live.delete(this.name);
  }
}

/** Removes every container, each attempted even if another fails. */
export async function removeAll(containers: Iterable<Container>): Promise<void> {
  await Promise.allSettled([...containers].map((c) => c.remove()));
}

export { REPO_ROOT };
