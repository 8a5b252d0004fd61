import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfigError, inClusterConfig, loadKubeConfigData, parseKubeConfig } from "./kube-config-loader.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kc-loader-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig file in its own subdirectory of the temp dir; returns its path. */
function writeConfig(sub: string, text: string): string {
  const folder = join(dir, sub);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, "config");
  writeFileSync(file, text);
  return file;
}

function kubeconfigYaml(opts: {
  cluster: string;
  server: string;
  user: string;
  token: string;
  current?: string;
}): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${opts.cluster}`,
    "  cluster:",
    `    server: ${opts.server}`,
    "users:",
    `- name: ${opts.user}`,
    "  user:",
    `    token: ${opts.token}`,
    "contexts:",
    `- name: ${opts.cluster}-ctx`,
    "  context:",
    `    cluster: ${opts.cluster}`,
    `    user: ${opts.user}`,
    ...(opts.current === undefined ? [] : [`current-context: ${opts.current}`]),
    "",
  ].join("\n");
}

describe("loadKubeConfigData", () => {
  it("turns a token-file into the re-read tokenFile provider, relative to the kubeconfig; a literal token wins", () => {
    const file = writeConfig(
      "token-file",
      [
        "clusters: [{name: c, cluster: {server: https://example.test}}]",
        "users:",
        "- {name: rel, user: {token-file: secrets/token}}",
        "- {name: abs, user: {token-file: /run/token}}",
        "- {name: both, user: {token: literal, token-file: never-read}}",
        "contexts: [{name: x, context: {cluster: c, user: rel}}]",
        "current-context: x",
      ].join("\n"),
    );
    const users = loadKubeConfigData(file, {}).users;
    const tokenFileOf = (name: string): unknown =>
      (users.find((u) => u.name === name)?.authProvider as { config?: { tokenFile?: string } } | undefined)?.config
        ?.tokenFile;
    expect(tokenFileOf("rel")).toBe(join(dir, "token-file", "secrets/token"));
    expect(tokenFileOf("abs")).toBe("/run/token");
    expect(users.find((u) => u.name === "both")).toMatchObject({ token: "literal", authProvider: undefined });
  });

  it("resolves relative certificate-authority, client-certificate and client-key paths beside the file", () => {
    const file = writeConfig(
      "relative",
      [
        "clusters:",
        "- name: c",
        "  cluster:",
        "    server: https://example.test:6443/",
        "    certificate-authority: certs/ca.crt",
        "- name: abs",
        "  cluster:",
        "    server: https://abs.test",
        "    certificate-authority: /etc/abs/ca.crt",
        "users:",
        "- name: u",
        "  user:",
        "    client-certificate: ../shared/client.crt",
        "    client-key: client.key",
        "contexts:",
        "- name: x",
        "  context: {cluster: c, user: u, namespace: ns1}",
        "current-context: x",
      ].join("\n"),
    );
    const data = loadKubeConfigData(file, {});
    const root = join(dir, "relative");
    expect(data.clusters).toEqual([
      expect.objectContaining({ name: "c", server: "https://example.test:6443", caFile: join(root, "certs/ca.crt") }),
      expect.objectContaining({ name: "abs", caFile: "/etc/abs/ca.crt" }),
    ]);
    expect(data.users[0]).toMatchObject({
      name: "u",
      certFile: join(dir, "shared", "client.crt"),
      keyFile: join(root, "client.key"),
    });
    expect(data.contexts).toEqual([expect.objectContaining({ name: "x", cluster: "c", user: "u", namespace: "ns1" })]);
    expect(data.currentContext).toBe("x");
  });

  it("merges the $KUBECONFIG files: the first to name an entry or a current context wins", () => {
    const first = writeConfig(
      "merge-a",
      kubeconfigYaml({ cluster: "shared", server: "https://a.test", user: "ua", token: "ta", current: "shared-ctx" }),
    );
    const second = writeConfig(
      "merge-b",
      [
        "clusters:",
        "- name: shared",
        "  cluster: {server: https://b.test}",
        "- name: only-b",
        "  cluster: {server: https://only-b.test}",
        "users:",
        "- name: ub",
        "  user: {token: tb}",
        "contexts:",
        "- name: shared-ctx",
        "  context: {cluster: only-b, user: ub}",
        "- name: ctx-b",
        "  context: {cluster: only-b, user: ub}",
        "current-context: ctx-b",
      ].join("\n"),
    );
    const data = loadKubeConfigData(undefined, { KUBECONFIG: [first, "", second].join(delimiter), HOME: dir });
    expect(data.currentContext).toBe("shared-ctx");
    expect(data.clusters.map((c) => [c.name, c.server])).toEqual([
      ["shared", "https://a.test"],
      ["only-b", "https://only-b.test"],
    ]);
    expect(data.users.map((u) => [u.name, u.token])).toEqual([
      ["ua", "ta"],
      ["ub", "tb"],
    ]);
    expect(data.contexts.map((c) => [c.name, c.cluster])).toEqual([
      ["shared-ctx", "shared"],
      ["ctx-b", "only-b"],
    ]);
  });

  it("takes the current context from a later file when the first names none", () => {
    const first = writeConfig(
      "cc-a",
      kubeconfigYaml({ cluster: "a", server: "https://a.test", user: "u", token: "t" }),
    );
    const second = writeConfig(
      "cc-b",
      kubeconfigYaml({ cluster: "b", server: "https://b.test", user: "u", token: "t2", current: "b-ctx" }),
    );
    const data = loadKubeConfigData(undefined, { KUBECONFIG: `${first}${delimiter}${second}`, HOME: dir });
    expect(data.currentContext).toBe("b-ctx");
  });

  it("prefers an explicit path over $KUBECONFIG", () => {
    const explicit = writeConfig(
      "explicit",
      kubeconfigYaml({ cluster: "e", server: "https://e.test", user: "u", token: "t", current: "e-ctx" }),
    );
    const other = writeConfig(
      "explicit-other",
      kubeconfigYaml({ cluster: "o", server: "https://o.test", user: "u", token: "t", current: "o-ctx" }),
    );
    expect(loadKubeConfigData(explicit, { KUBECONFIG: other, HOME: dir }).currentContext).toBe("e-ctx");
  });

  it("reads $HOME/.kube/config when no path or $KUBECONFIG is given", () => {
    const home = join(dir, "home-with-config");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(
      join(home, ".kube", "config"),
      kubeconfigYaml({ cluster: "h", server: "https://h.test", user: "u", token: "t", current: "h-ctx" }),
    );
    expect(loadKubeConfigData(undefined, { HOME: home }).clusters[0]?.server).toBe("https://h.test");
  });

  it("falls back to in-cluster config when KUBERNETES_SERVICE_HOST is set", () => {
    const home = join(dir, "empty-home-incluster");
    mkdirSync(home, { recursive: true });
    const data = loadKubeConfigData(undefined, { HOME: home, KUBERNETES_SERVICE_HOST: "10.0.0.1" });
    expect(data.clusters[0]?.server).toBe("https://10.0.0.1:443");
    expect(data.currentContext).toBe("inClusterContext");
  });

  it("fails with a KubeConfigError naming the options when there is nothing to load", () => {
    const home = join(dir, "empty-home");
    mkdirSync(home, { recursive: true });
    let caught: unknown;
    try {
      loadKubeConfigData(undefined, { HOME: home, KUBECONFIG: "" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KubeConfigError);
    const message = (caught as Error).message;
    for (const option of ["--kubeconfig", "$KUBECONFIG", "~/.kube/config", "service account"]) {
      expect(message).toContain(option);
    }
  });

  it("fails with a KubeConfigError for a missing file", () => {
    expect(() => loadKubeConfigData(join(dir, "does-not-exist"), {})).toThrow(KubeConfigError);
  });
});

describe("inClusterConfig", () => {
  let sa: string;
  beforeAll(() => {
    sa = join(dir, "serviceaccount");
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "sa-token");
    writeFileSync(join(sa, "ca.crt"), "not really a certificate");
    writeFileSync(join(sa, "namespace"), "lb-system\n");
  });

  it("builds the service account's server, CA, namespace and token-file user", () => {
    const data = inClusterConfig({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "6443" }, sa);
    expect(data.clusters).toEqual([
      expect.objectContaining({
        name: "inCluster",
        server: "https://10.96.0.1:6443",
        caFile: join(sa, "ca.crt"),
        skipTLSVerify: false,
      }),
    ]);
    expect(data.users).toEqual([
      { name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: join(sa, "token") } } },
    ]);
    expect(data.contexts).toEqual([
      { name: "inClusterContext", cluster: "inCluster", user: "inClusterUser", namespace: "lb-system" },
    ]);
    expect(data.currentContext).toBe("inClusterContext");
  });

  it("brackets an IPv6 service host and defaults the port to 443", () => {
    const data = inClusterConfig({ KUBERNETES_SERVICE_HOST: "fd00:10:96::1" }, sa);
    expect(data.clusters[0]?.server).toBe("https://[fd00:10:96::1]:443");
  });

  it("leaves the namespace unset without a namespace file", () => {
    const bare = join(dir, "serviceaccount-bare");
    mkdirSync(bare, { recursive: true });
    const data = inClusterConfig({ KUBERNETES_SERVICE_HOST: "k8s.test" }, bare);
    expect(data.contexts[0]?.namespace).toBeUndefined();
    expect(data.clusters[0]?.server).toBe("https://k8s.test:443");
  });
});

describe("parseKubeConfig", () => {
  it.each([
    ["not YAML", "clusters: [unclosed\n  - {"],
    ["a scalar", "just a string"],
    ["empty", ""],
    ["a list", "- name: c\n- name: d\n"],
    ["an invalid entry", "clusters:\n- name: c\n  cluster: {}\n"],
  ])("rejects %s with a KubeConfigError", (_what, text) => {
    expect(() => parseKubeConfig(text, "test.yaml")).toThrow(KubeConfigError);
  });

  it("names the source in its errors", () => {
    expect(() => parseKubeConfig("42", "my-config.yaml")).toThrow(/my-config\.yaml/);
  });
});
