/**
 * Checks JSON the fake answers against the client's own message definitions (protos.json of
 * @google-cloud/compute): the client's decoder silently drops members it does not know, so a misspelt field
 * would otherwise vanish unnoticed, and it throws on a member of the wrong JSON type (null included).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

interface ProtoField {
  readonly type: string;
  readonly rule?: string;
  readonly keyType?: string;
}

interface ProtoNode {
  readonly fields?: Readonly<Record<string, ProtoField>>;
  readonly values?: Readonly<Record<string, number>>;
  readonly nested?: Readonly<Record<string, ProtoNode>>;
}

const NUMBER_TYPES = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "float", "double"]);
const INT64_TYPES = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

/** The response message of a fake method id (`forwardingRules.get` -> ForwardingRule). */
export function responseTypeOf(method: string): string {
  const [collection = "", verb = ""] = method.split(".");
  if (collection.endsWith("Operations") || !["get", "list", "listInstances"].includes(verb)) return "Operation";
  if (verb === "listInstances") return "InstanceGroupsListInstances";
  const types: Readonly<Record<string, string>> = {
    instanceGroups: "InstanceGroup",
    healthChecks: "HealthCheck",
    regionBackendServices: "BackendService",
    forwardingRules: "ForwardingRule",
    firewalls: "Firewall",
    addresses: "Address",
    zones: "Zone",
    networks: "Network",
    subnetworks: "Subnetwork",
    instances: "Instance",
  };
  const type = types[collection] ?? "Unknown";
  return verb === "list" ? `${type}List` : type;
}

export class ComputeProtos {
  private readonly v1: ProtoNode;

  private constructor(v1: ProtoNode) {
    this.v1 = v1;
  }

  /** Reads build/protos/protos.json of the installed @google-cloud/compute (about 12 MB, once per test file). */
  static load(): ComputeProtos {
    const main = createRequire(import.meta.url).resolve("@google-cloud/compute");
    const root = JSON.parse(readFileSync(join(dirname(main), "..", "protos", "protos.json"), "utf8")) as ProtoNode;
    const v1 = ["google", "cloud", "compute", "v1"].reduce<ProtoNode | undefined>(
      (node, name) => node?.nested?.[name],
      root,
    );
    if (v1 === undefined) throw new Error("google.cloud.compute.v1 not found in protos.json");
    return new ComputeProtos(v1);
  }

  /** Members of `json` that message `typeName` does not declare or whose JSON type does not fit, as paths. */
  problems(typeName: string, json: unknown, path: string = typeName): string[] {
    const type = this.type(typeName);
    if (type?.fields === undefined) return [`${path}: unknown message ${typeName}`];
    if (typeof json !== "object" || json === null || Array.isArray(json)) return [`${path}: object expected`];
    return Object.entries(json as Record<string, unknown>).flatMap(([key, value]) => {
      const field = type.fields?.[key];
      if (field === undefined) return [`${path}.${key}: not a field of ${typeName}`];
      if (field.rule === "repeated") {
        return Array.isArray(value)
          ? value.flatMap((v, i) => this.value(field.type, v, `${path}.${key}[${i}]`, typeName))
          : [`${path}.${key}: array expected`];
      }
      if (field.keyType !== undefined) {
        return typeof value === "object" && value !== null
          ? Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
              this.value(field.type, v, `${path}.${key}.${k}`, typeName),
            )
          : [`${path}.${key}: map expected`];
      }
      return this.value(field.type, value, `${path}.${key}`, typeName);
    });
  }

  /** `scope`: the message declaring the field, where a relative type name (Operation's `Status`) is looked up first. */
  private value(typeName: string, value: unknown, path: string, scope: string): string[] {
    const fits =
      typeName === "string" || typeName === "bytes"
        ? typeof value === "string"
        : typeName === "bool"
          ? typeof value === "boolean"
          : NUMBER_TYPES.has(typeName)
            ? typeof value === "number"
            : INT64_TYPES.has(typeName)
              ? typeof value === "string" || typeof value === "number"
              : undefined;
    if (fits !== undefined) return fits ? [] : [`${path}: ${typeName} expected, got ${JSON.stringify(value)}`];
    const qualified = this.type(`${scope}.${typeName}`) === undefined ? typeName : `${scope}.${typeName}`;
    const type = this.type(qualified);
    if (type?.values !== undefined)
      return typeof value === "string" && value in type.values
        ? []
        : [`${path}: ${typeName} value expected, got ${JSON.stringify(value)}`];
    return this.problems(qualified, value, path);
  }

  private type(name: string): ProtoNode | undefined {
    return name
      .replace(/^\.?google\.cloud\.compute\.v1\./, "")
      .split(".")
      .reduce<ProtoNode | undefined>((node, part) => node?.nested?.[part], this.v1);
  }
}
