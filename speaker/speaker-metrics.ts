import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { DROP_REASONS } from "./membership/drop-reasons.js";
import { watchRestartsCounter } from "../src/runtime/index.js";

/**
 * The speaker's metrics on a registry of its own. The ARP counters mirror MetalLB's
 * metallb_layer2_{requests_received,responses_sent,gratuitous_sent} (internal/layer2/stats.go).
 */
export class SpeakerMetrics {
  readonly registry = new Registry();
  readonly announcedAddresses = new Gauge({
    name: "lb_operator_speaker_announced_addresses",
    help: "Addresses this node answers ARP for.",
    registers: [this.registry],
  });
  readonly forwardingRules = new Gauge({
    name: "lb_operator_speaker_forwarding_rules",
    help: "VIP:port rules in this node's nftables table.",
    registers: [this.registry],
  });
  readonly livePeers = new Gauge({
    name: "lb_operator_speaker_live_speakers",
    help: "Speakers heard within the peer timeout, this one included.",
    registers: [this.registry],
  });
  readonly takeoversTotal = new Counter({
    name: "lb_operator_speaker_takeovers_total",
    help: "Addresses this node started announcing.",
    registers: [this.registry],
  });
  readonly syncTotal = new Counter({
    name: "lb_operator_speaker_sync_total",
    help: "Data plan syncs by outcome (applied, unchanged, error).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly arpTotal = new Counter({
    name: "lb_operator_speaker_arp_packets_total",
    help: "ARP requests received for announced addresses, responses sent and gratuitous ARPs sent, by interface.",
    labelNames: ["kind", "interface"] as const,
    registers: [this.registry],
  });
  readonly watchRestartsTotal = watchRestartsCounter(this.registry);
  /**
   * 1 for each Service and address this node announces, MetalLB's metallb_speaker_announced{ip,node,protocol,
   * service} (internal/speaker/layer2_controller.go, one series on the announcer only). A failover shows as the
   * series moving from one node's scrape to another's.
   */
  readonly announced = new Gauge({
    name: "lb_operator_speaker_announced",
    help: "1 for each Service and address this node announces (answers ARP for).",
    labelNames: ["service", "address", "node"] as const,
    registers: [this.registry],
  });
  /** Reported by the node that forwards the Service (its announcer); nothing in announce-only mode. */
  readonly healthyBackends = new Gauge({
    name: "lb_operator_speaker_service_healthy_backends",
    help: "Healthy backend addresses this node forwards a Service's traffic to (its announcer only).",
    labelNames: ["service"] as const,
    registers: [this.registry],
  });
  readonly noHealthyBackend = new Gauge({
    name: "lb_operator_speaker_service_no_healthy_backend",
    help: "1 when a port of a Service this node forwards has no healthy backend (new connections are dropped), else 0.",
    labelNames: ["service"] as const,
    registers: [this.registry],
  });
  /** Only nft runs: a plan equal to the last one applied is skipped and not timed. */
  readonly nftApplySeconds = new Histogram({
    name: "lb_operator_speaker_nft_apply_duration_seconds",
    help: "Time to replace this speaker's nftables table with one nft -f transaction.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly nftApplyFailuresTotal = new Counter({
    name: "lb_operator_speaker_nft_apply_failures_total",
    help: "nft -f transactions that failed (the previous rules stay in place).",
    registers: [this.registry],
  });
  readonly heartbeatsDroppedTotal = heartbeatsDroppedCounter(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** NftTable's onApply: one nft transaction, timed, and whether it failed. */
  observeNftApply(result: { readonly ok: boolean; readonly seconds: number }): void {
    this.nftApplySeconds.observe(result.seconds);
    if (!result.ok) this.nftApplyFailuresTotal.inc();
  }
}

/**
 * Every reason starts at 0, so a scrape shows the series before the first drop and rate() or an alert on
 * bad_signature sees the first forgery as an increase.
 */
function heartbeatsDroppedCounter(registry: Registry): Counter<"reason"> {
  const counter = new Counter({
    name: "lb_operator_speaker_heartbeats_dropped_total",
    help:
      "Inbound heartbeat datagrams dropped, by reason (bad_signature: forged or another key; stale_timestamp: " +
      "replayed late or clocks apart; replayed; wrong_destination; unsigned; unsupported_version; ...).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  for (const reason of DROP_REASONS) counter.inc({ reason }, 0);
  return counter;
}
