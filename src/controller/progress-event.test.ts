import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { RecordingEvents } from "../../test/fakes/recording-events.js";
import { newService } from "../../test/fixtures/services.js";
import { progressEvent } from "./progress-event.js";

describe("progressEvent", () => {
  const svc = newService("web");

  it("writes nothing when the work ends before the delay", () => {
    const clock = new FakeClock();
    const events = new RecordingEvents();
    const done = progressEvent(
      { events, clock, delayMs: 1_000 },
      svc,
      "EnsuringLoadBalancer",
      "Ensuring load balancer",
    );
    clock.advance(999);
    done();
    clock.advance(10_000);
    expect(events.reasons()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("writes the Event once the work has run for the delay, and ending it later changes nothing", () => {
    const clock = new FakeClock();
    const events = new RecordingEvents();
    const done = progressEvent(
      { events, clock, delayMs: 1_000 },
      svc,
      "EnsuringLoadBalancer",
      "Ensuring load balancer",
    );
    clock.advance(1_000);
    expect(events.events).toEqual([
      { key: "default/web", type: "Normal", reason: "EnsuringLoadBalancer", message: "Ensuring load balancer" },
    ]);
    done();
    clock.advance(10_000);
    expect(events.reasons()).toEqual(["EnsuringLoadBalancer"]);
  });

  it("a delay of 0 writes at once, as upstream does", () => {
    const clock = new FakeClock();
    const events = new RecordingEvents();
    progressEvent({ events, clock, delayMs: 0 }, svc, "EnsuringLoadBalancer", "Ensuring load balancer")();
    expect(events.reasons()).toEqual(["EnsuringLoadBalancer"]);
  });
});
