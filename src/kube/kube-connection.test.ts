import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { createServer as createHttpServer } from "node:http";
import { connect as netConnect } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { KubeConfig } from "@kubernetes/client-node";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiError } from "../errors.js";
import {
  type Cluster,
  KubeConfigError,
  type KubeConfigData,
  type User,
  inClusterConfig,
} from "./kube-config-loader.js";
import { KubeConnection } from "./kube-connection.js";
import { KubeRest } from "./kube-rest.js";

// A tiny HTTPS "apiserver" that numbers its TLS connections and records, per request, the Authorization header,
// the client certificate's CN and the connection it came on.
interface Seen {
  authorization: string | undefined;
  basic: string | undefined;
  impersonate: string | undefined;
  clientCN: string | undefined;
  connection: number;
}

let server: ReturnType<typeof createServer>;
let connections = 0;
const connectionIds = new WeakMap<TLSSocket, number>();
const connectionClosed = new Map<number, Promise<void>>();
const seen: Seen[] = [];
let dir: string;
let url: string;
let port: number;
let ca: string;

function openssl(cn: string, name: string): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${cn}`,
      ...(cn === "127.0.0.1" ? ["-addext", "subjectAltName=IP:127.0.0.1,DNS:apiserver.test"] : []),
      "-keyout",
      join(dir, `${name}-key.pem`),
      "-out",
      join(dir, `${name}-cert.pem`),
    ],
    { stdio: "ignore" },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kube-connection-"));
  openssl("127.0.0.1", "server");
  openssl("lb-operator-client", "client");
  openssl("exec-client", "exec");
  ca = readFileSync(join(dir, "server-cert.pem"), "utf8");
  server = createServer(
    { key: readFileSync(join(dir, "server-key.pem")), cert: ca, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      seen.push({
        authorization: req.headers.authorization,
        basic: req.headers.authorization?.startsWith("Basic ")
          ? Buffer.from(req.headers.authorization.slice(6), "base64").toString()
          : undefined,
        impersonate: req.headers["impersonate-user"] as string | undefined,
        clientCN: typeof peer.subject?.CN === "string" ? peer.subject.CN : undefined,
        connection: connectionIds.get(socket) ?? -1,
      });
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }));
      });
    },
  );
  // Idle connections stay open until the client closes them, so a closed one is the client's doing.
  server.keepAliveTimeout = 60_000;
  server.on("secureConnection", (socket: TLSSocket) => {
    const id = ++connections;
    connectionIds.set(socket, id);
    connectionClosed.set(id, new Promise((resolve) => socket.on("close", () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  url = `https://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function cluster(overrides: Partial<Cluster> = {}): Cluster {
  return { name: "c", server: url, caData: Buffer.from(ca).toString("base64"), skipTLSVerify: false, ...overrides };
}

function config(user: User, clusterOverrides: Partial<Cluster> = {}): KubeConfigData {
  return {
    clusters: [cluster(clusterOverrides)],
    users: [user],
    contexts: [{ name: "x", cluster: "c", user: user.name }],
    currentContext: "x",
  };
}

/** What the server saw for `calls` sequential GETs over `rest`, and how many TLS connections they opened. */
async function callsThrough(rest: KubeRest, calls: number): Promise<{ seen: Seen[]; opened: number }> {
  const before = connections;
  const from = seen.length;
  for (let i = 0; i < calls; i++) await rest.get("/api/v1/namespaces/x");
  return { seen: seen.slice(from), opened: connections - before };
}

describe("KubeConnection", () => {
  it("carries KubeRest's calls over at most two pooled TLS connections, each with the user's token", async () => {
    const rest = new KubeRest(config({ name: "u", token: "t" }));
    try {
      const before = connections;
      const from = seen.length;
      for (let i = 0; i < 15; i++) {
        await rest.get("/api/v1/namespaces/x");
        await rest.post("/api/v1/namespaces/x/events", { i });
      }
      expect(seen.slice(from).map((s) => s.authorization)).toEqual(Array<string>(30).fill("Bearer t"));
      const opened = connections - before;
      expect(opened).toBeGreaterThanOrEqual(1);
      expect(opened).toBeLessThanOrEqual(2);
    } finally {
      await rest.connection.close();
    }
  });

  it("takes a client-node KubeConfig, and returns a KubeConnection it is given as it is", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions(config({ name: "u", token: "from-kc" }));
    const connection = KubeConnection.from(kc);
    expect(connection).toBeInstanceOf(KubeConnection);
    expect(connection.server).toBe(url);
    expect(KubeConnection.from(connection)).toBe(connection);
    const rest = new KubeRest(connection);
    try {
      expect(rest.connection).toBe(connection);
      const result = await callsThrough(rest, 3);
      expect(result.seen.map((s) => s.authorization)).toEqual(Array<string>(3).fill("Bearer from-kc"));
    } finally {
      await connection.close();
    }
  });

  it("sends basic auth and the impersonated user", async () => {
    const rest = new KubeRest(config({ name: "u", username: "admin", password: "s3cret", impersonateUser: "alice" }));
    try {
      const [call] = (await callsThrough(rest, 1)).seen;
      expect(call?.basic).toBe("admin:s3cret");
      expect(call?.impersonate).toBe("alice");
    } finally {
      await rest.connection.close();
    }
  });

  it("reads the token file of an in-cluster service account, verifying the server with its ca.crt", async () => {
    const sa = join(dir, "serviceaccount");
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "file-token-123");
    writeFileSync(join(sa, "ca.crt"), ca);
    writeFileSync(join(sa, "namespace"), "lb-system");
    const connection = new KubeConnection(
      inClusterConfig({ KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(port) }, sa),
    );
    const rest = new KubeRest(connection);
    try {
      expect(connection.namespace).toBe("lb-system");
      const result = await callsThrough(rest, 2);
      expect(result.seen.map((s) => s.authorization)).toEqual(["Bearer file-token-123", "Bearer file-token-123"]);
    } finally {
      await connection.close();
    }
  });

  it("trims the newline a token file ends with", async () => {
    const tokenFile = join(dir, "token-with-newline");
    writeFileSync(tokenFile, "line-token\n");
    const rest = new KubeRest(config({ name: "tf", authProvider: { name: "tokenFile", config: { tokenFile } } }));
    try {
      const result = await callsThrough(rest, 2);
      expect(result.seen.map((s) => s.authorization)).toEqual(["Bearer line-token", "Bearer line-token"]);
    } finally {
      await rest.connection.close();
    }
  });

  it("runs an exec credential plugin and sends its token", async () => {
    const script = join(dir, "exec-token.sh");
    writeFileSync(
      script,
      [
        "#!/bin/sh",
        `printf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'`,
        "",
      ].join("\n"),
    );
    chmodSync(script, 0o755);
    const rest = new KubeRest(
      config({
        name: "e",
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: script, args: [], interactiveMode: "Never" },
      }),
    );
    try {
      const result = await callsThrough(rest, 3);
      expect(result.seen.map((s) => s.authorization)).toEqual(Array<string>(3).fill("Bearer from-exec"));
      expect(result.opened).toBeLessThanOrEqual(2);
    } finally {
      await rest.connection.close();
    }
  });

  it("presents an exec plugin's client certificate and keeps pooling while it does not change", async () => {
    const credential = join(dir, "exec-credential.json");
    writeFileSync(
      credential,
      JSON.stringify({
        apiVersion: "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        status: {
          clientCertificateData: readFileSync(join(dir, "exec-cert.pem"), "utf8"),
          clientKeyData: readFileSync(join(dir, "exec-key.pem"), "utf8"),
        },
      }),
    );
    const rest = new KubeRest(
      config({
        name: "ec",
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: "cat", args: [credential] },
      }),
    );
    try {
      const result = await callsThrough(rest, 10);
      expect(result.seen.map((s) => s.clientCN)).toEqual(Array<string>(10).fill("exec-client"));
      expect(result.seen.map((s) => s.authorization)).toEqual(Array<undefined>(10).fill(undefined));
      expect(result.opened).toBeLessThanOrEqual(2);
    } finally {
      await rest.connection.close();
    }
  });

  it.each([
    [
      "certFile/keyFile",
      (): User => ({ name: "cf", certFile: join(dir, "client-cert.pem"), keyFile: join(dir, "client-key.pem") }),
    ],
    [
      "certData/keyData",
      (): User => ({
        name: "cd",
        certData: readFileSync(join(dir, "client-cert.pem")).toString("base64"),
        keyData: readFileSync(join(dir, "client-key.pem")).toString("base64"),
      }),
    ],
  ])("presents the client certificate of %s", async (_how, user) => {
    const rest = new KubeRest(config(user()));
    try {
      const [call] = (await callsThrough(rest, 1)).seen;
      expect(call?.clientCN).toBe("lb-operator-client");
      expect(call?.authorization).toBeUndefined();
    } finally {
      await rest.connection.close();
    }
  });

  it("verifies the server against the cluster's CA, unless told to skip", async () => {
    const untrusted = new KubeRest(config({ name: "u", token: "t" }, { caData: undefined }));
    try {
      await expect(untrusted.get("/api/v1/namespaces/x")).rejects.toBeInstanceOf(KubeApiError);
    } finally {
      await untrusted.connection.close();
    }
    const skipping = new KubeRest(config({ name: "u", token: "t" }, { caData: undefined, skipTLSVerify: true }));
    try {
      expect((await callsThrough(skipping, 1)).seen).toHaveLength(1);
    } finally {
      await skipping.connection.close();
    }
  });

  it("builds a new pool when an exec plugin's client certificate changes", async () => {
    const credential = join(dir, "rotating-credential.json");
    const writeCredential = (name: string): void =>
      writeFileSync(
        credential,
        JSON.stringify({
          apiVersion: "client.authentication.k8s.io/v1",
          kind: "ExecCredential",
          status: {
            // Already expired: ExecAuth runs the plugin again for every call.
            expirationTimestamp: "2000-01-01T00:00:00Z",
            clientCertificateData: readFileSync(join(dir, `${name}-cert.pem`), "utf8"),
            clientKeyData: readFileSync(join(dir, `${name}-key.pem`), "utf8"),
          },
        }),
      );
    writeCredential("exec");
    const rest = new KubeRest(
      config({
        name: "rot",
        exec: { apiVersion: "client.authentication.k8s.io/v1", command: "cat", args: [credential] },
      }),
    );
    try {
      const before = await callsThrough(rest, 4);
      writeCredential("client");
      const after = await callsThrough(rest, 1);
      expect(before.seen.map((s) => s.clientCN)).toEqual(Array<string>(4).fill("exec-client"));
      expect(after.seen[0]?.clientCN).toBe("lb-operator-client");
      expect(after.opened).toBe(1);
      // The old pool is closed once its calls are done.
      await Promise.all([...new Set(before.seen.map((s) => s.connection))].map((id) => connectionClosed.get(id)!));
    } finally {
      await rest.connection.close();
    }
  });

  it("checks the server certificate against tls-server-name", async () => {
    const named = new KubeRest(config({ name: "u", token: "t" }, { tlsServerName: "apiserver.test" }));
    try {
      expect((await callsThrough(named, 1)).seen).toHaveLength(1);
    } finally {
      await named.connection.close();
    }
    const misnamed = new KubeRest(config({ name: "u", token: "t" }, { tlsServerName: "other.test" }));
    try {
      await expect(misnamed.get("/api/v1/namespaces/x")).rejects.toThrow(/other\.test/);
    } finally {
      await misnamed.connection.close();
    }
  });

  it("reports a missing certificate file as a KubeConfigError", async () => {
    const connection = new KubeConnection(
      config({ name: "u", token: "t" }, { caData: undefined, caFile: join(dir, "no-such-ca.crt") }),
    );
    await expect(connection.requestAuth()).rejects.toBeInstanceOf(KubeConfigError);
    await expect(connection.watchAuth()).rejects.toThrow(/no-such-ca\.crt/);
  });

  it("tunnels through an HTTP proxy-url with the cluster's TLS settings and the user's credentials", async () => {
    const tunnels: string[] = [];
    const proxy = createHttpServer();
    proxy.on("connect", (req, client, head) => {
      tunnels.push(req.url ?? "");
      const [host, targetPort] = (req.url ?? "").split(":");
      const upstream = netConnect(Number(targetPort), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const rest = new KubeRest(
      config(
        {
          name: "cf",
          token: "via-proxy",
          certFile: join(dir, "client-cert.pem"),
          keyFile: join(dir, "client-key.pem"),
        },
        { proxyUrl },
      ),
    );
    try {
      const result = await callsThrough(rest, 5);
      expect(result.seen.map((s) => [s.authorization, s.clientCN])).toEqual(
        Array<[string, string]>(5).fill(["Bearer via-proxy", "lb-operator-client"]),
      );
      expect(tunnels.length).toBeGreaterThanOrEqual(1);
      expect(tunnels.length).toBe(result.opened);
      expect(new Set(tunnels)).toEqual(new Set([`127.0.0.1:${port}`]));
    } finally {
      await rest.connection.close();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it("opens a new connection after resetConnections(), dropping the old ones", async () => {
    const rest = new KubeRest(config({ name: "u", token: "t" }));
    try {
      // Warm the pool: sequential calls settle on its (at most two) connections, which a further call reuses.
      const warm = await callsThrough(rest, 6);
      const old = new Set(warm.seen.map((s) => s.connection));
      expect((await callsThrough(rest, 1)).opened).toBe(0);
      rest.connection.resetConnections();
      const after = await callsThrough(rest, 1);
      expect(after.opened).toBe(1);
      expect(old.has(after.seen[0]!.connection)).toBe(false);
      expect(after.seen[0]?.authorization).toBe("Bearer t");
      // The server sees the old connections go away.
      await Promise.all([...old].map((id) => connectionClosed.get(id)!));
    } finally {
      await rest.connection.close();
    }
  });

  it("gives a watch a dispatcher of its own, with the same credentials", async () => {
    const connection = new KubeConnection(config({ name: "u", token: "t" }));
    const pooled = await connection.requestAuth();
    const watch = await connection.watchAuth();
    try {
      expect(watch.dispatcher).not.toBe(pooled.dispatcher);
      expect(watch.headers).toEqual(pooled.headers);
      expect((await connection.requestAuth()).dispatcher).toBe(pooled.dispatcher);
      // Warm the pool, then a call on the watch's dispatcher still opens a connection of its own.
      await (await request(`${url}/api/v1/namespaces/x`, pooled)).body.text();
      const before = connections;
      const from = seen.length;
      await (await request(`${url}/api/v1/namespaces/x`, watch)).body.text();
      expect(connections - before).toBe(1);
      expect(seen[from]?.authorization).toBe("Bearer t");
    } finally {
      await watch.dispatcher.destroy();
      await connection.close();
    }
  });

  // Functions: the table is built when tests are collected, before the server has an address.
  it.each([
    [
      "a context naming no known cluster",
      (): KubeConfigData => ({
        ...config({ name: "u", token: "t" }),
        contexts: [{ name: "x", cluster: "nowhere", user: "u" }],
      }),
    ],
    ["no current context", (): KubeConfigData => ({ ...config({ name: "u", token: "t" }), currentContext: "" })],
    [
      "a current context that does not exist",
      (): KubeConfigData => ({ ...config({ name: "u", token: "t" }), currentContext: "gone" }),
    ],
    [
      "a SOCKS proxy-url",
      (): KubeConfigData => config({ name: "u", token: "t" }, { proxyUrl: "socks5://127.0.0.1:1080" }),
    ],
  ])("rejects %s with a KubeConfigError", (_what, data) => {
    expect(() => new KubeConnection(data())).toThrow(KubeConfigError);
  });

  it("rejects an unknown auth-provider with a KubeConfigError", async () => {
    const connection = new KubeConnection(config({ name: "u", authProvider: { name: "bogus", config: {} } }));
    await expect(connection.requestAuth()).rejects.toBeInstanceOf(KubeConfigError);
  });
});
