import { afterEach, describe, expect, it, vi } from "vitest";
import type { OutgoingMessage, ReadingSink, SinkDone } from "../../src/wire/reading-sink.js";
import { Simulator, type SimulatorOptions } from "../../src/sim/simulator.js";
import type { Emission, ReadingSource, Tick } from "../../src/sim/sources.js";
import type { TraceEntry } from "../../src/sim/trace.js";

const T0 = Date.UTC(2026, 5, 21, 12);

interface Call {
  readonly subject: string;
  readonly payload: string;
  readonly dedupId: string | undefined;
}

/** Records every publish; `rejects` picks the ones that fail, `delayMs` makes acks slow (else they settle at once). */
class FakeSink implements ReadingSink {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly rejects: (call: Call) => boolean = () => false,
    private readonly delayMs = 0,
  ) {}

  publish<M extends OutgoingMessage>(message: M, done: SinkDone<M>): void {
    const call = { subject: message.subject, payload: message.payload, dedupId: message.dedupId };
    this.calls.push(call);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const settle = (): void => {
      this.inFlight -= 1;
      done(message, this.rejects(call) ? new Error(`rejected ${call.dedupId}`) : undefined);
    };
    if (this.delayMs > 0) setTimeout(settle, this.delayMs);
    else settle();
  }
}

/** Hands out the given ticks, then nothing. */
class ListSource implements ReadingSource {
  private index = 0;
  nextCalls = 0;

  constructor(private readonly ticks: readonly Tick[]) {}

  next(): Tick | undefined {
    this.nextCalls += 1;
    return this.ticks[this.index++];
  }
}

/** Endless: one tick every `stepMs` of data time, one meter reading each. */
class EndlessSource implements ReadingSource {
  private k = 0;

  constructor(private readonly stepMs: number) {}

  next(): Tick {
    const atMs = T0 + this.k++ * this.stepMs;
    return { atMs, emissions: [meter("community1", "meter001", atMs, 1, 1)] };
  }
}

function meter(communityId: string, meterId: string, atMs: number, genW: number, conW: number): Emission {
  const payload = JSON.stringify({ meterId, communityId, genW, conW, measuredAt: new Date(atMs).toISOString(), seq: atMs });
  return {
    subject: `ec.${communityId}.meter.${meterId}`,
    payload,
    dedupId: `${communityId}.${meterId}.${atMs}`,
    counted: { communityId, meterId, state: { genW, conW, measuredAtMs: atMs, seq: atMs } },
  };
}

const malformed = (atMs: number): Emission => ({ subject: "ec.community1.meter.meter001", payload: '{"meterId":"meter001","genW":', dedupId: `community1.meter001.${atMs}.bad` });

/** Two ticks: both meters of community1 at T0 and T0 + 1 s, meter001 of community2 at T0, a malformed message. */
const TICKS: readonly Tick[] = [
  { atMs: T0, emissions: [meter("community1", "meter001", T0, 100, 10), meter("community1", "meter002", T0, 0, 300), meter("community2", "meter001", T0, 50, 5)] },
  { atMs: T0 + 1_000, emissions: [meter("community1", "meter001", T0 + 1_000, 200, 20), meter("community1", "meter002", T0 + 1_000, 0, 400), malformed(T0 + 1_000)] },
];

const options = (patch: Partial<SimulatorOptions> = {}): SimulatorOptions => ({ speed: Number.POSITIVE_INFINITY, staleAfterMs: 30_000, ...patch });

afterEach(() => {
  vi.useRealTimers();
});

describe("Simulator: publishing and ground truth", () => {
  it("publishes every emission of every tick in order, with its dedup id", async () => {
    const sink = new FakeSink();
    const simulator = new Simulator(sink, new ListSource(TICKS), options());
    await simulator.start();
    expect(sink.calls).toEqual(TICKS.flatMap((t) => t.emissions.map((e) => ({ subject: e.subject, payload: e.payload, dedupId: e.dedupId }))));
    expect(simulator.stats).toEqual({ sent: 6, acked: 6, errors: 0, ticks: 2, dataTimeMs: T0 + 1_000 });
  });

  it("paces ticks by `pace` when given (bench's ramps), from the first tick's data time", async () => {
    let wall = 5_000;
    const asked: number[] = [];
    // At speed 1 the second tick would be due a second later; `pace` has it due 10 ms after the first.
    const pace = (dataElapsedMs: number): number => (asked.push(dataElapsedMs), dataElapsedMs / 100);
    const simulator = new Simulator(new FakeSink(), new ListSource(TICKS), options({ speed: 1, pace, now: () => (wall += 10) }));
    await simulator.start();
    expect(asked).toEqual([0, 1_000]);
    expect(simulator.origin).toEqual({ wallMs: 5_010, dataMs: T0 });
  });

  it("totals the newest acknowledged reading per meter, ignoring the malformed message", async () => {
    const simulator = new Simulator(new FakeSink(), new ListSource(TICKS), options());
    await simulator.start();
    expect(simulator.totals()).toEqual({
      community1: { genW: 200, conW: 420, meters: 2, stale: 0 },
      community2: { genW: 50, conW: 5, meters: 1, stale: 0 },
    });
  });

  it("leaves a rejected reading out of the ground truth and counts it as an error", async () => {
    const rejected = `community1.meter002.${T0 + 1_000}`;
    const simulator = new Simulator(new FakeSink((c) => c.dedupId === rejected), new ListSource(TICKS), options());
    await simulator.start();
    expect(simulator.stats).toMatchObject({ sent: 6, acked: 5, errors: 1, lastError: `rejected ${rejected}` });
    // meter002 counts with its reading of the first tick.
    expect(simulator.totals().community1).toEqual({ genW: 200, conW: 320, meters: 2, stale: 0 });
  });

  it("leaves out a meter whose readings were all rejected", async () => {
    const simulator = new Simulator(new FakeSink((c) => c.subject === "ec.community2.meter.meter001"), new ListSource(TICKS), options());
    await simulator.start();
    expect(simulator.stats.errors).toBe(1);
    expect(simulator.totals()).toEqual({ community1: { genW: 200, conW: 420, meters: 2, stale: 0 } });
  });

  it("applies the aggregator's rule to the ground truth: a 1-second meter silent for 2 s, with a 500 ms floor, is stale", async () => {
    // Both meters report every second; meter002's readings after T0 + 1 s are not acknowledged. Its hold: 1 s + 500 ms.
    const ticks: Tick[] = [0, 1, 2, 3].map((s) => ({
      atMs: T0 + s * 1_000,
      emissions: [meter("community1", "meter001", T0 + s * 1_000, 200, 20), meter("community1", "meter002", T0 + s * 1_000, 0, 300)],
    }));
    const rejected = new Set([`community1.meter002.${T0 + 2_000}`, `community1.meter002.${T0 + 3_000}`]);
    const simulator = new Simulator(new FakeSink((c) => rejected.has(c.dedupId!)), new ListSource(ticks), options({ staleAfterMs: 500 }));
    await simulator.start();
    expect(simulator.totals().community1).toEqual({ genW: 200, conW: 20, meters: 1, stale: 1 });
  });

  it("counts an error for a rejected malformed message too, with the sink's message", async () => {
    const sink = new FakeSink((c) => c.dedupId?.endsWith(".bad") ?? false);
    const simulator = new Simulator(sink, new ListSource(TICKS), options());
    await simulator.start();
    expect(simulator.stats).toMatchObject({ acked: 5, errors: 1, lastError: `rejected community1.meter001.${T0 + 1_000}.bad` });
  });

  it("never has more than `window` publishes awaiting their ack, and waits for all before it settles", async () => {
    const ticks = Array.from({ length: 5 }, (_, k) => ({
      atMs: T0 + k * 1_000,
      emissions: Array.from({ length: 4 }, (_, m) => meter("community1", `meter00${m}`, T0 + k * 1_000, 1, 1)),
    }));
    const sink = new FakeSink(() => false, 3);
    const simulator = new Simulator(sink, new ListSource(ticks), options({ window: 2 }));
    await simulator.start();
    expect(sink.maxInFlight).toBe(2);
    expect(sink.inFlight).toBe(0);
    expect(simulator.stats).toMatchObject({ sent: 20, acked: 20 });
  });

  it("counts a moment that comes in parts as one tick", async () => {
    const [first, second] = TICKS;
    const parts: Tick[] = [
      { ...first!, emissions: first!.emissions.slice(0, 2), continues: true },
      { ...first!, emissions: first!.emissions.slice(2) },
      second!,
    ];
    const sink = new FakeSink();
    const simulator = new Simulator(sink, new ListSource(parts), options());
    await simulator.start();
    expect(sink.calls).toHaveLength(6);
    expect(simulator.stats).toMatchObject({ ticks: 2, acked: 6, dataTimeMs: T0 + 1_000 });
  });

  it("start() twice runs once", async () => {
    const sink = new FakeSink();
    const simulator = new Simulator(sink, new ListSource(TICKS), options());
    await Promise.all([simulator.start(), simulator.start()]);
    expect(sink.calls).toHaveLength(6);
  });
});

describe("Simulator: record", () => {
  it("gets every message as published, data parsed, or the raw text when it is not JSON", async () => {
    const recorded: TraceEntry[] = [];
    const ticks: Tick[] = [
      { atMs: T0, emissions: [meter("community1", "meter001", T0, 1, 2), malformed(T0), { subject: "ec.community1.net", payload: '{"communityId":"community1","genW":3,"conW":4,"measuredAt":"2026-06-21T12:00:00.000Z"}', dedupId: undefined }] },
    ];
    await new Simulator(new FakeSink((c) => c.dedupId === undefined), new ListSource(ticks), options({ record: (e) => recorded.push(e) })).start();
    expect(recorded).toEqual([
      {
        subject: "ec.community1.meter.meter001",
        msgId: `community1.meter001.${T0}`,
        data: { meterId: "meter001", communityId: "community1", genW: 1, conW: 2, measuredAt: "2026-06-21T12:00:00.000Z", seq: T0 },
      },
      { subject: "ec.community1.meter.meter001", msgId: `community1.meter001.${T0}.bad`, data: '{"meterId":"meter001","genW":' },
      { subject: "ec.community1.net", data: { communityId: "community1", genW: 3, conW: 4, measuredAt: "2026-06-21T12:00:00.000Z" } },
    ]);
    expect("msgId" in recorded[2]!).toBe(false);
  });
});

describe("Simulator: pacing", () => {
  it("with speed Infinity runs hours of data time without waiting", async () => {
    const ticks = Array.from({ length: 1_000 }, (_, k) => ({ atMs: T0 + k * 3_600_000, emissions: [meter("community1", "meter001", T0 + k * 3_600_000, k, 1)] }));
    const started = Date.now();
    const simulator = new Simulator(new FakeSink(), new ListSource(ticks), options());
    await simulator.start();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(simulator.stats.ticks).toBe(1_000);
    expect(simulator.totals().community1).toMatchObject({ genW: 999 });
  });

  it("with speed 1000 sends tick k at wall-clock start + (t_k − t_0) / 1000", async () => {
    vi.useFakeTimers({ now: 0 });
    const ticks = [0, 10_000, 20_000, 50_000].map((d) => ({ atMs: T0 + d, emissions: [meter("community1", "meter001", T0 + d, d, 1)] }));
    const sink = new FakeSink();
    const simulator = new Simulator(sink, new ListSource(ticks), options({ speed: 1_000 }));
    const done = simulator.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(9);
    expect(sink.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(sink.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(29);
    expect(sink.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.calls).toHaveLength(4);
    await vi.runAllTimersAsync();
    await done;
    expect(simulator.stats.ticks).toBe(4);
  });

  it("sends a late tick at once instead of skipping it (injected clock)", async () => {
    // The clock jumps an hour on every reading of it: every tick is late.
    let wall = 0;
    const now = (): number => (wall += 3_600_000);
    const ticks = Array.from({ length: 5 }, (_, k) => ({ atMs: T0 + k * 1_000, emissions: [meter("community1", "meter001", T0 + k * 1_000, k, 1)] }));
    const sink = new FakeSink();
    const simulator = new Simulator(sink, new ListSource(ticks), options({ speed: 1, now }));
    await simulator.start();
    expect(sink.calls).toHaveLength(5);
    expect(simulator.stats.ticks).toBe(5);
  });

  it("stop() ends an endless run: no tick after it", async () => {
    vi.useFakeTimers({ now: 0 });
    const sink = new FakeSink();
    const simulator = new Simulator(sink, new EndlessSource(1_000), options({ speed: 1 }));
    const done = simulator.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(sink.calls).toHaveLength(3);
    await simulator.stop();
    await done;
    expect(simulator.stats.ticks).toBe(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sink.calls).toHaveLength(3);
  });

  it("stop() wakes a run that sleeps until a far tick", async () => {
    vi.useFakeTimers({ now: 0 });
    const source = new ListSource([
      { atMs: T0, emissions: [meter("community1", "meter001", T0, 1, 1)] },
      { atMs: T0 + 3_600_000, emissions: [meter("community1", "meter001", T0 + 3_600_000, 2, 2)] },
    ]);
    const sink = new FakeSink();
    const simulator = new Simulator(sink, source, options({ speed: 1 }));
    const done = simulator.start();
    await vi.advanceTimersByTimeAsync(10);
    // Without advancing the clock further, stop() must settle.
    await simulator.stop();
    await done;
    expect(sink.calls).toHaveLength(1);
    expect(simulator.stats.ticks).toBe(1);
    expect(simulator.totals().community1).toMatchObject({ genW: 1 });
  });

  it("stop() before start() publishes nothing", async () => {
    const sink = new FakeSink();
    const source = new ListSource(TICKS);
    const simulator = new Simulator(sink, source, options());
    await simulator.stop();
    await simulator.start();
    expect(sink.calls).toEqual([]);
    expect(source.nextCalls).toBe(0);
  });
});
