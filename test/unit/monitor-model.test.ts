import { describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { HISTORY_MS, HISTORY_SLOTS, STALE_AFTER_MS, displayState, emptyView, formatAge, sortViews, withAggregate, withLink } from "../../src/tui/monitor-model.js";

const T = Date.UTC(2026, 10, 22, 12);
const aggregate = (netW: number, version = 1): Aggregate => ({
  communityId: "c1",
  genW: Math.max(0, netW) + 500,
  conW: Math.max(0, netW) + 500 - netW,
  netW,
  meters: 3,
  stale: 0,
  measuredAt: new Date(T).toISOString(),
  aggregatedAt: new Date(T).toISOString(),
  version,
  epoch: 1795354800000,
});

describe("the monitor's view of a community", () => {
  it("is connecting until a reading arrives, live after", () => {
    const view = emptyView("c1");
    expect(displayState(view, T)).toBe("connecting");
    expect(displayState(withLink(view, "live"), T)).toBe("connecting");
    expect(displayState(withAggregate(view, aggregate(100), T), T)).toBe("live");
  });

  it("turns stale one minute after the value last changed, not after it last arrived", () => {
    let view = withAggregate(emptyView("c1"), aggregate(100, 1), T);
    view = withAggregate(view, aggregate(100, 2), T + 50_000); // same value again
    expect(displayState(view, T + STALE_AFTER_MS)).toBe("live");
    expect(displayState(view, T + STALE_AFTER_MS + 1)).toBe("stale");
    view = withAggregate(view, aggregate(200, 3), T + STALE_AFTER_MS + 2);
    expect(displayState(view, T + STALE_AFTER_MS + 3)).toBe("live");
  });

  it("shows reconnecting over stale while the stream is away", () => {
    const view = withLink(withAggregate(emptyView("c1"), aggregate(100), T), "reconnecting");
    expect(displayState(view, T + 2 * STALE_AFTER_MS)).toBe("reconnecting");
  });

  it("withLink returns the same view when nothing changes, so no frame is spent on it", () => {
    const view = emptyView("c1");
    expect(withLink(view, "connecting")).toBe(view);
    expect(withLink(view, "live")).not.toBe(view);
  });

  it("keeps five minutes of net power for the sparkline, one point per 5-second slot", () => {
    let view = emptyView("c1");
    for (let second = 0; second <= 600; second += 1) view = withAggregate(view, aggregate(second), T + second * 1000);
    expect(view.history.length).toBeLessThanOrEqual(HISTORY_SLOTS + 1);
    expect(view.history.at(-1)?.netW).toBe(600);
    expect(view.history.every((p) => T + 600_000 - p.atMs < HISTORY_MS)).toBe(true);
    expect(view.history[0]!.atMs).toBeLessThanOrEqual(T + 305_000);
  });

  it("counts the age of a first value that is already old from when it was computed", () => {
    const old = { ...aggregate(100), aggregatedAt: new Date(T - 70_000).toISOString() };
    const view = withAggregate(emptyView("c1"), old, T);
    expect(displayState(view, T)).toBe("stale");
  });

  it("shows a stream the API refused as failed, not as reconnecting", () => {
    expect(displayState(withLink(emptyView("c1"), "failed"), T)).toBe("failed");
  });

  it.each([
    [0, "0s"],
    [59_999, "59s"],
    [125_000, "2m 05s"],
    [3_720_000, "1h 02m"],
    [-5_000, "0s"],
  ])("formatAge(%i) is %s", (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it("sorts by name with numbers in order, or by deficit first", () => {
    const views = [
      withAggregate(emptyView("community10"), aggregate(-100), T),
      withAggregate(emptyView("community2"), aggregate(500), T),
      withAggregate(emptyView("community1"), aggregate(-900), T),
    ];
    expect(sortViews(views, "name").map((v) => v.communityId)).toEqual(["community1", "community2", "community10"]);
    expect(sortViews(views, "deficit").map((v) => v.communityId)).toEqual(["community1", "community10", "community2"]);
  });
});
