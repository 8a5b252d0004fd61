/**
 * The baseline of bench/gce-calls.ts: the Compute calls the anchor, cloud-provider-gcp's legacy internal LB
 * (`ensureInternalLoadBalancer`, ../shared/reference/gce.md sections 1 and 3), makes per reconcile of one Service.
 * The anchor is Go and needs a cluster, so it is not run: this is a model, replayed over the same sequence of
 * reconciles the bench runs (a small state machine: which instance groups exist and hold whom, whether the shared
 * health check exists, which Services have a load balancer), so "first Service creates the shared groups" and "only
 * the first Service after a node change writes the groups" come out as they would. Calls are named like the fake's
 * call record (`<collection>.<verb>`), so the bench can put both side by side per method.
 *
 * Sources, besides the reference: kubernetes/cloud-provider-gcp providers/gce/gce_loadbalancer.go (EnsureLoadBalancer,
 * UpdateLoadBalancer), gce_loadbalancer_internal.go, gce_address_manager.go; k8s.io/cloud-provider
 * controllers/service/controller.go syncLoadBalancerIfNeeded; GoogleCloudPlatform/k8s-cloud-provider
 * pkg/cloud/service.go pollOperation.
 *
 * EnsureLoadBalancer (create and no-op; Z = zones with nodes):
 * - forwardingRules.get: the existing rule (EnsureLoadBalancer, before the scheme check).
 * - Per zone, ensureInternalInstanceGroup: instanceGroups.get; if missing insert + get again, else listInstances
 *   (ALL); then removeInstances / addInstances of the difference only.
 * - regionBackendServices.get of the existing rule's backend service (for clearPreviousInternalResources), only
 *   when the rule exists.
 * - ensureInternalHealthCheck: healthChecks.get; when missing, get again under the lock, insert, get.
 *   Cluster: the shared `k8s-{clusterID}-node`; Local: the Service's own.
 * - The IP hold (section 1 step 3, gce_address_manager.go HoldAddress): addresses.get by name (404: it was
 *   released at the end of the last sync), addresses.insert (with the rule's IP, or without one on create, then
 *   addresses.get to learn the IP) and, deferred to the end of every sync, addresses.delete. On every no-op.
 * - ensureInternalBackendService: regionBackendServices.get; insert when missing, update when backends or fields
 *   differ.
 * - forwardingRules.insert when missing; forwardingRules.get ("Get the most recent forwarding rule").
 * - ensureInternalFirewalls: the traffic rule k8s-fw-{lbName} (firewalls.get, plus firewalls.get of the legacy name
 *   lbName) and the health-check rule (firewalls.get); insert when missing, patch when different.
 * - GetNodeTags: 0 calls, on equal footing with our --gce-node-tags: the anchor returns the cloud-config node-tags
 *   (GKE sets them), otherwise a per-node-set cache.
 * UpdateLoadBalancer (what the service controller calls on a node change, not EnsureLoadBalancer): the instance
 *   groups as above, then regionBackendServices.get and an update only if the zones changed.
 * Delete (syncLoadBalancerIfNeeded: GetLoadBalancer = forwardingRules.get, then ensureInternalLoadBalancerDeleted):
 *   addresses.delete (404: already released), forwardingRules.delete, regionBackendServices.delete, firewalls.delete
 *   of k8s-fw-{lbName} and of the legacy name (404), healthChecks.delete (Cluster: 400 in use while another Cluster
 *   Service's backend service uses it, and then its firewall is kept), the health-check firewall when the check
 *   went, zones.list, instanceGroups.delete in every zone of the region (400 in use while any backend service
 *   remains, 404 where there is none). Failed deletes are calls but start no operation.
 * Operations: every accepted mutation is waited for with {Region,Zone,Global}Operations.get until DONE, and
 *   pollOperation gets at least once even when the operation is already DONE: max(1, P) gets per operation when
 *   the fake's operations need P polls.
 */

export interface AnchorCall {
  /** `<collection>.<verb>`, as the fake records calls. */
  readonly method: string;
  readonly mutating: boolean;
}

export interface AnchorNode {
  readonly name: string;
  readonly zone: string;
}

export interface AnchorService {
  readonly key: string;
  readonly local: boolean;
  readonly nodes: readonly AnchorNode[];
}

const POLLER: Readonly<Record<string, string>> = {
  instanceGroups: "zoneOperations.get",
  addresses: "regionOperations.get",
  forwardingRules: "regionOperations.get",
  regionBackendServices: "regionOperations.get",
  healthChecks: "globalOperations.get",
  firewalls: "globalOperations.get",
};

interface LbState {
  local: boolean;
  zones: Set<string>;
}

/** One anchor controller's view of the project, for one cluster. */
export class AnchorModel {
  /** zone -> member instance names of `k8s-ig--{clusterID}`. */
  private readonly groups = new Map<string, Set<string>>();
  private readonly lbs = new Map<string, LbState>();
  private sharedHealthCheck = false;
  private sharedHealthCheckFirewall = false;
  private calls: AnchorCall[] = [];

  /** `regionZones`: every zone of the region (the delete path tries all of them). `polls`: gets per operation. */
  constructor(
    private readonly regionZones: readonly string[],
    private readonly polls: number,
  ) {}

  /** A VM deleted: Compute drops it from its instance groups (the anchor sees it gone in listInstances). */
  removeVm(zone: string, name: string): void {
    this.groups.get(zone)?.delete(name);
  }

  /** EnsureLoadBalancer with nothing to change other than what `svc` implies. */
  ensure(svc: AnchorService): AnchorCall[] {
    this.calls = [];
    const lb = this.lbs.get(svc.key);
    const exists = lb !== undefined;
    this.read("forwardingRules.get");
    const zones = this.ensureGroups(svc.nodes);
    if (exists) this.read("regionBackendServices.get");
    this.ensureHealthCheck(svc.local, exists);
    this.read("addresses.get");
    this.write("addresses.insert");
    if (!exists) this.read("addresses.get");
    this.read("regionBackendServices.get");
    if (!exists) this.write("regionBackendServices.insert");
    else if (!sameSet(lb.zones, zones)) this.write("regionBackendServices.update");
    if (!exists) this.write("forwardingRules.insert");
    this.read("forwardingRules.get");
    this.read("firewalls.get");
    this.read("firewalls.get");
    if (!exists) this.write("firewalls.insert");
    this.read("firewalls.get");
    const hcFirewallMissing = svc.local ? !exists : !this.sharedHealthCheckFirewall;
    if (hcFirewallMissing) this.write("firewalls.insert");
    if (!svc.local) this.sharedHealthCheckFirewall = true;
    this.write("addresses.delete");
    this.lbs.set(svc.key, { local: svc.local, zones });
    return this.calls;
  }

  /** UpdateLoadBalancer: the service controller's call when the node set changed. */
  update(svc: AnchorService): AnchorCall[] {
    this.calls = [];
    const zones = this.ensureGroups(svc.nodes);
    this.read("regionBackendServices.get");
    const lb = this.lbs.get(svc.key);
    if (lb !== undefined && !sameSet(lb.zones, zones)) {
      this.write("regionBackendServices.update");
      lb.zones = zones;
    }
    return this.calls;
  }

  /** GetLoadBalancer, then ensureInternalLoadBalancerDeleted. */
  delete(key: string): AnchorCall[] {
    this.calls = [];
    const lb = this.lbs.get(key);
    this.read("forwardingRules.get");
    this.write("addresses.delete", false);
    this.write("forwardingRules.delete", lb !== undefined);
    this.write("regionBackendServices.delete", lb !== undefined);
    this.lbs.delete(key);
    this.write("firewalls.delete", lb !== undefined);
    this.write("firewalls.delete", false);
    // teardownInternalHealthCheckAndFirewall: the firewall goes unless the check is in use (404 included).
    const local = lb?.local ?? false;
    const stillShared = [...this.lbs.values()].some((l) => !l.local);
    const hc = local
      ? lb !== undefined
        ? "deleted"
        : "notFound"
      : !this.sharedHealthCheck
        ? "notFound"
        : stillShared
          ? "inUse"
          : "deleted";
    this.write("healthChecks.delete", hc === "deleted");
    if (hc !== "inUse") this.write("firewalls.delete", local ? lb !== undefined : this.sharedHealthCheckFirewall);
    if (hc === "deleted" && !local) {
      this.sharedHealthCheck = false;
      this.sharedHealthCheckFirewall = false;
    }
    this.read("zones.list");
    for (const zone of this.regionZones) {
      const goes = this.lbs.size === 0 && this.groups.has(zone);
      this.write("instanceGroups.delete", goes);
      if (goes) this.groups.delete(zone);
    }
    return this.calls;
  }

  private ensureGroups(nodes: readonly AnchorNode[]): Set<string> {
    const byZone = new Map<string, Set<string>>();
    for (const n of nodes) byZone.set(n.zone, (byZone.get(n.zone) ?? new Set()).add(n.name));
    for (const [zone, want] of byZone) {
      this.read("instanceGroups.get");
      let members = this.groups.get(zone);
      if (members === undefined) {
        this.write("instanceGroups.insert");
        this.read("instanceGroups.get");
        members = new Set();
        this.groups.set(zone, members);
      } else {
        this.read("instanceGroups.listInstances");
      }
      const remove = [...members].filter((m) => !want.has(m));
      const add = [...want].filter((m) => !members.has(m));
      if (remove.length > 0) this.write("instanceGroups.removeInstances");
      if (add.length > 0) this.write("instanceGroups.addInstances");
      for (const m of remove) members.delete(m);
      for (const m of add) members.add(m);
    }
    return new Set(byZone.keys());
  }

  private ensureHealthCheck(local: boolean, exists: boolean): void {
    const missing = local ? !exists : !this.sharedHealthCheck;
    this.read("healthChecks.get");
    if (missing) {
      this.read("healthChecks.get");
      this.write("healthChecks.insert");
      this.read("healthChecks.get");
    }
    if (!local) this.sharedHealthCheck = true;
  }

  private read(method: string): void {
    this.calls.push({ method, mutating: false });
  }

  /** A mutating call; `operation` false when Compute refuses it at once (404, in use) and nothing is polled. */
  private write(method: string, operation = true): void {
    this.calls.push({ method, mutating: true });
    if (!operation) return;
    const poller = POLLER[method.slice(0, method.indexOf("."))] ?? "globalOperations.get";
    for (let i = 0; i < Math.max(1, this.polls); i++) this.calls.push({ method: poller, mutating: false });
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
