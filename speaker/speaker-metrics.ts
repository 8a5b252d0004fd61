import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
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
  readonly heartbeatsDroppedTotal = heartbeatsDroppedCounter(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
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
