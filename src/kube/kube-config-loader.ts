/**
 * Reads a kubeconfig without @kubernetes/client-node's KubeConfig class: that class's module imports every
 * generated API and model (58 MB of RSS on import beside our other dependencies; without it the controller's RSS
 * when ready fell from 132 to 106 MB in bench/reconcile), and the controller needs none of them. The entry types
 * and their validation are client-node's own (`config_types.js`, which imports nothing else), so a file means
 * what it means to client-node and kubectl.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { isIPv6 } from "node:net";
import {
  type Cluster,
  type Context,
  type User,
  newClusters,
  newContexts,
  newUsers,
} from "@kubernetes/client-node/dist/config_types.js";
import { parse } from "yaml";
import { LbOperatorError } from "../errors.js";

export type { Cluster, Context, User };

/**
 * The data of a kubeconfig: what client-node's KubeConfig holds, so one of those (tests, tools) can be passed
 * wherever this is taken.
 */
export interface KubeConfigData {
  readonly clusters: readonly Cluster[];
  readonly users: readonly User[];
  readonly contexts: readonly Context[];
  readonly currentContext: string;
}

export class KubeConfigError extends LbOperatorError {}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** `--kubeconfig <path>`, else client-node's loadFromDefault order: $KUBECONFIG, ~/.kube/config, in-cluster. */
export function loadKubeConfigData(path?: string, env: NodeJS.ProcessEnv = process.env): KubeConfigData {
  if (path) return readKubeConfigFile(path);
  const files = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (files.length > 0) return mergeFirstWins(files.map(readKubeConfigFile));
  const home = join(env.HOME ?? homedir(), ".kube", "config");
  if (existsSync(home)) return readKubeConfigFile(home);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterConfig(env);
  throw new KubeConfigError(
    "no kubeconfig: pass --kubeconfig, set $KUBECONFIG, create ~/.kube/config, or run in a Pod with a service account",
  );
}

export function readKubeConfigFile(path: string): KubeConfigData {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KubeConfigError(`reading kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  return withAbsolutePaths(parseKubeConfig(text, path, dirname(path)), dirname(path));
}

/** `baseDir`: where relative `token-file` paths point (the kubeconfig's directory; default the working directory). */
export function parseKubeConfig(text: string, source = "kubeconfig", baseDir?: string): KubeConfigData {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeConfigError(`${source} is not YAML: ${(err as Error).message}`, { cause: err });
  }
  // A YAML list is an object to typeof, but no kubeconfig: it would read as one with no entries at all.
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new KubeConfigError(`${source} is not a kubeconfig object`);
  }
  const obj = doc as Record<string, unknown>;
  try {
    return {
      clusters: newClusters(obj.clusters),
      users: newUsers(withTokenFilesReread(obj.users, baseDir)),
      contexts: newContexts(obj.contexts),
      currentContext: typeof obj["current-context"] === "string" ? obj["current-context"] : "",
    };
  } catch (err) {
    throw new KubeConfigError(`${source}: ${(err as Error).message}`, { cause: err });
  }
}

/** The Pod's service account, as client-go's rest.InClusterConfig: token file re-read, cluster CA. */
export function inClusterConfig(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): KubeConfigData {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const namespaceFile = join(dir, "namespace");
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined;
  return {
    clusters: [
      {
        name: "inCluster",
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile: join(dir, "ca.crt"),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: join(dir, "token") } } }],
    contexts: [{ name: "inClusterContext", cluster: "inCluster", user: "inClusterUser", namespace }],
    currentContext: "inClusterContext",
  };
}

/** kubectl's merge of $KUBECONFIG files: the first file to name an entry (or a current context) wins. */
function mergeFirstWins(configs: readonly KubeConfigData[]): KubeConfigData {
  const byName = <T extends { name: string }>(lists: (readonly T[])[]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: byName(configs.map((c) => c.clusters)),
    users: byName(configs.map((c) => c.users)),
    contexts: byName(configs.map((c) => c.contexts)),
    currentContext: configs.find((c) => c.currentContext !== "")?.currentContext ?? "",
  };
}

/**
 * A user's `token-file` becomes the tokenFile auth provider, which re-reads the file every minute as client-go
 * does (a projected, rotating token); client-node would read it once, relative to the working directory. A
 * relative path is relative to the kubeconfig's directory, kubectl's rule. A literal `token` still wins.
 */
function withTokenFilesReread(users: unknown, baseDir: string | undefined): unknown {
  if (!Array.isArray(users)) return users;
  return users.map((entry: unknown) => {
    const user = (entry as { user?: Record<string, unknown> } | null)?.user;
    const file = user?.["token-file"];
    if (!user || typeof file !== "string" || user.token !== undefined) return entry;
    const rest = { ...user };
    delete rest["token-file"];
    const tokenFile = baseDir && !isAbsolute(file) ? join(baseDir, file) : file;
    return { ...(entry as object), user: { ...rest, "auth-provider": { name: "tokenFile", config: { tokenFile } } } };
  });
}

/** Relative certificate, key and CA paths are relative to the kubeconfig's own directory (kubectl's rule). */
function withAbsolutePaths(config: KubeConfigData, root: string): KubeConfigData {
  const abs = (file: string | undefined): string | undefined => (file && !isAbsolute(file) ? join(root, file) : file);
  return {
    ...config,
    clusters: config.clusters.map((c) => ({ ...c, caFile: abs(c.caFile) })),
    users: config.users.map((u) => ({ ...u, certFile: abs(u.certFile), keyFile: abs(u.keyFile) })),
  };
}
