import type { V1Service } from "@kubernetes/client-node";
import type { EventRecorder, EventType } from "../../src/kube/event-recorder.js";

export interface RecordedEvent {
  /** namespace/name of the involved Service */
  readonly key: string;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/** An EventRecorder that keeps every event in memory, in order. */
export class RecordingEvents implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  record(svc: V1Service, type: EventType, reason: string, message: string): void {
    this.events.push({
      key: `${svc.metadata?.namespace ?? "default"}/${svc.metadata?.name ?? ""}`,
      type,
      reason,
      message,
    });
  }

  /** Reasons recorded (for one Service when `key` is given), in order. */
  reasons(key?: string): string[] {
    return this.events.filter((e) => key === undefined || e.key === key).map((e) => e.reason);
  }

  clear(): void {
    this.events.splice(0);
  }
}
