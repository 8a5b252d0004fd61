/**
 * The speakers' heartbeat key as `helm template` renders it (templates/heartbeat-secret.yaml, speaker.yaml): the
 * speaker always gets the key file, from the chart's generated Secret or the user's. `lookup` returns nothing under
 * `helm template`, so every render generates a new key; that the key survives an upgrade is shown by the real
 * install in helm-chart.test.ts ("keeps the generated heartbeat key across helm upgrade").
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART, Helm, type Manifest, parseManifests } from "../env/helm.js";

const RELEASE = "hb";
const GENERATED = `${RELEASE}-lb-operator-heartbeat`;
const KEY_FILE_FLAG = "--heartbeat-secret-file=/etc/lb-operator/heartbeat/key";

interface SpeakerPod {
  containers: { args: string[]; volumeMounts?: unknown[] }[];
  volumes?: unknown[];
}

let helm: Helm;
beforeAll(async () => {
  helm = await Helm.start();
});
afterAll(() => helm?.dispose());

async function render(args: readonly string[]): Promise<Manifest[]> {
  const r = await helm.template(RELEASE, "lb-system", args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return parseManifests(r.stdout);
}

const secrets = (manifests: Manifest[]): Manifest[] => manifests.filter((m) => m.kind === "Secret");

function speakerPod(manifests: Manifest[]): SpeakerPod {
  const daemonSets = manifests.filter((m) => m.kind === "DaemonSet") as unknown as {
    spec: { template: { spec: SpeakerPod } };
  }[];
  expect(daemonSets).toHaveLength(1);
  return daemonSets[0]!.spec.template.spec;
}

/** The speaker reads its key from the named Secret, mounted where the flag points. */
function expectKeyFrom(pod: SpeakerPod, secretName: string): void {
  expect(pod.containers[0]!.args).toContain(KEY_FILE_FLAG);
  expect(pod.containers[0]!.volumeMounts).toEqual([
    { name: "heartbeat", mountPath: "/etc/lb-operator/heartbeat", readOnly: true },
  ]);
  expect(pod.volumes).toEqual([{ name: "heartbeat", secret: { secretName } }]);
}

describe("the heartbeat key, rendered", () => {
  it("by default generates a Secret of 32 random bytes, new on each render, and the speaker reads it", async () => {
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const manifests = await render([]);
      const [secret, ...more] = secrets(manifests);
      expect(more).toEqual([]);
      expect(secret).toMatchObject({ metadata: { name: GENERATED, namespace: "lb-system" }, type: "Opaque" });
      const key = (secret as unknown as { data: { key: string } }).data.key;
      expect(Buffer.from(key, "base64")).toHaveLength(32);
      expect(Buffer.from(key, "base64").toString("base64")).toBe(key);
      keys.push(key);
      expectKeyFrom(speakerPod(manifests), GENERATED);
    }
    // Without a cluster, lookup finds no stored key: each render is a fresh one.
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("uses the user's Secret when speaker.heartbeatSecret names one, and generates none", async () => {
    const manifests = await render(["--values", join(CHART, "ci", "baremetal-values.yaml")]);
    expect(secrets(manifests)).toEqual([]);
    expectKeyFrom(speakerPod(manifests), "lb-operator-heartbeat");
  });

  it("renders no key without a speaker: another provider, or the speaker disabled", async () => {
    for (const args of [
      ["--values", join(CHART, "ci", "aws-values.yaml")],
      ["--set", "speaker.enabled=false"],
    ]) {
      const manifests = await render(args);
      expect(secrets(manifests), args.join(" ")).toEqual([]);
      expect(manifests.some((m) => m.kind === "DaemonSet")).toBe(false);
    }
  });
});
