/**
 * The chart's securityContexts, read by rendering the chart with helm (never copied into the tests), mapped to
 * the podman flags that give a container the same restrictions, and checked afterwards in the kernel's view of
 * the container's main process (/proc/<pid>/status and mountinfo).
 *
 * Mapping (pod-level fields apply unless the container sets its own, as in Kubernetes):
 *   runAsUser / runAsGroup              --user uid[:gid] (unset: the image's USER)
 *   runAsNonRoot                        no flag; the effective uid must not be 0, else the kubelet refuses the pod
 *   fsGroup, supplementalGroups         --group-add (the kubelet adds them as supplementary groups)
 *   readOnlyRootFilesystem              --read-only --read-only-tmpfs=false (Kubernetes mounts no tmpfs of its own)
 *   allowPrivilegeEscalation: false     --security-opt no-new-privileges
 *   privileged                          --privileged
 *   capabilities.drop / add             --cap-drop / --cap-add
 *   seccompProfile RuntimeDefault       podman's default profile (no flag)
 *   seccompProfile Unconfined or unset  --security-opt seccomp=unconfined (Kubernetes' default without the
 *                                       kubelet's --seccomp-default)
 *   volumeMounts of emptyDir volumes    --tmpfs <mountPath> (a writable directory under a read-only root)
 * Any other securityContext field makes the mapping throw, so a chart change cannot be silently ignored.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { LbOperatorError } from "../../../src/errors.js";
import { printsExistingPath, runInstallScript } from "../managed-process.js";

export class SecurityContextError extends LbOperatorError {}

const execFileAsync = promisify(execFile);
const CHART = fileURLToPath(new URL("../../../charts/lb-operator", import.meta.url));

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string; localhostProfile?: string };
  [other: string]: unknown;
}

interface VolumeMount {
  name: string;
  mountPath: string;
}
interface Volume {
  name: string;
  emptyDir?: unknown;
  [other: string]: unknown;
}
interface Container {
  name: string;
  securityContext?: SecurityContext;
  volumeMounts?: VolumeMount[];
}
interface PodSpec {
  securityContext?: SecurityContext;
  containers: Container[];
  volumes?: Volume[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec?: PodSpec } };
}

/** One workload container of the rendered chart, with what the kubelet would apply. */
export interface ChartContainer {
  /** e.g. "Deployment lbo-lb-operator, container controller" */
  readonly where: string;
  readonly pod: SecurityContext;
  readonly container: SecurityContext;
  /** Paths of emptyDir mounts (writable under a read-only root). */
  readonly emptyDirMounts: string[];
}

export interface ChartSecurity {
  controller: ChartContainer;
  speaker: ChartContainer;
}

/** Renders the chart (provider baremetal, so the speaker DaemonSet is there) and reads both containers. */
export async function chartSecurity(): Promise<ChartSecurity> {
  const helm = await runInstallScript("install-helm.sh", printsExistingPath);
  // helm's cache, config and data dirs in a temp dir: no writes to ~/.config/helm.
  const home = mkdtempSync(join(tmpdir(), "lb-operator-image-helm-"));
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      helm,
      ["template", "lbo", CHART, "--namespace", "lb-operator", "--set", "provider=baremetal"],
      {
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(home, "cache"),
          HELM_CONFIG_HOME: join(home, "config"),
          HELM_DATA_HOME: join(home, "data"),
        },
        maxBuffer: 16 << 20,
      },
    ));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const manifests = parseAllDocuments(stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return {
    controller: workload(manifests, "Deployment", "controller"),
    speaker: workload(manifests, "DaemonSet", "speaker"),
  };
}

function workload(manifests: Manifest[], kind: string, containerName: string): ChartContainer {
  const found = manifests.flatMap((m) => {
    const pod = m.kind === kind ? m.spec?.template?.spec : undefined;
    const container = pod?.containers.find((c) => c.name === containerName);
    return pod && container ? [{ m, pod, container }] : [];
  });
  if (found.length !== 1) {
    throw new SecurityContextError(
      `the rendered chart has ${found.length} ${kind}s with a container named ${containerName} (expected 1)`,
    );
  }
  const { m, pod, container } = found[0]!;
  const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir !== undefined).map((v) => v.name));
  return {
    where: `${kind} ${m.metadata.name}, container ${containerName}`,
    pod: pod.securityContext ?? {},
    container: container.securityContext ?? {},
    emptyDirMounts: (container.volumeMounts ?? []).filter((v) => emptyDirs.has(v.name)).map((v) => v.mountPath),
  };
}

const POD_FIELDS = new Set([
  "runAsUser",
  "runAsGroup",
  "runAsNonRoot",
  "fsGroup",
  "supplementalGroups",
  "seccompProfile",
]);
const CONTAINER_FIELDS = new Set([
  "runAsUser",
  "runAsGroup",
  "runAsNonRoot",
  "readOnlyRootFilesystem",
  "allowPrivilegeEscalation",
  "privileged",
  "capabilities",
  "seccompProfile",
]);

/** What the kubelet would apply, after the container's fields override the pod's. */
export interface EffectiveSecurity {
  /** undefined: the image's USER. */
  uid?: number;
  gid?: number;
  runAsNonRoot: boolean;
  groups: number[];
  readOnlyRoot: boolean;
  noNewPrivileges: boolean;
  privileged: boolean;
  capDrop: string[];
  capAdd: string[];
  seccomp: "RuntimeDefault" | "Unconfined";
}

export function effectiveSecurity(c: ChartContainer): EffectiveSecurity {
  for (const [level, ctx, known] of [
    ["pod", c.pod, POD_FIELDS],
    ["container", c.container, CONTAINER_FIELDS],
  ] as const) {
    for (const key of Object.keys(ctx)) {
      if (!known.has(key))
        throw new SecurityContextError(
          `${c.where}: ${level} securityContext.${key} has no podman mapping in test/env/image/security-context.ts; add one`,
        );
    }
  }
  const pick = <K extends keyof SecurityContext>(key: K): SecurityContext[K] => c.container[key] ?? c.pod[key];
  const seccomp = pick("seccompProfile");
  if (seccomp && seccomp.type !== "RuntimeDefault" && seccomp.type !== "Unconfined") {
    throw new SecurityContextError(`${c.where}: seccompProfile ${seccomp.type} has no podman mapping`);
  }
  const caps = (list: string[] | undefined): string[] => (list ?? []).map((x) => x.toUpperCase().replace(/^CAP_/, ""));
  const groups = [...(c.pod.fsGroup === undefined ? [] : [c.pod.fsGroup]), ...(c.pod.supplementalGroups ?? [])];
  return {
    ...(pick("runAsUser") === undefined ? {} : { uid: pick("runAsUser")! }),
    ...(pick("runAsGroup") === undefined ? {} : { gid: pick("runAsGroup")! }),
    runAsNonRoot: pick("runAsNonRoot") === true,
    groups,
    readOnlyRoot: c.container.readOnlyRootFilesystem === true,
    noNewPrivileges: c.container.allowPrivilegeEscalation === false,
    privileged: c.container.privileged === true,
    capDrop: caps(c.container.capabilities?.drop),
    capAdd: caps(c.container.capabilities?.add),
    seccomp: seccomp?.type === "RuntimeDefault" ? "RuntimeDefault" : "Unconfined",
  };
}

/** The podman flags for `sec`; `imageUid` is the image's USER, needed for runAsNonRoot and a lone runAsGroup. */
export function podmanSecurityFlags(sec: EffectiveSecurity, imageUid: number, emptyDirMounts: string[] = []): string[] {
  const uid = sec.uid ?? imageUid;
  if (sec.runAsNonRoot && uid === 0)
    throw new SecurityContextError("runAsNonRoot with uid 0: the kubelet would refuse to start this container");
  const flags: string[] = [];
  if (sec.uid !== undefined || sec.gid !== undefined)
    flags.push("--user", sec.gid === undefined ? `${uid}` : `${uid}:${sec.gid}`);
  for (const g of sec.groups) flags.push("--group-add", String(g));
  if (sec.readOnlyRoot) flags.push("--read-only", "--read-only-tmpfs=false");
  for (const path of emptyDirMounts) flags.push("--tmpfs", path);
  if (sec.noNewPrivileges) flags.push("--security-opt", "no-new-privileges");
  if (sec.privileged) flags.push("--privileged");
  for (const cap of sec.capDrop) flags.push("--cap-drop", cap);
  for (const cap of sec.capAdd) flags.push("--cap-add", cap);
  if (sec.seccomp === "Unconfined") flags.push("--security-opt", "seccomp=unconfined");
  return flags;
}

/** One line for messages: "uid 0, caps NET_ADMIN+NET_RAW (drop ALL), read-only root, no-new-privileges, seccomp RuntimeDefault". */
export function describeSecurity(sec: EffectiveSecurity, imageUid: number): string {
  return [
    `uid ${sec.uid ?? imageUid}${sec.gid === undefined ? "" : `:${sec.gid}`}${sec.uid === undefined ? " (image USER)" : ""}`,
    `capabilities ${sec.capAdd.length ? sec.capAdd.join("+") : "none added"} (drop ${sec.capDrop.join(",") || "none"})`,
    sec.readOnlyRoot ? "read-only root" : "writable root",
    sec.noNewPrivileges ? "no-new-privileges" : "privilege escalation allowed",
    sec.privileged ? "privileged" : "not privileged",
    `seccomp ${sec.seccomp}`,
  ].join(", ");
}

// linux/capability.h
const CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
];

function capabilityNames(hex: string): string[] {
  const bits = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

/** What the kernel says about a running process: the facts the security context is meant to produce. */
export interface ProcessSecurity {
  uid: number;
  gid: number;
  groups: number[];
  effectiveCaps: string[];
  boundingCaps: string[];
  noNewPrivileges: boolean;
  /** 0 none, 2 filter */
  seccompMode: number;
  readOnlyRoot: boolean;
}

export function processSecurity(pid: number): ProcessSecurity {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): string => {
    const line = status.split("\n").find((l) => l.startsWith(`${name}:`));
    if (line === undefined) throw new SecurityContextError(`/proc/${pid}/status has no ${name}`);
    return line.slice(name.length + 1).trim();
  };
  const root = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  return {
    uid: Number(field("Uid").split(/\s+/)[1]),
    gid: Number(field("Gid").split(/\s+/)[1]),
    groups: field("Groups").split(/\s+/).filter(Boolean).map(Number),
    effectiveCaps: capabilityNames(field("CapEff")),
    boundingCaps: capabilityNames(field("CapBnd")),
    noNewPrivileges: field("NoNewPrivs") === "1",
    seccompMode: Number(field("Seccomp")),
    readOnlyRoot: root?.split(" ")[5]?.split(",").includes("ro") ?? false,
  };
}

/**
 * Differences between what the kernel shows for the container's process and what `sec` asks for (empty: none).
 * Capabilities: with drop ALL the bounding set is exactly the added ones, and a root process has them effective.
 */
export function securityMismatches(actual: ProcessSecurity, sec: EffectiveSecurity, imageUid: number): string[] {
  const out: string[] = [];
  const uid = sec.uid ?? imageUid;
  if (actual.uid !== uid) out.push(`uid ${actual.uid}, expected ${uid}`);
  if (sec.gid !== undefined && actual.gid !== sec.gid) out.push(`gid ${actual.gid}, expected ${sec.gid}`);
  for (const g of sec.groups) if (!actual.groups.includes(g)) out.push(`supplementary group ${g} missing`);
  if (sec.readOnlyRoot !== actual.readOnlyRoot)
    out.push(`root filesystem ${actual.readOnlyRoot ? "read-only" : "writable"}`);
  if (sec.noNewPrivileges !== actual.noNewPrivileges) out.push(`NoNewPrivs ${actual.noNewPrivileges ? 1 : 0}`);
  const wantSeccomp = sec.seccomp === "RuntimeDefault" ? 2 : 0;
  if (actual.seccompMode !== wantSeccomp) out.push(`seccomp mode ${actual.seccompMode}, expected ${wantSeccomp}`);
  if (sec.capDrop.includes("ALL")) {
    const bounding = [...actual.boundingCaps].sort().join(",");
    const want = [...sec.capAdd].sort().join(",");
    if (bounding !== want) out.push(`bounding capabilities [${bounding}], expected [${want}]`);
    const effective = [...actual.effectiveCaps].sort().join(",");
    const wantEffective = uid === 0 ? want : "";
    if (effective !== wantEffective) out.push(`effective capabilities [${effective}], expected [${wantEffective}]`);
  }
  return out;
}
