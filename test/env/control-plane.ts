/**
 * A real kube-apiserver + etcd for integration tests and the lab, started the way envtest starts them
 * (../shared/reference/upstream.md section 4), but with token auth and a CA we generate, so clients verify TLS.
 */
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { request } from "node:https";
import { createServer, isIPv6 } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { LbOperatorError } from "../../src/errors.js";
import {
  type ManagedChild,
  launchManaged,
  removeDir,
  runInstallScript,
  terminateManaged,
  trackDir,
  waitUntilReady,
} from "./managed-process.js";

export class ControlPlaneError extends LbOperatorError {}

export interface ExtraToken {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

export interface ControlPlaneOptions {
  /** Address the apiserver listens on; a lab binds it to a bridge address so network namespaces reach it. */
  bindAddress?: string;
  serviceNodePortRange?: string;
  extraApiServerArgs?: string[];
  extraTokens?: ExtraToken[];
  /** Another kube-apiserver version than the default (v1.36.3), e.g. "v1.29.15", built on first use. */
  kubernetesVersion?: string;
}

export interface ExtraApiServer {
  server: string;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

export interface ControlPlane {
  readonly server: string;
  readonly adminToken: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  kubeConfig(token?: string): KubeConfig;
  /** Writes a kubeconfig for another token (an extraTokens user), for RBAC tests. */
  writeKubeconfig(token: string, name: string): string;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  startExtraApiServer(): Promise<ExtraApiServer>;
  /** Pids of every process this control plane started that has not exited. */
  processIds(): number[];
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;
const exec = promisify(execFile);

/**
 * Resolves the directory holding kube-apiserver and etcd (and, at the default version, the lab's kube-proxy and
 * kube-controller-manager), built by scripts/install-control-plane.sh on first use; one resolution per version.
 */
const binaries = new Map<string, Promise<string>>();

export function resolveControlPlaneBinaries(kubernetesVersion?: string): Promise<string> {
  const key = kubernetesVersion ?? "default";
  let found = binaries.get(key);
  if (!found) {
    process.stderr.write(
      `control-plane: resolving kube-apiserver ${kubernetesVersion ?? ""} and etcd (a first build takes several minutes)\n`,
    );
    // Another version is wanted for its apiserver alone (a test of what an older apiserver does).
    const env: Record<string, string> =
      kubernetesVersion === undefined ? {} : { K8S_VERSION: kubernetesVersion, KUBE_COMMANDS: "kube-apiserver" };
    found = runInstallScript(
      "install-control-plane.sh",
      (dir) =>
        existsSync(join(dir, "kube-apiserver")) && existsSync(join(dir, "etcd"))
          ? undefined
          : `printed ${JSON.stringify(dir)}, which lacks the binaries`,
      env,
    );
    found.catch(() => binaries.delete(key));
    binaries.set(key, found);
  }
  return found;
}

interface Proc extends ManagedChild {
  readonly name: string;
}

function launch(name: string, bin: string, args: string[], logPath: string): Proc {
  return { name, ...launchManaged(bin, args, logPath) };
}

const terminate = terminateManaged;

function waitReady(proc: Proc, probe: () => Promise<boolean>): Promise<void> {
  return waitUntilReady(proc, {
    name: proc.name,
    what: "it was ready",
    timeoutMs: READY_TIMEOUT_MS,
    probe,
    error: (m) => new ControlPlaneError(m),
  });
}

/**
 * The HTTP status of a GET over TLS, or undefined when nothing answered. `ca` verifies the server; without one the
 * certificate is not checked (a process's own self-signed serving certificate, only liveness asked).
 */
export function httpsStatus(url: string, options: { ca?: string; token?: string } = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    const tls = options.ca === undefined ? { rejectUnauthorized: false } : { ca: options.ca };
    const req = request(url, { ...tls, headers, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/** A free port: listen on port 0 and give it back. The port can in principle be taken before use. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === "object" ? resolve(addr.port) : reject(new ControlPlaneError("no port")),
      );
    });
  });
}

const hostPort = (host: string, port: number): string => (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

async function makeCerts(dir: string, bindAddress: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await exec("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    join(dir, "ca.key"),
    "-out",
    join(dir, "ca.crt"),
    "-days",
    "7",
    "-subj",
    "/CN=lb-operator-test-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await exec("openssl", [
    "req",
    ...ec,
    "-keyout",
    join(dir, "server.key"),
    "-out",
    join(dir, "server.csr"),
    "-subj",
    "/CN=kube-apiserver",
  ]);
  const sans = new Set(["IP:127.0.0.1", "IP:::1", "DNS:localhost", "DNS:kubernetes.default.svc"]);
  if (bindAddress !== "0.0.0.0" && bindAddress !== "::") sans.add(`IP:${bindAddress}`);
  writeFileSync(
    join(dir, "server.ext"),
    `subjectAltName=${[...sans].join(",")}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await exec("openssl", [
    "x509",
    "-req",
    "-in",
    join(dir, "server.csr"),
    "-CA",
    join(dir, "ca.crt"),
    "-CAkey",
    join(dir, "ca.key"),
    "-CAcreateserial",
    "-out",
    join(dir, "server.crt"),
    "-days",
    "7",
    "-extfile",
    join(dir, "server.ext"),
  ]);
  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
}

function kubeconfigYaml(server: string, ca: string, token: string): string {
  // JSON is valid YAML; no serializer needed.
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      "current-context": "lb-operator-test",
      clusters: [
        {
          name: "lb-operator-test",
          cluster: { server, "certificate-authority-data": Buffer.from(ca).toString("base64") },
        },
      ],
      users: [{ name: "user", user: { token } }],
      contexts: [{ name: "lb-operator-test", context: { cluster: "lb-operator-test", user: "user" } }],
    },
    null,
    2,
  );
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const bindAddress = options.bindAddress ?? "127.0.0.1";
  const clientHost = bindAddress === "0.0.0.0" ? "127.0.0.1" : bindAddress === "::" ? "::1" : bindAddress;
  const bin = await resolveControlPlaneBinaries(options.kubernetesVersion);
  const dir = mkdtempSync(join(tmpdir(), "lb-operator-cp-"));
  trackDir(dir);
  const procs = new Set<Proc>();
  let apiServer: Proc | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Everything is thrown away, so no graceful shutdown.
      await Promise.all([...procs].map((p) => terminate(p, 0)));
      removeDir(dir);
    })());

  try {
    const started = Date.now();
    await makeCerts(dir, bindAddress);
    const ca = readFileSync(join(dir, "ca.crt"), "utf8");
    const adminToken = randomBytes(24).toString("hex");
    const quote = (groups: string[]): string => `"${groups.join(",")}"`;
    writeFileSync(
      join(dir, "tokens.csv"),
      [
        `${adminToken},admin,admin-uid,${quote(["system:masters"])}`,
        ...(options.extraTokens ?? []).map((t) => `${t.token},${t.user},${t.uid},${quote(t.groups)}`),
      ].join("\n") + "\n",
    );

    const [clientPort, peerPort, apiPort] = await Promise.all([
      freePort("127.0.0.1"),
      freePort("127.0.0.1"),
      freePort(bindAddress),
    ]);
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = launch(
      "etcd",
      join(bin, "etcd"),
      [
        "--name=lb-operator-test",
        `--data-dir=${join(dir, "etcd-data")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=lb-operator-test=${peerUrl}`,
        "--unsafe-no-fsync=true",
      ],
      join(dir, "etcd.log"),
    );
    procs.add(etcd);
    await waitReady(
      etcd,
      async () =>
        await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.ok,
          () => false,
        ),
    );

    const server = `https://${hostPort(clientHost, apiPort)}`;
    const apiServerArgs = (port: number, certDir: string): string[] => [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--tls-cert-file=${join(dir, "server.crt")}`,
      `--tls-private-key-file=${join(dir, "server.key")}`,
      `--bind-address=${bindAddress}`,
      `--secure-port=${port}`,
      // One issuer for every apiserver on this etcd, so tokens minted by one are accepted by the others.
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      // /16 holds the 20,000 Services of the scale tests; the range only feeds the allocator, never traffic.
      "--service-cluster-ip-range=10.96.0.0/16",
      `--service-node-port-range=${options.serviceNodePortRange ?? "30000-32767"}`,
      "--disable-admission-plugins=ServiceAccount",
      "--authorization-mode=RBAC",
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--allow-privileged=true",
      // The default reconciler writes a loopback Endpoints for `kubernetes` (rejected) and fights between apiservers.
      "--endpoint-reconciler-type=none",
      "--profiling=false",
      ...(options.extraApiServerArgs ?? []),
    ];

    const launchApiServer = async (name: string, port: number, url: string): Promise<Proc> => {
      const certDir = join(dir, name);
      mkdirSync(certDir, { recursive: true });
      const proc = launch(name, join(bin, "kube-apiserver"), apiServerArgs(port, certDir), join(dir, `${name}.log`));
      procs.add(proc);
      void proc.exited.then(() => procs.delete(proc));
      await waitReady(proc, async () => (await httpsStatus(`${url}/readyz`, { ca, token: adminToken })) === 200);
      return proc;
    };

    apiServer = await launchApiServer("kube-apiserver", apiPort, server);
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, ca, adminToken));
    if (process.env["LB_OPERATOR_DEBUG"])
      process.stderr.write(`control-plane: ready at ${server} in ${Date.now() - started} ms\n`);

    let extraCount = 0;
    return {
      server,
      adminToken,
      kubeconfigPath,
      dir,
      kubeConfig(token?: string): KubeConfig {
        const kc = new KubeConfig();
        if (token === undefined) kc.loadFromFile(kubeconfigPath);
        else kc.loadFromString(kubeconfigYaml(server, ca, token));
        return kc;
      },
      writeKubeconfig(token: string, name: string): string {
        const path = join(dir, `${name}.kubeconfig`);
        writeFileSync(path, kubeconfigYaml(server, ca, token));
        return path;
      },
      async stopApiServer(): Promise<void> {
        if (apiServer) await terminate(apiServer, 10_000);
      },
      async startApiServer(): Promise<void> {
        if (stopping) throw new ControlPlaneError("control plane is stopped");
        if (apiServer && !apiServer.done()) return;
        apiServer = await launchApiServer("kube-apiserver", apiPort, server);
      },
      async startExtraApiServer(): Promise<ExtraApiServer> {
        if (stopping) throw new ControlPlaneError("control plane is stopped");
        const name = `kube-apiserver-extra-${++extraCount}`;
        const port = await freePort(bindAddress);
        const url = `https://${hostPort(clientHost, port)}`;
        const proc = await launchApiServer(name, port, url);
        const path = join(dir, `${name}.kubeconfig`);
        writeFileSync(path, kubeconfigYaml(url, ca, adminToken));
        return { server: url, kubeconfigPath: path, stop: () => terminate(proc, 10_000) };
      },
      processIds: () =>
        [...procs].filter((p) => !p.done()).flatMap((p) => (p.child.pid === undefined ? [] : [p.child.pid])),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
