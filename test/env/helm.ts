/**
 * The helm CLI for chart tests: the binary built and cached by scripts/install-helm.sh, run with its cache, config
 * and data dirs in a temp dir (so runs never touch ~/.config/helm or each other), and `helm template` output parsed
 * into objects.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { printsExistingPath, runInstallScript } from "./managed-process.js";

export const CHART = fileURLToPath(new URL("../../charts/lb-operator", import.meta.url));
/**
 * The oldest Kubernetes the chart admits (Chart.yaml kubeVersion); offline renders and lints assume it, so they do
 * not depend on the version helm was built with, and prove the chart renders at its floor.
 */
export const KUBE_FLOOR = "1.30.0";

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

export class Helm {
  private constructor(
    readonly bin: string,
    /** The temp dir holding helm's cache, config and data dirs; callers may write values files here. */
    readonly home: string,
  ) {}

  /** Runs scripts/install-helm.sh (builds helm from the Go module proxy on first use). Call `dispose()` after. */
  static async start(): Promise<Helm> {
    const bin = await runInstallScript("install-helm.sh", printsExistingPath);
    return new Helm(bin, mkdtempSync(join(tmpdir(), "lb-operator-helm-")));
  }

  run(args: readonly string[], kubeconfig?: string): Promise<HelmResult> {
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(this.home, "cache"),
      HELM_CONFIG_HOME: join(this.home, "config"),
      HELM_DATA_HOME: join(this.home, "data"),
      ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }),
    };
    return new Promise((resolve) => {
      execFile(this.bin, [...args], { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** `helm template` at KUBE_FLOOR; the result as is, for tests of failures. */
  template(release: string, namespace: string, extraArgs: readonly string[]): Promise<HelmResult> {
    return this.run(["template", release, CHART, "--namespace", namespace, "--kube-version", KUBE_FLOOR, ...extraArgs]);
  }

  dispose(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Every object of a `helm template` output, in order. */
export function parseManifests(stdout: string): Manifest[] {
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
