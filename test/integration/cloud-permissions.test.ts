/**
 * Cloud permissions (issue 11, point 6): the files users apply, deploy/aws/iam-policy.json and
 * deploy/gce/custom-role.yaml, checked against the calls the providers really make, in both directions.
 *
 * AWS: the whole provider (awsProviderFor) does representative work against moto through clients that record every
 * call: an NLB with instance targets (create, subnets, tags, source ranges, attributes, health check, NodePort and
 * port changes, nodes joining and leaving, user security groups, a scheme change, delete), an NLB with ip targets and
 * a classic ELB (create, subnets, extra security groups, tags, ports, nodes, delete). Each call becomes the IAM
 * authorization requests AWS evaluates for it (awsAuthRequests: the action, classic ELB and ELBv2 both
 * `elasticloadbalancing:`, the resource ARN, and the condition keys: the resource's tags read from moto just before
 * the call, the request's tags, and the create action of tag-on-create), as the Service Authorization Reference
 * documents them; a small IAM evaluator (Allow/Deny, Action, Resource wildcards, StringEquals/StringLike/Null/
 * ForAnyValue conditions) checks that a statement of the policy grants each one.
 *
 * GCE: the whole provider (gceProviderFor) does create, updates (ports past five, traffic policy both ways, health
 * check port, nodes joining and leaving across zones, protocol and requested IP) and delete against the fake Compute
 * API, whose call record gives HTTP method, path and body; COMPUTE_METHODS maps each to the IAM permissions Compute
 * checks, including those on referenced resources (instances.use, instanceGroups.use, healthChecks.useReadOnly, ...).
 *
 * A call the files do not allow fails with a message naming the call and the missing permission; a permission the
 * files grant that no call needed fails too, unless AWS_EXTRAS/GCE_EXTRAS give the reason. The providers' sources
 * are scanned as well (every SDK command / Compute client method they contain), so a code path no scenario reaches
 * is reported instead of silently missing from the files.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import { DescribeTagsCommand as DescribeClassicTagsCommand } from "@aws-sdk/client-elastic-load-balancing";
import { DescribeTagsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { EXCLUDE_FROM_LOAD_BALANCERS_LABEL } from "../../src/model/annotations.js";
import { deriveSpec } from "../../src/model/derive-spec.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import type { NewSpecOptions } from "../../testing/new-spec.js";
import type { AwsProvider } from "../../providers/aws/aws-provider.js";
import type { AwsClients } from "../../providers/aws/aws-types.js";
import type { GceProvider } from "../../providers/gce/gce-provider.js";
import { isMutating, operationName, type CountedApi } from "../env/aws-call-counter.js";
import { freshAwsWorldPerTest } from "../env/aws-test-world.js";
import type { AwsWorld } from "../env/aws-world.js";
import { freshFakeComputePerTest, gceNodes, gceTestProvider, gceTestSpec } from "../env/fake-compute/gce-test-world.js";
import type { FakeCompute, RecordedCall } from "../env/fake-compute/index.js";
import {
  newEndpointSlice,
  newService,
  tweakAnnotation,
  tweakPodMode,
  tweakPorts,
  tweakSourceRanges,
  type ServiceTweak,
} from "../fixtures/services.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const AWS_POLICY_FILE = "deploy/aws/iam-policy.json";
const GCE_ROLE_FILE = "deploy/gce/custom-role.yaml";
const signal = new AbortController().signal;

const unique = (items: Iterable<string>): string[] => [...new Set(items)].sort();
const list = (value: string | readonly string[]): readonly string[] => (typeof value === "string" ? [value] : value);

/** Non-test TypeScript sources under `dir` (relative to the repository), recursively. */
function sources(dir: string): { path: string; text: string }[] {
  const root = join(REPO, dir);
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((path) => ({ path: relative(REPO, path), text: readFileSync(path, "utf8") }));
}

// ---------------------------------------------------------------------------------------------------------------
// AWS: the policy, a small IAM evaluator, and the authorization requests each SDK call makes.
// ---------------------------------------------------------------------------------------------------------------

const StringsSchema = z.union([z.string(), z.array(z.string()).nonempty()]);
const StatementSchema = z.strictObject({
  Sid: z.string().regex(/^[A-Za-z0-9]+$/),
  Effect: z.enum(["Allow", "Deny"]),
  Action: StringsSchema,
  Resource: StringsSchema,
  Condition: z.record(z.string(), z.record(z.string(), StringsSchema)).optional(),
});
const PolicySchema = z.strictObject({
  Version: z.literal("2012-10-17"),
  Statement: z.array(StatementSchema).nonempty(),
});
type Statement = z.infer<typeof StatementSchema>;
type Policy = z.infer<typeof PolicySchema>;

/**
 * Actions the policy grants that no provider call makes, each with the reason it is there anyway. Everything else
 * in the policy must be needed by a recorded call.
 */
const AWS_EXTRAS: Readonly<Record<string, string>> = {
  "iam:CreateServiceLinkedRole":
    "the first load balancer of an account makes ELB create its service-linked role AWSServiceRoleForElasticLoadBalancing " +
    "on the caller's behalf; the provider never calls IAM itself (restricted to iam:AWSServiceName elasticloadbalancing.amazonaws.com)",
};

type ContextValue = string | readonly string[];
type RequestContext = Readonly<Record<string, ContextValue>>;

/** One IAM authorization AWS performs for a call: the action on a resource, with the condition keys it knows. */
interface AuthRequest {
  readonly action: string;
  /** The resource's ARN, or "*" for actions without resource-level permissions (Describe*). */
  readonly resource: string;
  readonly context: RequestContext;
}

interface RecordedAwsCall {
  /** "<client>:<operation>", e.g. "elbv2:CreateLoadBalancer". */
  readonly call: string;
  readonly requests: readonly AuthRequest[];
  /** awsAuthRequests has no model of this operation's resources. */
  readonly unmodelled: boolean;
}

/** IAM's wildcard match (`*` any run of characters, `?` one), case-sensitive as ARNs are. */
function wildcard(pattern: string, value: string): boolean {
  const source = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`).test(value);
}

function conditionHolds(operator: string, key: string, wanted: readonly string[], context: RequestContext): boolean {
  const present = context[key];
  switch (operator) {
    case "Null":
      return wanted.every((w) => (w === "true") === (present === undefined));
    case "StringEquals":
      return typeof present === "string" && wanted.includes(present);
    case "StringLike":
      return typeof present === "string" && wanted.some((w) => wildcard(w, present));
    case "ForAnyValue:StringEquals":
      return present !== undefined && list(present).some((v) => wanted.includes(v));
    default:
      throw new Error(
        `${AWS_POLICY_FILE}: condition operator ${operator} is not modelled by this test; add it to conditionHolds`,
      );
  }
}

function statementMatches(statement: Statement, request: AuthRequest): boolean {
  if (!list(statement.Action).includes(request.action)) return false;
  // An action without resource-level permissions is only granted by Resource "*".
  if (!list(statement.Resource).some((r) => r === "*" || (request.resource !== "*" && wildcard(r, request.resource))))
    return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, wanted]) => conditionHolds(operator, key, list(wanted), request.context)),
  );
}

/** The Sids of the Allow statements that grant `request`, or why none does (an explicit Deny wins). */
function authorize(
  policy: Policy,
  request: AuthRequest,
): { readonly allowedBy: readonly string[]; readonly denial?: string } {
  const denied = policy.Statement.filter((s) => s.Effect === "Deny" && statementMatches(s, request));
  if (denied.length > 0) return { allowedBy: [], denial: `denied by statement ${denied.map((s) => s.Sid).join(", ")}` };
  const allowedBy = policy.Statement.filter((s) => s.Effect === "Allow" && statementMatches(s, request)).map(
    (s) => s.Sid,
  );
  if (allowedBy.length > 0) return { allowedBy };
  const listing = policy.Statement.filter((s) => s.Effect === "Allow" && list(s.Action).includes(request.action)).map(
    (s) => s.Sid,
  );
  return {
    allowedBy: [],
    denial:
      listing.length === 0
        ? `no Allow statement of ${AWS_POLICY_FILE} lists ${request.action}`
        : `statement ${listing.join(", ")} lists ${request.action}, but its Resource or Condition does not match ` +
          `(condition keys ${JSON.stringify(request.context)})`,
  };
}

/** Every way the policy fails the recorded calls, one line per call and missing permission. */
function awsDenials(policy: Policy, calls: readonly RecordedAwsCall[]): string[] {
  const out: string[] = [];
  for (const c of calls) {
    if (c.unmodelled)
      out.push(
        `${c.call}: this test has no model of the resources it authorizes; add the operation to awsAuthRequests`,
      );
    for (const r of c.requests) {
      const { denial } = authorize(policy, r);
      if (denial !== undefined) out.push(`${c.call} needs ${r.action} on ${r.resource}: ${denial}`);
    }
  }
  return unique(out);
}

// moto's account and region: ARNs it hands out look like arn:aws:elasticloadbalancing:us-east-1:123456789012:...
const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const ELB = "elasticloadbalancing";
/** The id part of the ARN a create is about to give its resource: AWS authorizes that ARN before it exists. */
const PENDING = "pending";
const elbArn = (resource: string): string => `arn:aws:${ELB}:${REGION}:${ACCOUNT}:${resource}`;
const ec2Arn = (resource: string): string => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`;

type Tags = Readonly<Record<string, string>>;
type Input = Readonly<Record<string, unknown>>;

/**
 * The ARN AWS gives an NLB resource. moto 5.2 names every ELBv2 load balancer and listener `loadbalancer/app/...`
 * and `listener/app/...`, even for Type network (DescribeLoadBalancers says "network"); AWS writes `net/` for NLBs,
 * and the policy's resources say so. The provider only makes NLBs, so moto's `app/` is rewritten for authorization
 * (the tag lookup keeps moto's ARN).
 */
const nlbArn = (arn: string): string => arn.replace(/:(loadbalancer|listener)\/app\//, ":$1/net/");

function text(input: Input, key: string): string {
  const value = input[key];
  if (typeof value !== "string") throw new Error(`expected ${key} in the call's input, got ${JSON.stringify(value)}`);
  return value;
}

function texts(input: Input, key: string): string[] {
  const value = input[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
    throw new Error(`expected ${key} (strings) in the call's input`);
  return value;
}

function tagsFrom(value: unknown): Tags {
  const out: Record<string, string> = {};
  for (const t of (Array.isArray(value) ? value : []) as { Key?: string; Value?: string }[])
    if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

function resourceTagKeys(tags: Tags | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

function requestTagKeys(tags: Tags): Record<string, ContextValue> {
  const keys = Object.keys(tags);
  return {
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    ...(keys.length > 0 ? { "aws:TagKeys": keys } : {}),
  };
}

/** The tags of existing resources, read from moto with uncounted clients just before a call (undefined: gone). */
interface TagLookup {
  elbv2(arn: string): Promise<Tags | undefined>;
  classic(name: string): Promise<Tags | undefined>;
  securityGroup(groupId: string): Promise<Tags | undefined>;
}

function tagLookup(raw: AwsClients): TagLookup {
  return {
    elbv2: async (arn) => {
      const out = await raw.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] })).catch(() => undefined);
      const d = out?.TagDescriptions?.find((x) => x.ResourceArn === arn);
      return d === undefined ? undefined : tagsFrom(d.Tags);
    },
    classic: async (name) => {
      const out = await raw.elb
        .send(new DescribeClassicTagsCommand({ LoadBalancerNames: [name] }))
        .catch(() => undefined);
      const d = out?.TagDescriptions?.find((x) => x.LoadBalancerName === name);
      return d === undefined ? undefined : tagsFrom(d.Tags);
    },
    securityGroup: async (groupId) => {
      const out = await raw.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })).catch(() => undefined);
      const g = out?.SecurityGroups?.find((x) => x.GroupId === groupId);
      return g === undefined ? undefined : tagsFrom(g.Tags);
    },
  };
}

// Operations on one existing resource, named by this input field; authorized on that resource with its tags.
const ELBV2_ON_LOAD_BALANCER = [
  "DeleteLoadBalancer",
  "ModifyLoadBalancerAttributes",
  "SetSecurityGroups",
  "SetSubnets",
];
const ELBV2_ON_TARGET_GROUP = [
  "DeleteTargetGroup",
  "DeregisterTargets",
  "ModifyTargetGroup",
  "ModifyTargetGroupAttributes",
  "RegisterTargets",
];
const ELBV2_ON_LISTENER = ["DeleteListener", "ModifyListener"];
const CLASSIC_ON_LOAD_BALANCER = [
  "ApplySecurityGroupsToLoadBalancer",
  "AttachLoadBalancerToSubnets",
  "ConfigureHealthCheck",
  "CreateLoadBalancerListeners",
  "CreateLoadBalancerPolicy",
  "DeleteLoadBalancer",
  "DeleteLoadBalancerListeners",
  "DeregisterInstancesFromLoadBalancer",
  "DetachLoadBalancerFromSubnets",
  "ModifyLoadBalancerAttributes",
  "RegisterInstancesWithLoadBalancer",
  "SetLoadBalancerPoliciesForBackendServer",
];
const EC2_ON_SECURITY_GROUP = ["AuthorizeSecurityGroupIngress", "DeleteSecurityGroup", "RevokeSecurityGroupIngress"];

const iamAction = (api: CountedApi, operation: string): string => `${api === "ec2" ? "ec2" : ELB}:${operation}`;

/**
 * Tag-on-create: a create with tags is also authorized as AddTags (ELB) / CreateTags (EC2) on the new resource, with
 * the create action as condition key (elasticloadbalancing:CreateAction, ec2:CreateAction).
 */
function tagOnCreate(service: "ec2" | typeof ELB, resource: string, tags: Tags, createAction: string): AuthRequest[] {
  if (Object.keys(tags).length === 0) return [];
  const action = service === "ec2" ? "ec2:CreateTags" : `${ELB}:AddTags`;
  return [{ action, resource, context: { ...requestTagKeys(tags), [`${service}:CreateAction`]: createAction } }];
}

/**
 * The authorization requests of one call, as the Service Authorization Reference lists resources and condition keys
 * per action; undefined for an operation this table does not know (the test then fails, naming it).
 */
async function awsAuthRequests(
  api: CountedApi,
  operation: string,
  input: Input,
  lookup: TagLookup,
): Promise<AuthRequest[] | undefined> {
  const action = iamAction(api, operation);
  if (/^(Describe|List|Get)[A-Z]/.test(operation)) return [{ action, resource: "*", context: {} }];
  const on = async (
    resource: string,
    tags: Promise<Tags | undefined>,
    extra: RequestContext = {},
  ): Promise<AuthRequest> => ({
    action,
    resource: api === "elbv2" ? nlbArn(resource) : resource,
    context: { ...resourceTagKeys(await tags), ...extra },
  });

  if (api === "elbv2") {
    if (ELBV2_ON_LOAD_BALANCER.includes(operation))
      return [await on(text(input, "LoadBalancerArn"), lookup.elbv2(text(input, "LoadBalancerArn")))];
    if (ELBV2_ON_TARGET_GROUP.includes(operation))
      return [await on(text(input, "TargetGroupArn"), lookup.elbv2(text(input, "TargetGroupArn")))];
    if (ELBV2_ON_LISTENER.includes(operation))
      return [await on(text(input, "ListenerArn"), lookup.elbv2(text(input, "ListenerArn")))];
    const tags = tagsFrom(input.Tags);
    switch (operation) {
      case "CreateLoadBalancer": {
        const arn = elbArn(`loadbalancer/net/${text(input, "Name")}/${PENDING}`);
        return [{ action, resource: arn, context: requestTagKeys(tags) }, ...tagOnCreate(ELB, arn, tags, operation)];
      }
      case "CreateTargetGroup": {
        const arn = elbArn(`targetgroup/${text(input, "Name")}/${PENDING}`);
        return [{ action, resource: arn, context: requestTagKeys(tags) }, ...tagOnCreate(ELB, arn, tags, operation)];
      }
      case "CreateListener": {
        // Authorized on the load balancer; the new listener's tags on the listener it becomes.
        const lb = text(input, "LoadBalancerArn");
        const listener = nlbArn(`${lb.replace(":loadbalancer/", ":listener/")}/${PENDING}`);
        return [await on(lb, lookup.elbv2(lb), requestTagKeys(tags)), ...tagOnCreate(ELB, listener, tags, operation)];
      }
      case "AddTags":
        return Promise.all(texts(input, "ResourceArns").map((arn) => on(arn, lookup.elbv2(arn), requestTagKeys(tags))));
      case "RemoveTags":
        return Promise.all(
          texts(input, "ResourceArns").map((arn) =>
            on(arn, lookup.elbv2(arn), { "aws:TagKeys": texts(input, "TagKeys") }),
          ),
        );
      default:
        return undefined;
    }
  }

  if (api === "elb") {
    if (CLASSIC_ON_LOAD_BALANCER.includes(operation)) {
      const name = text(input, "LoadBalancerName");
      return [await on(elbArn(`loadbalancer/${name}`), lookup.classic(name))];
    }
    const tags = tagsFrom(input.Tags);
    switch (operation) {
      case "CreateLoadBalancer": {
        const arn = elbArn(`loadbalancer/${text(input, "LoadBalancerName")}`);
        return [{ action, resource: arn, context: requestTagKeys(tags) }, ...tagOnCreate(ELB, arn, tags, operation)];
      }
      case "AddTags":
        return Promise.all(
          texts(input, "LoadBalancerNames").map((n) =>
            on(elbArn(`loadbalancer/${n}`), lookup.classic(n), requestTagKeys(tags)),
          ),
        );
      default:
        return undefined;
    }
  }

  if (EC2_ON_SECURITY_GROUP.includes(operation)) {
    const groupId = text(input, "GroupId");
    return [await on(ec2Arn(`security-group/${groupId}`), lookup.securityGroup(groupId))];
  }
  switch (operation) {
    case "CreateSecurityGroup": {
      // Authorized on the new group (with the request's tags) and on the VPC it goes into (without them).
      const specs = (Array.isArray(input.TagSpecifications) ? input.TagSpecifications : []) as {
        ResourceType?: string;
        Tags?: unknown;
      }[];
      const tags = tagsFrom(specs.find((s) => s.ResourceType === "security-group")?.Tags);
      const group = ec2Arn(`security-group/${PENDING}`);
      return [
        { action, resource: group, context: requestTagKeys(tags) },
        { action, resource: ec2Arn(`vpc/${text(input, "VpcId")}`), context: {} },
        ...tagOnCreate("ec2", group, tags, operation),
      ];
    }
    case "CreateTags": {
      const ids = texts(input, "Resources");
      if (!ids.every((id) => id.startsWith("sg-"))) return undefined;
      return Promise.all(
        ids.map((id) =>
          on(ec2Arn(`security-group/${id}`), lookup.securityGroup(id), requestTagKeys(tagsFrom(input.Tags))),
        ),
      );
    }
    default:
      return undefined;
  }
}

interface AwsRecorder {
  readonly clients: AwsClients;
  readonly calls: RecordedAwsCall[];
}

/** Clients that record each call's authorization requests (resource tags read just before sending), then send it. */
function recordAwsCalls(clients: AwsClients, lookup: TagLookup): AwsRecorder {
  const calls: RecordedAwsCall[] = [];
  const wrap = <C extends object>(api: CountedApi, client: C): C =>
    new Proxy(client, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop !== "send" || typeof value !== "function") return value;
        return async (command: unknown, ...rest: unknown[]): Promise<unknown> => {
          const operation = operationName(command);
          const input = ((command as { input?: unknown }).input ?? {}) as Input;
          const requests = await awsAuthRequests(api, operation, input, lookup);
          calls.push({
            call: `${api}:${operation}`,
            requests: requests ?? [{ action: iamAction(api, operation), resource: "*", context: {} }],
            unmodelled: requests === undefined,
          });
          return Reflect.apply(value, target, [command, ...rest]) as unknown;
        };
      },
    });
  return {
    clients: { elbv2: wrap("elbv2", clients.elbv2), elb: wrap("elb", clients.elb), ec2: wrap("ec2", clients.ec2) },
    calls,
  };
}

/** Every SDK command the AWS provider's sources construct, as IAM actions, with the files that construct them. */
function awsSourceActions(): Map<string, string[]> {
  const apiOf: Readonly<Record<string, CountedApi>> = {
    ec2: "ec2",
    "elastic-load-balancing": "elb",
    "elastic-load-balancing-v2": "elbv2",
  };
  const found = new Map<string, string[]>();
  for (const { path, text: source } of sources("providers/aws")) {
    const commands = new Map<string, string>();
    for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/client-([a-z0-9-]+)"/g)) {
      const api = apiOf[m[2] ?? ""];
      if (api === undefined) continue;
      for (const item of (m[1] ?? "").split(",")) {
        const [imported = "", local] = item
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/);
        if (imported.endsWith("Command"))
          commands.set(local ?? imported, iamAction(api, imported.slice(0, -"Command".length)));
      }
    }
    for (const m of source.matchAll(/new\s+(\w+)\s*\(/g)) {
      const action = commands.get(m[1] ?? "");
      if (action !== undefined) found.set(action, unique([...(found.get(action) ?? []), path]));
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// GCE: the custom role, and the permissions each Compute call needs.
// ---------------------------------------------------------------------------------------------------------------

const RoleSchema = z.strictObject({
  title: z.string().min(1).max(100),
  description: z.string().min(1).max(256),
  stage: z.enum(["ALPHA", "BETA", "GA", "DEPRECATED", "DISABLED", "EAP"]),
  includedPermissions: z.array(z.string().regex(/^compute\.[a-zA-Z]+\.[a-zA-Z]+$/)).nonempty(),
});

/** Permissions the role grants that no recorded call needs, with the reason. None so far. */
const GCE_EXTRAS: Readonly<Record<string, string>> = {};

type Body = Readonly<Record<string, unknown>>;

interface ComputeMethod {
  /** The Compute API method, `<collection>.<verb>`, as fake-compute records it. */
  readonly method: string;
  /** HTTP method and path after /compute/v1/projects/{project}/. */
  readonly rest: string;
  /** What Compute checks: the method's own permission, plus `use` permissions on the resources the body references. */
  readonly permissions: (body: Body) => readonly string[];
}

const given = (body: Body, field: string): boolean => {
  const v = body[field];
  return v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);
};
const always =
  (...permissions: string[]) =>
  (): readonly string[] =>
    permissions;

/** A backend service references its health checks (useReadOnly) and its backends' instance groups (use). */
function backendServiceUses(body: Body): string[] {
  const checks = (Array.isArray(body.healthChecks) ? body.healthChecks : []) as string[];
  const groups = ((Array.isArray(body.backends) ? body.backends : []) as { group?: string }[]).map(
    (b) => b.group ?? "",
  );
  return [
    ...(checks.some((c) => !c.includes("/regions/")) ? ["compute.healthChecks.useReadOnly"] : []),
    ...(checks.some((c) => c.includes("/regions/")) ? ["compute.regionHealthChecks.useReadOnly"] : []),
    ...(groups.some((g) => g.includes("/instanceGroups/")) ? ["compute.instanceGroups.use"] : []),
    ...(groups.some((g) => g.includes("/networkEndpointGroups/")) ? ["compute.networkEndpointGroups.use"] : []),
  ];
}

/** An internal forwarding rule uses its backend service, network and subnetwork (and a reserved address, if named). */
function forwardingRuleInsert(body: Body): string[] {
  const ip = typeof body.IPAddress === "string" ? body.IPAddress : "";
  return [
    "compute.forwardingRules.create",
    ...(given(body, "backendService") ? ["compute.regionBackendServices.use"] : []),
    ...(given(body, "network") ? ["compute.networks.use"] : []),
    ...(given(body, "subnetwork") ? ["compute.subnetworks.use"] : []),
    ...(ip !== "" && !/^[0-9.:a-fA-F]+$/.test(ip) ? ["compute.addresses.useInternal"] : []),
  ];
}

/**
 * Compute method -> IAM permissions. The method's own permission is the one its REST reference names ("Authorization
 * requires the following IAM permission on the specified resource"; listInstances: compute.instanceGroups.list, as
 * `gcloud compute instance-groups list-instances` states); the VPC audit-logging reference lists
 * compute.networks.updatePolicy with every firewall write and compute.firewalls.get with patch. Referenced resources
 * need their `use` permission (Compute's IAM reference): instances added to or removed from a group, a backend
 * service's health checks and groups, a forwarding rule's backend service, network and subnetwork. Operations: `get`
 * and `wait` both need `<scope>Operations.get`. forwardingRules.delete of a rule that is not a Private Service Connect
 * endpoint needs compute.forwardingRules.delete only (pscDelete is the PSC-only alternative).
 */
const COMPUTE_METHODS: readonly ComputeMethod[] = [
  {
    method: "subnetworks.get",
    rest: "GET regions/{region}/subnetworks/{name}",
    permissions: always("compute.subnetworks.get"),
  },
  {
    method: "healthChecks.get",
    rest: "GET global/healthChecks/{name}",
    permissions: always("compute.healthChecks.get"),
  },
  {
    method: "healthChecks.insert",
    rest: "POST global/healthChecks",
    permissions: always("compute.healthChecks.create"),
  },
  {
    method: "healthChecks.update",
    rest: "PUT global/healthChecks/{name}",
    permissions: always("compute.healthChecks.update"),
  },
  {
    method: "healthChecks.delete",
    rest: "DELETE global/healthChecks/{name}",
    permissions: always("compute.healthChecks.delete"),
  },
  { method: "firewalls.get", rest: "GET global/firewalls/{name}", permissions: always("compute.firewalls.get") },
  {
    method: "firewalls.insert",
    rest: "POST global/firewalls",
    permissions: always("compute.firewalls.create", "compute.networks.updatePolicy"),
  },
  {
    method: "firewalls.patch",
    rest: "PATCH global/firewalls/{name}",
    permissions: always("compute.firewalls.get", "compute.firewalls.update", "compute.networks.updatePolicy"),
  },
  {
    method: "firewalls.delete",
    rest: "DELETE global/firewalls/{name}",
    permissions: always("compute.firewalls.delete", "compute.networks.updatePolicy"),
  },
  {
    method: "regionBackendServices.get",
    rest: "GET regions/{region}/backendServices/{name}",
    permissions: always("compute.regionBackendServices.get"),
  },
  {
    method: "regionBackendServices.insert",
    rest: "POST regions/{region}/backendServices",
    permissions: (b) => ["compute.regionBackendServices.create", ...backendServiceUses(b)],
  },
  {
    method: "regionBackendServices.update",
    rest: "PUT regions/{region}/backendServices/{name}",
    permissions: (b) => ["compute.regionBackendServices.update", ...backendServiceUses(b)],
  },
  {
    method: "regionBackendServices.delete",
    rest: "DELETE regions/{region}/backendServices/{name}",
    permissions: always("compute.regionBackendServices.delete"),
  },
  {
    method: "forwardingRules.get",
    rest: "GET regions/{region}/forwardingRules/{name}",
    permissions: always("compute.forwardingRules.get"),
  },
  {
    method: "forwardingRules.insert",
    rest: "POST regions/{region}/forwardingRules",
    permissions: forwardingRuleInsert,
  },
  {
    method: "forwardingRules.delete",
    rest: "DELETE regions/{region}/forwardingRules/{name}",
    permissions: always("compute.forwardingRules.delete"),
  },
  {
    method: "instanceGroups.get",
    rest: "GET zones/{zone}/instanceGroups/{name}",
    permissions: always("compute.instanceGroups.get"),
  },
  {
    method: "instanceGroups.insert",
    rest: "POST zones/{zone}/instanceGroups",
    permissions: (b) => [
      "compute.instanceGroups.create",
      ...(given(b, "network") ? ["compute.networks.use"] : []),
      ...(given(b, "subnetwork") ? ["compute.subnetworks.use"] : []),
    ],
  },
  {
    method: "instanceGroups.delete",
    rest: "DELETE zones/{zone}/instanceGroups/{name}",
    permissions: always("compute.instanceGroups.delete"),
  },
  {
    method: "instanceGroups.listInstances",
    rest: "POST zones/{zone}/instanceGroups/{name}/listInstances",
    permissions: always("compute.instanceGroups.list"),
  },
  {
    method: "instanceGroups.addInstances",
    rest: "POST zones/{zone}/instanceGroups/{name}/addInstances",
    permissions: always("compute.instanceGroups.update", "compute.instances.use"),
  },
  {
    method: "instanceGroups.removeInstances",
    rest: "POST zones/{zone}/instanceGroups/{name}/removeInstances",
    permissions: always("compute.instanceGroups.update", "compute.instances.use"),
  },
  {
    method: "regionOperations.get",
    rest: "GET regions/{region}/operations/{name}",
    permissions: always("compute.regionOperations.get"),
  },
  {
    method: "regionOperations.wait",
    rest: "POST regions/{region}/operations/{name}/wait",
    permissions: always("compute.regionOperations.get"),
  },
  {
    method: "zoneOperations.get",
    rest: "GET zones/{zone}/operations/{name}",
    permissions: always("compute.zoneOperations.get"),
  },
  {
    method: "zoneOperations.wait",
    rest: "POST zones/{zone}/operations/{name}/wait",
    permissions: always("compute.zoneOperations.get"),
  },
  {
    method: "globalOperations.get",
    rest: "GET global/operations/{name}",
    permissions: always("compute.globalOperations.get"),
  },
  {
    method: "globalOperations.wait",
    rest: "POST global/operations/{name}/wait",
    permissions: always("compute.globalOperations.get"),
  },
];

const PROJECT_PATH = /^\/compute\/v1\/projects\/[^/]+\//;

function restPattern(rest: string): { http: string; path: RegExp } {
  const [http = "", template = ""] = rest.split(" ");
  return { http, path: new RegExp(`^${template.replace(/\{[a-z]+\}/g, "[^/]+")}$`) };
}

/** The table entry of a recorded call, by HTTP method and path (not by the fake's method id, which is checked against it). */
function computeMethodOf(call: RecordedCall): ComputeMethod | undefined {
  const path = call.path.replace(PROJECT_PATH, "");
  return COMPUTE_METHODS.find((m) => {
    const p = restPattern(m.rest);
    return p.http === call.httpMethod && p.path.test(path);
  });
}

/** The permissions each recorded call needs that the role lacks, one line per call and permission. */
function computeDenials(role: ReadonlySet<string>, calls: readonly RecordedCall[]): string[] {
  const out: string[] = [];
  for (const call of calls) {
    const entry = computeMethodOf(call);
    if (entry === undefined) {
      out.push(`${call.method} (${call.httpMethod} ${call.path}): no permission mapping in COMPUTE_METHODS`);
      continue;
    }
    const where = `${call.method} (${entry.rest})`;
    if (entry.method !== call.method) out.push(`${where}: COMPUTE_METHODS maps this path to ${entry.method}`);
    const body = (typeof call.body === "object" && call.body !== null ? call.body : {}) as Body;
    for (const p of entry.permissions(body))
      if (!role.has(p)) out.push(`${where} needs ${p}, which ${GCE_ROLE_FILE} does not include`);
  }
  return unique(out);
}

/** Compute client methods the GCE provider's sources call, as `<collection>.<verb>`, with their files. */
const CLIENT_COLLECTIONS: Readonly<Record<string, string>> = {
  instanceGroups: "instanceGroups",
  healthChecks: "healthChecks",
  backendServices: "regionBackendServices",
  forwardingRules: "forwardingRules",
  firewalls: "firewalls",
  addresses: "addresses",
  subnetworks: "subnetworks",
  regionOperations: "regionOperations",
  zoneOperations: "zoneOperations",
  globalOperations: "globalOperations",
};
/** Client methods that are no Compute call. */
const NOT_COMPUTE_CALLS: Readonly<Record<string, string>> = {
  "forwardingRules.getProjectId": "asks the credentials (ADC) for their project; no Compute API call",
};

function gceSourceMethods(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  // The clients are reached as this.c.<client> (gce-api.ts) and clients.<client> (gce-operations.ts, the factory).
  const pattern = new RegExp(`(?:this\\.c|clients)\\.(${Object.keys(CLIENT_COLLECTIONS).join("|")})\\.(\\w+)\\(`, "g");
  for (const { path, text: source } of sources("providers/gce")) {
    for (const m of source.matchAll(pattern)) {
      const method = `${CLIENT_COLLECTIONS[m[1] ?? ""] ?? "?"}.${m[2] ?? "?"}`;
      if (NOT_COMPUTE_CALLS[method] === undefined) found.set(method, unique([...(found.get(method) ?? []), path]));
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// AWS
// ---------------------------------------------------------------------------------------------------------------

describe(`AWS: ${AWS_POLICY_FILE}`, () => {
  const policy: Policy = PolicySchema.parse(JSON.parse(readFileSync(join(REPO, AWS_POLICY_FILE), "utf8")));

  it("is well-formed: Allow statements with unique Sids, no wildcard actions", () => {
    const sids = policy.Statement.map((s) => s.Sid);
    expect(
      sids.filter((sid, i) => sids.indexOf(sid) !== i),
      "duplicate Sids",
    ).toEqual([]);
    expect(policy.Statement.filter((s) => s.Effect !== "Allow").map((s) => s.Sid)).toEqual([]);
    const actions = policy.Statement.flatMap((s) => list(s.Action));
    expect(
      actions.filter((a) => !/^(ec2|elasticloadbalancing|iam):[A-Z][A-Za-z]+$/.test(a)),
      "actions that are not one exact action",
    ).toEqual([]);
  });

  describe("against the calls the provider makes (moto)", () => {
    const CLUSTER = `perm${process.pid}`;
    const A = "service.beta.kubernetes.io/aws-load-balancer-";
    const SCENARIOS = 3;
    const seen: RecordedAwsCall[] = [];
    let scenariosDone = 0;

    let raw: AwsClients;
    let world: AwsWorld;
    let recorder: AwsRecorder;
    let provider: AwsProvider;

    const fresh = freshAwsWorldPerTest({ clusterId: CLUSTER, nodes: 2 }, (clients, rawClients) =>
      recordAwsCalls(clients, tagLookup(rawClients)),
    );
    beforeEach(() => void ({ raw, world, recorder, provider } = fresh));

    const specOf = (
      svc: V1Service,
      slices: V1EndpointSlice[] = [],
      nodes: V1Node[] = world.nodes(),
    ): LoadBalancerSpec => deriveSpec(svc, slices, nodes, { clusterId: CLUSTER });
    const ports = (httpsNodePort = 30443) =>
      tweakPorts(
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
        { name: "https", protocol: "TCP", port: 443, targetPort: 8443, nodePort: httpsNodePort },
      );
    const annotations = (values: Readonly<Record<string, string>>): ServiceTweak[] =>
      Object.entries(values).map(([k, v]) => tweakAnnotation(`${A}${k}`, v));

    /** The mutating calls `work` made, as "<client>:<operation>". */
    async function mutatingCalls(work: () => Promise<unknown>): Promise<string[]> {
      const before = recorder.calls.length;
      await work();
      return recorder.calls
        .slice(before)
        .map((c) => c.call)
        .filter((c) => isMutating(c.slice(c.indexOf(":") + 1)));
    }

    /** Runs one step and checks it made (at least) the writes it is there for, so the scenario really reaches them. */
    async function step(label: string, work: () => Promise<unknown>, expected: readonly string[]): Promise<void> {
      const calls = await mutatingCalls(work);
      if (expected.length === 0) expect(calls, `${label}: no write expected`).toEqual([]);
      else expect(calls, label).toEqual(expect.arrayContaining([...expected]));
    }

    /** The scenario's calls are all allowed by the policy; they count for the least-privilege check at the end. */
    function expectAllowed(): void {
      seen.push(...recorder.calls);
      scenariosDone++;
      expect(awsDenials(policy, recorder.calls), `calls ${AWS_POLICY_FILE} does not allow`).toEqual([]);
    }

    async function userSecurityGroup(name: string): Promise<string> {
      const out = await raw.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: "a group the user manages",
          VpcId: world.vpcId,
        }),
      );
      return out.GroupId!;
    }

    const excluding = (nodeName: string): V1Node[] =>
      world.nodes().map((n) =>
        n.metadata!.name !== nodeName
          ? n
          : {
              ...n,
              metadata: {
                ...n.metadata,
                labels: { ...n.metadata!.labels, [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: "true" },
              },
            },
      );

    it("NLB with instance targets: create, every update the provider writes, node churn, scheme change, delete", async () => {
      const nlb = (extra: Readonly<Record<string, string>>, ...tweaks: ServiceTweak[]): V1Service =>
        newService(
          "web",
          ...annotations({ type: "nlb", "target-group-attributes": "preserve_client_ip.enabled=true", ...extra }),
          ...tweaks,
        );
      const firstSubnet = { subnets: world.publicSubnets[0]!.id };

      await step("create", () => provider.ensure(specOf(nlb(firstSubnet, ports())), signal), [
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "elbv2:CreateLoadBalancer",
        "elbv2:CreateTargetGroup",
        "elbv2:ModifyTargetGroupAttributes",
        "elbv2:RegisterTargets",
        "elbv2:CreateListener",
      ]);
      await step("unchanged", () => provider.ensure(specOf(nlb(firstSubnet, ports())), signal), []);
      await step(
        "subnets annotation dropped: discovered subnets",
        () => provider.ensure(specOf(nlb({}, ports())), signal),
        ["elbv2:SetSubnets"],
      );
      await step(
        "additional-resource-tags",
        () => provider.ensure(specOf(nlb({ "additional-resource-tags": "team=payments" }, ports())), signal),
        ["elbv2:AddTags", "ec2:CreateTags"],
      );
      await step("tags dropped", () => provider.ensure(specOf(nlb({}, ports())), signal), ["elbv2:RemoveTags"]);
      const ranged = tweakSourceRanges("203.0.113.0/24");
      await step("source ranges", () => provider.ensure(specOf(nlb({}, ports(), ranged)), signal), [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
      ]);
      const tuned = { "cross-zone-load-balancing-enabled": "true", "healthcheck-healthy-threshold": "5" };
      await step(
        "cross-zone and health-check threshold",
        () => provider.ensure(specOf(nlb(tuned, ports(), ranged)), signal),
        ["elbv2:ModifyLoadBalancerAttributes", "elbv2:ModifyTargetGroup"],
      );
      await step(
        "NodePort change: new target group, listener moved",
        () => provider.ensure(specOf(nlb(tuned, ports(31443), ranged)), signal),
        ["elbv2:CreateTargetGroup", "elbv2:ModifyListener", "elbv2:DeleteTargetGroup"],
      );
      const onePort = tweakPorts({ name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 });
      await step("port removed", () => provider.ensure(specOf(nlb(tuned, onePort, ranged)), signal), [
        "elbv2:DeleteListener",
        "elbv2:DeleteTargetGroup",
      ]);
      await world.addNodes(1);
      await step("node joins", () => provider.ensure(specOf(nlb(tuned, onePort, ranged)), signal), [
        "elbv2:RegisterTargets",
      ]);
      await step(
        "node leaves",
        () =>
          provider.ensure(specOf(nlb(tuned, onePort, ranged), [], excluding(world.instances()[0]!.nodeName)), signal),
        ["elbv2:DeregisterTargets"],
      );
      const own = { ...tuned, "security-groups": await userSecurityGroup("user-nlb") };
      await step("security-groups annotation", () => provider.ensure(specOf(nlb(own, onePort, ranged)), signal), [
        "elbv2:SetSecurityGroups",
      ]);
      await step(
        "scheme change: replaced",
        () => provider.ensure(specOf(nlb({ ...own, scheme: "internal" }, onePort, ranged)), signal),
        ["elbv2:DeleteLoadBalancer", "elbv2:CreateLoadBalancer"],
      );
      await step("delete", () => provider.delete(specOf(nlb({}, onePort)).id, signal), [
        "elbv2:DeleteLoadBalancer",
        "elbv2:DeleteTargetGroup",
        "ec2:DeleteSecurityGroup",
      ]);
      expectAllowed();
    });

    it("NLB with ip targets: create, endpoints moving, delete", async () => {
      const svc = newService("pods", ...annotations({ type: "nlb" }), tweakPodMode());
      const slice = (...ips: string[]): V1EndpointSlice =>
        newEndpointSlice(
          "pods",
          "pods-1",
          [{ name: "http", port: 8080 }],
          ips.map((ip) => ({ ip })),
        );
      await step("create", () => provider.ensure(specOf(svc, [slice("10.0.100.10", "10.0.101.11")]), signal), [
        "elbv2:CreateLoadBalancer",
        "elbv2:CreateTargetGroup",
        "elbv2:RegisterTargets",
        "elbv2:CreateListener",
      ]);
      await step("endpoints move", () => provider.ensure(specOf(svc, [slice("10.0.100.20", "10.0.101.11")]), signal), [
        "elbv2:RegisterTargets",
        "elbv2:DeregisterTargets",
      ]);
      await step("delete", () => provider.delete(specOf(svc).id, signal), [
        "elbv2:DeleteLoadBalancer",
        "elbv2:DeleteTargetGroup",
        "ec2:DeleteSecurityGroup",
      ]);
      expectAllowed();
    });

    it("classic ELB: create, subnets, security groups, tags, ports, node churn, delete", async () => {
      const clb = (extra: Readonly<Record<string, string>>, ...tweaks: ServiceTweak[]): V1Service =>
        newService(
          "classic",
          ...annotations({ "proxy-protocol": "*", "connection-idle-timeout": "120", ...extra }),
          ...tweaks,
        );
      await step("create", () => provider.ensure(specOf(clb({}, ports())), signal), [
        "ec2:CreateSecurityGroup",
        "elb:CreateLoadBalancer",
        "elb:ConfigureHealthCheck",
        "elb:ModifyLoadBalancerAttributes",
        "elb:CreateLoadBalancerPolicy",
        "elb:SetLoadBalancerPoliciesForBackendServer",
        "elb:RegisterInstancesWithLoadBalancer",
      ]);
      await step("unchanged", () => provider.ensure(specOf(clb({}, ports())), signal), []);
      await step(
        "one subnet named",
        () => provider.ensure(specOf(clb({ subnets: world.publicSubnets[0]!.id }, ports())), signal),
        ["elb:DetachLoadBalancerFromSubnets"],
      );
      await step("subnets discovered again", () => provider.ensure(specOf(clb({}, ports())), signal), [
        "elb:AttachLoadBalancerToSubnets",
      ]);
      const extra = { "extra-security-groups": await userSecurityGroup("user-clb") };
      await step("extra-security-groups", () => provider.ensure(specOf(clb(extra, ports())), signal), [
        "elb:ApplySecurityGroupsToLoadBalancer",
      ]);
      const tagged = { ...extra, "additional-resource-tags": "team=payments" };
      await step("additional-resource-tags", () => provider.ensure(specOf(clb(tagged, ports())), signal), [
        "elb:AddTags",
        "ec2:CreateTags",
      ]);
      await step(
        "NodePort change: listener replaced",
        () => provider.ensure(specOf(clb(tagged, ports(31443))), signal),
        ["elb:DeleteLoadBalancerListeners", "elb:CreateLoadBalancerListeners"],
      );
      await world.addNodes(1);
      await step("node joins", () => provider.ensure(specOf(clb(tagged, ports(31443))), signal), [
        "elb:RegisterInstancesWithLoadBalancer",
      ]);
      await world.removeNode(world.instances()[0]!.nodeName);
      await step("node leaves", () => provider.ensure(specOf(clb(tagged, ports(31443))), signal), [
        "elb:DeregisterInstancesFromLoadBalancer",
      ]);
      await step("delete", () => provider.delete(specOf(clb({}, ports())).id, signal), [
        "elb:DeleteLoadBalancer",
        "ec2:DeleteSecurityGroup",
      ]);
      expectAllowed();
    });

    it("grants nothing the provider does not need: every action and statement is used, or listed in AWS_EXTRAS with a reason", () => {
      expect(scenariosDone, "every scenario ran to its end (run the whole file): this check needs their calls").toBe(
        SCENARIOS,
      );
      const requests = seen.flatMap((c) => c.requests);
      const called = new Set(requests.map((r) => r.action));
      const granted = unique(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action)));
      const unused = granted.filter((a) => !called.has(a));
      expect(
        Object.fromEntries(
          unused.map((a) => [a, AWS_EXTRAS[a] ?? "no recorded call needs it: remove it, or say why in AWS_EXTRAS"]),
        ),
        `actions in ${AWS_POLICY_FILE} no call needs`,
      ).toEqual(AWS_EXTRAS);

      const usedSids = new Set(requests.flatMap((r) => authorize(policy, r).allowedBy));
      const idle = policy.Statement.filter(
        (s) => !usedSids.has(s.Sid) && !list(s.Action).every((a) => a in AWS_EXTRAS),
      ).map((s) => s.Sid);
      expect(idle, "statements that granted no recorded call").toEqual([]);

      const inSource = awsSourceActions();
      const notGranted = [...inSource]
        .filter(([a]) => !granted.includes(a))
        .map(([a, files]) => `${a} (${files.join(", ")})`);
      expect(notGranted, `SDK commands in providers/aws that ${AWS_POLICY_FILE} does not grant`).toEqual([]);
      const notReached = [...inSource]
        .filter(([a]) => !called.has(a))
        .map(([a, files]) => `${a} (${files.join(", ")})`);
      expect(notReached, "SDK commands in providers/aws that no scenario here reaches: add a step").toEqual([]);
      console.log(
        `[cloud-permissions] AWS: ${seen.length} calls, ${requests.length} authorizations, ${called.size} actions: ${unique(called).join(" ")}`,
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// GCE
// ---------------------------------------------------------------------------------------------------------------

describe(`GCE: ${GCE_ROLE_FILE}`, () => {
  const role = RoleSchema.parse(parseYaml(readFileSync(join(REPO, GCE_ROLE_FILE), "utf8")));
  const permissions = new Set(role.includedPermissions);
  const CLUSTER = `perm${process.pid}`;
  const seen: RecordedCall[] = [];
  let scenarioDone = false;

  let fake: FakeCompute;
  let provider: GceProvider;

  // Operations take two polls, so every scope's wait is called.
  const freshFake = freshFakeComputePerTest({ operationPolls: 2 });
  beforeEach(() => {
    fake = freshFake();
    provider = gceTestProvider(fake);
  });

  const spec = (options: NewSpecOptions = {}): LoadBalancerSpec => gceTestSpec(CLUSTER, options);
  const local = (port: number, options: NewSpecOptions = {}): LoadBalancerSpec =>
    spec({ healthCheckNodePort: port, ...options });

  async function step(label: string, work: () => Promise<unknown>, expected: readonly string[]): Promise<void> {
    fake.clearCalls();
    await work();
    seen.push(...fake.calls());
    const writes = fake.calls({ mutating: true }).map((c) => c.method);
    if (expected.length === 0) expect(writes, `${label}: no write expected`).toEqual([]);
    else expect(writes, label).toEqual(expect.arrayContaining([...expected]));
  }

  it("is a role gcloud iam roles create --file takes: title, description, stage, sorted unique compute permissions", () => {
    expect(role.includedPermissions).toEqual(unique(role.includedPermissions));
  });

  it("create, ports past five, traffic policy both ways, health-check port, node churn across zones, protocol, delete", async () => {
    const sixPorts = [80, 81, 82, 443, 8080, 8443].map((port) => ({ port }));
    await step("create", () => provider.ensure(spec(), signal), [
      "instanceGroups.insert",
      "instanceGroups.addInstances",
      "healthChecks.insert",
      "firewalls.insert",
      "regionBackendServices.insert",
      "forwardingRules.insert",
    ]);
    await step("unchanged", () => provider.ensure(spec(), signal), []);
    await step("six ports: allPorts rule", () => provider.ensure(spec({ ports: sixPorts }), signal), [
      "forwardingRules.delete",
      "forwardingRules.insert",
      "firewalls.patch",
    ]);
    await step("Local", () => provider.ensure(local(32000), signal), [
      "healthChecks.insert",
      "firewalls.insert",
      "regionBackendServices.update",
      "healthChecks.delete",
      "firewalls.delete",
    ]);
    await step("health-check port", () => provider.ensure(local(32001), signal), [
      "healthChecks.update",
      "firewalls.patch",
    ]);
    const churned = { nodes: gceNodes("node-a2", "node-c1") };
    await step("nodes join and leave across zones", () => provider.ensure(local(32001, churned), signal), [
      "instanceGroups.insert",
      "instanceGroups.addInstances",
      "instanceGroups.removeInstances",
      "regionBackendServices.update",
      "instanceGroups.delete",
    ]);
    await step(
      "UDP with a requested IP",
      () =>
        provider.ensure(
          local(32001, { ...churned, ports: [{ port: 53, protocol: "UDP" as const }], loadBalancerIP: "10.128.0.77" }),
          signal,
        ),
      ["forwardingRules.delete", "regionBackendServices.update", "forwardingRules.insert"],
    );
    await step("delete", () => provider.delete(spec().id, signal), [
      "forwardingRules.delete",
      "regionBackendServices.delete",
      "firewalls.delete",
      "healthChecks.delete",
      "instanceGroups.delete",
    ]);
    const waits = unique(seen.filter((c) => c.method.endsWith("Operations.wait")).map((c) => c.method));
    expect(waits, "operations of every scope were awaited").toEqual([
      "globalOperations.wait",
      "regionOperations.wait",
      "zoneOperations.wait",
    ]);
    scenarioDone = true;
    expect(computeDenials(permissions, seen), `calls ${GCE_ROLE_FILE} does not allow`).toEqual([]);
  });

  it("grants nothing the provider does not need: every permission is needed by a recorded call, or listed in GCE_EXTRAS", () => {
    expect(scenarioDone, "the scenario ran to its end (run the whole file): this check needs its calls").toBe(true);
    const needed = new Set(seen.flatMap((c) => computeMethodOf(c)?.permissions((c.body ?? {}) as Body) ?? []));
    const unused = role.includedPermissions.filter((p) => !needed.has(p));
    expect(
      Object.fromEntries(
        unused.map((p) => [p, GCE_EXTRAS[p] ?? "no recorded call needs it: remove it, or say why in GCE_EXTRAS"]),
      ),
      `permissions in ${GCE_ROLE_FILE} no call needs`,
    ).toEqual(GCE_EXTRAS);

    const inSource = gceSourceMethods();
    const called = new Set(seen.map((c) => c.method));
    const unmapped = [...inSource]
      .filter(([m]) => !COMPUTE_METHODS.some((e) => e.method === m))
      .map(([m, files]) => `${m} (${files.join(", ")})`);
    expect(unmapped, "Compute methods in providers/gce without a COMPUTE_METHODS entry").toEqual([]);
    const notReached = [...inSource].filter(([m]) => !called.has(m)).map(([m, files]) => `${m} (${files.join(", ")})`);
    expect(notReached, "Compute methods in providers/gce that the scenario never reached: add a step").toEqual([]);
    console.log(
      `[cloud-permissions] GCE: ${seen.length} calls, ${called.size} methods, ${needed.size} permissions: ${unique(needed).join(" ")}`,
    );
  });
});
