import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import type { FollowStatus } from "../../src/domain/follow-status.js";
import MonitorApp from "../../src/tui/monitor-app.js";
import type { KpiSource, TodayKpis } from "../../src/tui/today-kpis.js";
import type { FeedSource } from "../../src/tui/use-community-views.js";
import { FakeClock } from "../helpers/fake-clock.js";

/** A hand-written feed: the test decides what arrives and when. */
class FakeFeed implements FeedSource {
  readonly followed: string[] = [];
  readonly closed: string[] = [];
  private readonly handlers = new Map<string, { onAggregate: (a: Aggregate) => void; onStatus: (s: FollowStatus) => void }>();

  follow(communityId: string, onAggregate: (a: Aggregate) => void, onStatus: (s: FollowStatus) => void): { close(): void } {
    this.followed.push(communityId);
    this.handlers.set(communityId, { onAggregate, onStatus });
    onStatus({ state: "connecting", url: `http://api/communities/${communityId}/stream` });
    return { close: () => this.closed.push(communityId) };
  }

  status(communityId: string, status: FollowStatus): void {
    this.handlers.get(communityId)!.onStatus(status);
  }

  send(communityId: string, netW: number, aggregatedAt: number): void {
    const genW = Math.max(0, netW) + 1000;
    this.handlers.get(communityId)!.onAggregate({
      communityId,
      genW,
      conW: genW - netW,
      netW,
      meters: 20,
      stale: 0,
      measuredAt: new Date(aggregatedAt).toISOString(),
      aggregatedAt: new Date(aggregatedAt).toISOString(),
      version: 1,
      epoch: 1795354800000,
    });
  }
}

const T0 = Date.UTC(2026, 10, 22, 12);
/** The monitor's time: the tests move it; nothing waits in real time. */
let clock = new FakeClock(T0);
/** Lets promises, React and ink finish what the last event started (no time passes). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
}
/** Moves the clock by `ms` (a frame's worth by default) and lets the frame be drawn. */
async function frame(ms = 400): Promise<void> {
  await settle();
  clock.advance(ms);
  await settle();
}
/** Long enough for a frame beyond the burst of two (FRAME_MS pacing). */
const paced = (): Promise<void> => frame(1_200);
let instance: ReturnType<typeof render> | undefined;

/** Today's KPIs as the test says: each answer is the next of `answers` (an Error rejects). */
class FakeKpis implements KpiSource {
  readonly asked: string[] = [];
  constructor(private readonly answers: Array<TodayKpis | Error>) {}

  today(communityId: string): Promise<TodayKpis> {
    this.asked.push(communityId);
    const answer = this.answers.length > 1 ? this.answers.shift()! : this.answers[0]!;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

function show(feed: FakeFeed, options: { all?: boolean; communities?: string[]; kpis?: KpiSource; kpiRefreshMs?: number } = {}) {
  clock = new FakeClock(T0);
  const communities = options.communities ?? ["community1", "community2"];
  instance = render(
    <MonitorApp
      communities={communities}
      initial="community1"
      all={options.all ?? false}
      source={feed}
      kpis={options.kpis}
      kpiRefreshMs={options.kpiRefreshMs}
      colorMode="none"
      ascii={false}
      maxW={10_000}
      clock={clock}
    />,
  );
  return instance;
}

afterEach(() => {
  instance?.unmount();
  instance = undefined;
});

describe("MonitorApp states", () => {
  it("shows connecting until the first reading arrives", async () => {
    const feed = new FakeFeed();
    const { lastFrame } = show(feed);
    await frame();
    expect(lastFrame()).toContain("community1");
    expect(lastFrame()).toContain("connecting");
    expect(feed.followed).toEqual(["community1"]);
  });

  it("is live with the value, the balance and the ring once a reading arrives", async () => {
    const feed = new FakeFeed();
    const { lastFrame } = show(feed);
    feed.status("community1", { state: "live" });
    feed.send("community1", 2_104, T0);
    await frame();
    const text = lastFrame()!;
    expect(text).toContain("● live");
    expect(text).toContain("+2.10");
    expect(text).toContain("kW surplus");
    expect(text).toContain("surplus 2.10 kW");
    expect(text).toMatch(/[\u2801-\u28FF]/); // the braille ring
  });

  it("turns stale when the value has not changed for the watch's one minute", async () => {
    const feed = new FakeFeed();
    const { lastFrame } = show(feed);
    feed.status("community1", { state: "live" });
    feed.send("community1", -3_500, T0);
    await frame();
    expect(lastFrame()).toContain("● live");
    await frame(61_500);
    expect(lastFrame()).toContain("◌ stale");
    expect(lastFrame()).toContain("deficit 3.50 kW");
  });

  it("says reconnecting while the stream is away, and keeps the last value", async () => {
    const feed = new FakeFeed();
    const { lastFrame } = show(feed);
    feed.status("community1", { state: "live" });
    feed.send("community1", 1_000, T0);
    await frame();
    feed.status("community1", { state: "reconnecting", inMs: 1_000, reason: "connection lost" });
    await paced();
    expect(lastFrame()).toContain("reconnecting");
    expect(lastFrame()).toContain("+1.00");
  });
});

describe("MonitorApp keys", () => {
  it("→ switches to the next community and follows only it; ? shows the keys", async () => {
    const feed = new FakeFeed();
    const { lastFrame, stdin } = show(feed);
    await frame();
    stdin.write("\u001B[C");
    await frame();
    expect(lastFrame()).toContain("community2");
    expect(feed.followed).toEqual(["community1", "community2"]);
    expect(feed.closed).toEqual(["community1"]);
    stdin.write("?");
    await frame();
    expect(lastFrame()).toContain("q or Ctrl-C  quit");
    stdin.write("?");
    await frame();
    expect(lastFrame()).not.toContain("q or Ctrl-C  quit");
  });

  it("--all shows a tile per community, sorted by deficit after s", async () => {
    const feed = new FakeFeed();
    const { lastFrame, stdin } = show(feed, { all: true, communities: ["community1", "community2", "community3"] });
    await frame();
    feed.send("community1", 500, T0);
    feed.send("community2", -4_000, T0);
    feed.send("community3", -1_000, T0);
    await frame();
    const byName = lastFrame()!;
    expect(byName.indexOf("community1")).toBeLessThan(byName.indexOf("community2"));
    stdin.write("s");
    await frame();
    const byDeficit = lastFrame()!;
    expect(byDeficit).toContain("sorted by deficit");
    expect(byDeficit.indexOf("community2")).toBeLessThan(byDeficit.indexOf("community3"));
    expect(byDeficit.indexOf("community3")).toBeLessThan(byDeficit.indexOf("community1"));
  });
});

describe("MonitorApp today's energy", () => {
  const TODAY: TodayKpis = { genWh: 12_400, conWh: 18_940, selfSufficiency: 0.61, selfConsumption: 0.83 };
  const LINE = "today  gen 12.4 kWh · con 18.9 kWh · self-sufficiency 61 % · self-consumption 83 %";

  it("shows today's kWh and KPIs under the face, asked for once at start and not again within the minute", async () => {
    const feed = new FakeFeed();
    const kpis = new FakeKpis([TODAY]);
    const { lastFrame, stdin } = show(feed, { kpis });
    feed.status("community1", { state: "live" });
    feed.send("community1", 2_104, T0);
    await paced();
    const text = lastFrame()!;
    expect(text).toContain(LINE);
    expect(text.indexOf(LINE)).toBeGreaterThan(text.indexOf("surplus 2.10 kW"));
    // The face goes on at its own pace; switching away and back reuses the answer.
    feed.send("community1", 1_000, T0 + 1_000);
    stdin.write("\u001B[C");
    await frame();
    stdin.write("\u001B[D");
    await paced();
    expect(lastFrame()).toContain(LINE);
    expect(kpis.asked).toEqual(["community1", "community2"]);
  });

  it("keeps the last value and marks it stale when a refresh fails, and the face stays live", async () => {
    const feed = new FakeFeed();
    const kpis = new FakeKpis([TODAY, new Error("HTTP 503")]);
    const { lastFrame } = show(feed, { kpis, kpiRefreshMs: 300 });
    feed.status("community1", { state: "live" });
    feed.send("community1", -3_500, T0);
    await paced();
    const text = lastFrame()!;
    expect(kpis.asked.length).toBeGreaterThan(1);
    expect(text).toContain(`${LINE}  (stale)`);
    expect(text).toContain("● live");
    expect(text).toContain("deficit 3.50 kW");
  });

  it("says briefly that there is no value when the first answer fails, and shows no line in --all", async () => {
    const feed = new FakeFeed();
    const { lastFrame } = show(feed, { kpis: new FakeKpis([new Error("HTTP 404")]) });
    await frame();
    expect(lastFrame()).toContain("today  – (kWh not available)");
    instance!.unmount();
    const kpis = new FakeKpis([TODAY]);
    const grid = show(new FakeFeed(), { all: true, kpis });
    await frame();
    expect(grid.lastFrame()).not.toContain("today");
    expect(kpis.asked).toEqual([]);
  });
});
