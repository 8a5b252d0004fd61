import { readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import type { Authenticator } from "@kubernetes/client-node/dist/auth.js";
import { ExecAuth } from "@kubernetes/client-node/dist/exec_auth.js";
import { FileAuth } from "@kubernetes/client-node/dist/file_auth.js";
import { Agent, type Dispatcher, ProxyAgent } from "undici";
import { type Cluster, type Context, KubeConfigError, type KubeConfigData, type User } from "./kube-config-loader.js";

/** What one plain request needs: the authentication headers and the connection pool to send it on. */
export interface RequestAuth {
  headers: Record<string, string>;
  dispatcher: Dispatcher;
}

/** TLS material of one pool; a change (a rotated exec client certificate) builds a new pool. */
interface TlsMaterial {
  ca?: Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

/**
 * The current context of a kubeconfig as a connection: its server, per-request credentials (token, token
 * file, exec plugin, client certificate, the auth providers) and one pooled undici Agent for every plain
 * request. It replaces client-node's KubeConfig in the runtime path, whose module loads every generated API;
 * client-node's authenticators are reused as they are (their modules import nothing else), except the
 * cloud auth providers (gcp, azure, oidc), loaded only when the kubeconfig names one.
 *
 * A watch gets a dispatcher of its own (watchAuth): a (re)started watch must never land on a pooled keep-alive
 * socket that went dead, which is exactly when watches restart.
 */
export class KubeConnection implements KubeConfigData {
  readonly clusters: readonly Cluster[];
  readonly users: readonly User[];
  readonly contexts: readonly Context[];
  readonly currentContext: string;
  readonly server: string;
  private readonly cluster: Cluster;
  private readonly user: User | undefined;
  private authenticator: Promise<Authenticator | undefined> | undefined;
  private pool: { tls: TlsMaterial; dispatcher: Dispatcher } | undefined;
  /** The kubeconfig's own TLS files, read once per pool (a reset re-reads them: a rotated certificate on disk). */
  private fileTls: TlsMaterial | undefined;

  /** `data` itself when it is already a connection (one pool per process), else a new one over its current context. */
  static from(data: KubeConfigData): KubeConnection {
    return data instanceof KubeConnection ? data : new KubeConnection(data);
  }

  constructor(data: KubeConfigData) {
    this.clusters = data.clusters;
    this.users = data.users;
    this.contexts = data.contexts;
    this.currentContext = data.currentContext;
    const context = data.contexts.find((c) => c.name === data.currentContext);
    if (!context) throw new KubeConfigError(`kubeconfig has no context "${data.currentContext}"`);
    const cluster = data.clusters.find((c) => c.name === context.cluster);
    if (!cluster) throw new KubeConfigError(`kubeconfig context "${context.name}" names no known cluster`);
    if (cluster.proxyUrl?.startsWith("socks")) {
      throw new KubeConfigError(`kubeconfig cluster "${cluster.name}": a SOCKS proxy-url is not supported`);
    }
    this.cluster = cluster;
    this.user = data.users.find((u) => u.name === context.user);
    this.server = cluster.server.replace(/\/$/, "");
  }

  /** The current context's namespace, as in-cluster config sets it from the service account. */
  get namespace(): string | undefined {
    return this.contexts.find((c) => c.name === this.currentContext)?.namespace;
  }

  /** Headers and the pooled dispatcher for one plain (non-watch) request. */
  async requestAuth(): Promise<RequestAuth> {
    const { headers, tls } = await this.credentials();
    if (!this.pool || !sameTls(this.pool.tls, tls)) {
      const stale = this.pool?.dispatcher;
      this.pool = { tls, dispatcher: this.dispatcher(tls) };
      // Calls in flight on the old pool finish first; close() waits for them.
      void stale?.close().catch(() => undefined);
    }
    return { headers, dispatcher: this.pool.dispatcher };
  }

  /** Headers and a dispatcher of the watch's own; the caller closes it when the watch ends. */
  async watchAuth(): Promise<RequestAuth> {
    const { headers, tls } = await this.credentials();
    return { headers, dispatcher: this.dispatcher(tls) };
  }

  /**
   * Drops every pooled connection. Called when a call timed out: behind a dead NAT or load balancer the pool's
   * idle keep-alive sockets are as dead as the one that hung, and each would otherwise cost a caller a full
   * timeout before undici discards it. The next call builds a fresh pool.
   */
  resetConnections(): void {
    const dead = this.pool?.dispatcher;
    this.pool = undefined;
    this.fileTls = undefined;
    void dead?.destroy().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pool = this.pool?.dispatcher;
    this.pool = undefined;
    await pool?.close();
  }

  private async credentials(): Promise<{ headers: Record<string, string>; tls: TlsMaterial }> {
    // client-node's KubeConfig.applyOptions, step by step: the authenticator (which may set a client
    // certificate of its own), then a static token, basic auth and impersonation; TLS from the kubeconfig.
    const opts: RequestOptions & { headers: Record<string, string> } = { headers: {} };
    const user = this.user;
    const authenticator = await (this.authenticator ??= authenticatorFor(user));
    if (user && authenticator) await authenticator.applyAuthentication(user, opts);
    if (user) applyStaticCredentials(user, opts.headers);
    // A token read from a file keeps the file's trailing newline (client-node's FileAuth and token-file do not
    // trim; client-go does), and undici refuses a header value with one: every call would fail.
    if (opts.headers.Authorization) opts.headers.Authorization = opts.headers.Authorization.trim();
    this.fileTls ??= fileTlsOf(this.cluster, user);
    const tls: TlsMaterial = {
      ...this.fileTls,
      cert: asPem(opts.cert) ?? this.fileTls.cert,
      key: asPem(opts.key) ?? this.fileTls.key,
    };
    return { headers: opts.headers, tls };
  }

  private dispatcher(tls: TlsMaterial): Dispatcher {
    // keepAliveInitialDelay 30 s, as client-go and client-node.
    const connect = { ...tls, keepAlive: true, keepAliveInitialDelay: 30_000 };
    // HTTP/1.1, not the HTTP/2 undici 8 negotiates by default: in bench/reconcile at 1,000 Services node's http2
    // session code was the largest part of our CPU per call, and HTTP/1.1 keep-alive connections gave 1.6 CPU s
    // against 1.8 and a create-to-address p50 of 14 ms against 18-20 (two runs each).
    const proxy = this.cluster.proxyUrl;
    return proxy ? new ProxyAgent({ uri: proxy, requestTls: connect }) : new Agent({ connect, allowH2: false });
  }
}

/** The authenticator client-node would pick for `user`, or none (a token or client certificate only). */
async function authenticatorFor(user: User | undefined): Promise<Authenticator | undefined> {
  if (!user) return undefined;
  const local: Authenticator[] = [new ExecAuth(), new FileAuth()];
  const found = local.find((a) => a.isAuthProvider(user));
  if (found || !user.authProvider) return found;
  const [{ GoogleCloudPlatformAuth }, { AzureAuth }, { OpenIDConnectAuth }] = await Promise.all([
    import("@kubernetes/client-node/dist/gcp_auth.js"),
    import("@kubernetes/client-node/dist/azure_auth.js"),
    import("@kubernetes/client-node/dist/oidc_auth.js"),
  ]);
  const cloud: Authenticator[] = [new GoogleCloudPlatformAuth(), new AzureAuth(), new OpenIDConnectAuth()];
  const provider = cloud.find((a) => a.isAuthProvider(user));
  if (!provider) {
    throw new KubeConfigError(
      `kubeconfig user "${user.name}": unknown auth-provider "${String((user.authProvider as { name?: unknown }).name)}"`,
    );
  }
  return provider;
}

function applyStaticCredentials(user: User, headers: Record<string, string>): void {
  if (user.token) headers.Authorization = `Bearer ${user.token}`;
  if (user.username) {
    headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`;
  }
  if (user.impersonateUser) headers["Impersonate-User"] = user.impersonateUser;
}

function fileTlsOf(cluster: Cluster, user: User | undefined): TlsMaterial {
  return {
    ca: fileOrData(cluster.caFile, cluster.caData),
    cert: fileOrData(user?.certFile, user?.certData),
    key: fileOrData(user?.keyFile, user?.keyData),
    servername: cluster.tlsServerName,
    rejectUnauthorized: !cluster.skipTLSVerify,
  };
}

/** File material is read once per pool (same Buffer objects); an exec plugin's certificate is a string. */
function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.ca === b.ca && a.cert === b.cert && a.key === b.key && a.servername === b.servername;
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (!file) return data ? Buffer.from(data, "base64") : undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    // A missing or unreadable certificate is a configuration error, not a bare ENOENT out of every call.
    throw new KubeConfigError(`reading kubeconfig file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function asPem(value: unknown): string | Buffer | undefined {
  return typeof value === "string" || Buffer.isBuffer(value) ? value : undefined;
}
