import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseCommunityReading, parseMeterReading } from "../../src/domain/reading.js";
import { parseLoadProfile } from "../../src/sim/load-profile.js";
import type { ReadingSink } from "../../src/sim/reading-sink.js";
import { Simulator, type SimulatorOptions } from "../../src/sim/simulator.js";

const profile = parseLoadProfile(readFileSync(new URL("../../fixtures/bdew-2025/h25.csv", import.meta.url), "utf8"), true);
/** Midday in June, on an interval boundary: the PV meters produce. */
const T0 = Date.UTC(2026, 5, 21, 11, 0, 0);

interface Published {
  readonly subject: string;
  readonly payload: string;
  readonly dedupId: string;
}

/** A sink that records what it is given; `rejects` decides which publishes fail, `delayMs` when they settle. */
class FakeSink implements ReadingSink {
  readonly offered: Published[] = [];
  readonly accepted: Published[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly rejects: (p: Published) => boolean = () => false,
    private readonly delayMs = 0,
  ) {}

  async publish(subject: string, payload: string, dedupId: string): Promise<void> {
    const p = { subject, payload, dedupId };
    this.offered.push(p);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.inFlight -= 1;
    if (this.rejects(p)) throw new Error(`rejected ${dedupId}`);
    this.accepted.push(p);
  }
}

function options(patch: Partial<SimulatorOptions> = {}): SimulatorOptions {
  return {
    communities: 2,
    meters: 3,
    intervalMs: 1_000,
    // Ticks at T0, T0 + 1 s and T0 + 2 s; the one at T0 + 3 s is the end.
    durationMs: 3_000,
    seed: 11,
    level: "meter",
    profile,
    staleAfterMs: 30_000,
    now: () => Date.now(),
    ...patch,
  };
}

async function run(sink: ReadingSink, patch: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const simulator = new Simulator(sink, options(patch));
  const done = simulator.start();
  await vi.runAllTimersAsync();
  await done;
  return simulator;
}

/** Per community, the sums over the last reading of each meter the sink accepted. */
function sumsOfLastAccepted(accepted: readonly Published[]): Record<string, { genW: number; conW: number; meters: number }> {
  const last = new Map<string, { communityId: string; genW: number; conW: number; seq: number }>();
  for (const { payload } of accepted) {
    const r = JSON.parse(payload) as { communityId: string; meterId: string; genW: number; conW: number; seq: number };
    const key = `${r.communityId}/${r.meterId}`;
    if (!last.has(key) || last.get(key)!.seq < r.seq) last.set(key, r);
  }
  const sums: Record<string, { genW: number; conW: number; meters: number }> = {};
  for (const r of last.values()) {
    const s = (sums[r.communityId] ??= { genW: 0, conW: 0, meters: 0 });
    s.genW += r.genW;
    s.conW += r.conW;
    s.meters += 1;
  }
  return sums;
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe("Simulator with meter readings", () => {
  it("publishes every meter of every community once per tick for the duration", async () => {
    const sink = new FakeSink();
    const simulator = await run(sink);
    expect(simulator.stats).toMatchObject({ ticks: 3, published: 18, errors: 0, skippedTicks: 0 });
    expect(sink.offered).toHaveLength(18);
    expect(new Set(sink.offered.map((p) => p.subject))).toEqual(
      new Set(["community1", "community2"].flatMap((c) => ["meter001", "meter002", "meter003"].map((m) => `ec.${c}.meter.${m}`))),
    );
  });

  it("every reading is valid and carries seq = data time in ms and the dedup id <community>.<meter>.<seq>", async () => {
    const sink = new FakeSink();
    await run(sink);
    const seqs = new Set<number>();
    for (const { subject, payload, dedupId } of sink.offered) {
      const parsed = parseMeterReading(JSON.parse(payload));
      if (!parsed.ok) throw new Error(parsed.error);
      const r = parsed.value;
      expect(subject).toBe(`ec.${r.communityId}.meter.${r.meterId}`);
      expect(Date.parse(r.measuredAt)).toBe(r.seq);
      expect(dedupId).toBe(`${r.communityId}.${r.meterId}.${r.seq}`);
      seqs.add(r.seq);
    }
    expect([...seqs].sort()).toEqual([T0, T0 + 1_000, T0 + 2_000]);
  });

  it("report() equals the sums of the last readings the sink accepted", async () => {
    const sink = new FakeSink();
    const simulator = await run(sink);
    const expected = sumsOfLastAccepted(sink.accepted);
    const report = simulator.report();
    expect(report.published).toBe(18);
    expect(report.errors).toBe(0);
    expect(report.communities).toEqual({
      community1: { ...expected.community1, stale: 0 },
      community2: { ...expected.community2, stale: 0 },
    });
    // At noon in June the community produces something: the sums are not trivially zero.
    expect(report.communities.community1!.genW + report.communities.community2!.genW).toBeGreaterThan(0);
  });

  it("a rejected reading counts as an error and stays out of the ground truth", async () => {
    const rejected = `community1.meter002.${T0 + 2_000}`;
    const sink = new FakeSink((p) => p.dedupId === rejected);
    const simulator = await run(sink);
    expect(simulator.stats).toMatchObject({ published: 17, errors: 1, lastError: `rejected ${rejected}` });
    const report = simulator.report();
    expect(report.errors).toBe(1);
    expect(report.communities.community1).toEqual({ ...sumsOfLastAccepted(sink.accepted).community1, stale: 0 });

    // meter002 of community1 is counted with its reading of the second tick, the others with their third.
    const conW = (dedupId: string): number => (JSON.parse(sink.accepted.find((p) => p.dedupId === dedupId)!.payload) as { conW: number }).conW;
    expect(report.communities.community1!.conW).toBe(
      conW(`community1.meter001.${T0 + 2_000}`) + conW(`community1.meter002.${T0 + 1_000}`) + conW(`community1.meter003.${T0 + 2_000}`),
    );
  });

  it("a meter whose readings are all rejected is missing from the ground truth", async () => {
    const sink = new FakeSink((p) => p.subject === "ec.community2.meter.meter003");
    const simulator = await run(sink);
    expect(simulator.stats.errors).toBe(3);
    expect(simulator.report().communities.community2).toMatchObject({ meters: 2, stale: 0 });
    expect(simulator.report().communities.community1).toMatchObject({ meters: 3 });
  });

  it("the ground truth uses the simulator's stale rule", async () => {
    // meter002's last accepted reading is 1 s behind the community's newest: stale when staleAfterMs < 1 s.
    const sink = new FakeSink((p) => p.dedupId === `community1.meter002.${T0 + 2_000}`);
    const simulator = await run(sink, { staleAfterMs: 500 });
    expect(simulator.report().communities.community1).toMatchObject({ meters: 2, stale: 1 });
  });

  it("never has more than `window` publishes in flight", async () => {
    const sink = new FakeSink(() => false, 10);
    const simulator = await run(sink, { window: 2 });
    expect(sink.maxInFlight).toBe(2);
    expect(simulator.stats.published).toBe(18);
  });

  it("the same seed gives the same readings", async () => {
    const a = new FakeSink();
    await run(a);
    vi.setSystemTime(T0);
    const b = new FakeSink();
    await run(b);
    expect(b.offered).toEqual(a.offered);
  });

  it("runs until stop() without a duration, and stops ticking", async () => {
    const sink = new FakeSink();
    const simulator = new Simulator(sink, options({ durationMs: undefined }));
    const done = simulator.start();
    await vi.advanceTimersByTimeAsync(2_500);
    const stopped = simulator.stop();
    await vi.runAllTimersAsync();
    await stopped;
    await done;
    expect(simulator.stats.ticks).toBe(3);
    expect(simulator.stats.published).toBe(18);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sink.offered).toHaveLength(18);
  });
});

describe("Simulator with community-level readings", () => {
  it("publishes the prototype's reading on ec.<id>.net with the summed watts of the meters", async () => {
    const meterSink = new FakeSink();
    await run(meterSink);
    vi.setSystemTime(T0);
    const communitySink = new FakeSink();
    const simulator = await run(communitySink, { level: "community" });

    expect(communitySink.offered).toHaveLength(6);
    expect(simulator.stats).toMatchObject({ published: 6, errors: 0, ticks: 3 });
    for (const { subject, payload, dedupId } of communitySink.offered) {
      const parsed = parseCommunityReading(JSON.parse(payload));
      if (!parsed.ok) throw new Error(parsed.error);
      const r = parsed.value;
      expect(Object.keys(JSON.parse(payload)).sort()).toEqual(["communityId", "conW", "genW", "measuredAt"]);
      expect(subject).toBe(`ec.${r.communityId}.net`);
      const seq = Date.parse(r.measuredAt);
      expect(dedupId).toBe(`${r.communityId}._community.${seq}`);
      const meters = meterSink.offered
        .map((p) => JSON.parse(p.payload) as { communityId: string; genW: number; conW: number; seq: number })
        .filter((m) => m.communityId === r.communityId && m.seq === seq);
      expect(meters).toHaveLength(3);
      expect(r.genW).toBe(meters.reduce((s, m) => s + m.genW, 0));
      expect(r.conW).toBe(meters.reduce((s, m) => s + m.conW, 0));
    }
  });

  it("reports one meter (_community) per community with the last accepted sums", async () => {
    const sink = new FakeSink();
    const simulator = await run(sink, { level: "community" });
    const last = sink.accepted.filter((p) => p.dedupId.endsWith(`.${T0 + 2_000}`)).map((p) => JSON.parse(p.payload) as { communityId: string; genW: number; conW: number });
    expect(last).toHaveLength(2);
    expect(simulator.report().communities).toEqual(
      Object.fromEntries(last.map((r) => [r.communityId, { genW: r.genW, conW: r.conW, meters: 1, stale: 0 }])),
    );
  });
});
