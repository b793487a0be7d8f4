import { describe, expect, it } from "vitest";
import { glancePattern } from "../../src/wear-emu/glances.js";
import { DISPLAY_STEP_W, type Timeline, stalenessReport } from "../../src/wear-emu/staleness.js";

const MIN = 60_000;
const DAY = 86_400_000;

/** A run of 100 s, looked at throughout, unless a test says otherwise. */
const base = { refreshes: [0], glances: [{ startMs: 0, endMs: 100_000 }], startMs: 0, endMs: 100_000 } as const;

describe("stalenessReport: while looking", () => {
  it("reports no error and no stale stretch when the display follows the truth", () => {
    const truth: Timeline = [{ atMs: 0, value: 1200 }, { atMs: 30_000, value: -400 }];
    const report = stalenessReport({ ...base, truth, displayed: truth });
    expect(report).toMatchObject({ p50W: 0, p99W: 0, maxStaleSeconds: 0 });
  });

  it("takes p50 and p99 by nearest rank over the samples: errors 0…99 W give 49 and 98", () => {
    // Truth 0 throughout; the display shows k W from second k, so the sample at second k is off by k W.
    const displayed: Timeline = Array.from({ length: 100 }, (_, k) => ({ atMs: k * 1000, value: k }));
    const report = stalenessReport({ ...base, truth: [{ atMs: 0, value: 0 }], displayed });
    // 100 samples: p50 is the 50th smallest (49 W), p99 the 99th smallest (98 W).
    expect(report.p50W).toBe(49);
    expect(report.p99W).toBe(98);
  });

  it("measures a stale stretch across several samples: stale from 2 s until the display catches up at 5.5 s → 4 s", () => {
    const truth: Timeline = [{ atMs: 0, value: 0 }, { atMs: 2000, value: 1000 }];
    const displayed: Timeline = [{ atMs: 0, value: 0 }, { atMs: 5500, value: 1000 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: 0, endMs: 10_000 }] });
    // Samples at 2, 3, 4 and 5 s are 1000 W off; the one at 6 s is right.
    expect(report.maxStaleSeconds).toBe(4);
  });

  it("does not count exactly one display step as stale, but anything more", () => {
    const truth: Timeline = [{ atMs: 0, value: 500 }];
    const oneStep = stalenessReport({ ...base, truth, displayed: [{ atMs: 0, value: 500 + DISPLAY_STEP_W }] });
    expect(oneStep.maxStaleSeconds).toBe(0);
    expect(oneStep.p50W).toBe(10);
    const more = stalenessReport({ ...base, truth, displayed: [{ atMs: 0, value: 500 + DISPLAY_STEP_W + 1 }] });
    expect(more.maxStaleSeconds).toBe(100);
  });

  it("reports the longest of two stretches separated by a right sample, not their sum", () => {
    const truth: Timeline = [{ atMs: 0, value: 0 }];
    const displayed: Timeline = [
      { atMs: 0, value: 50 }, // samples 0–2 s off: 3 s
      { atMs: 3000, value: 0 }, // sample at 3 s right
      { atMs: 4000, value: 50 }, // samples 4–5 s off: 2 s
      { atMs: 6000, value: 0 },
    ];
    expect(stalenessReport({ ...base, truth, displayed }).maxStaleSeconds).toBe(3);
  });

  it("ends a stretch at the end of its glance: the last sample stands only for the rest of the glance", () => {
    const truth: Timeline = [{ atMs: 0, value: 0 }];
    const displayed: Timeline = [{ atMs: 0, value: 100 }];
    const glances = [
      { startMs: 0, endMs: 2500 }, // samples at 0, 1, 2 s; the last stands for 0.5 s → 2.5 s
      { startMs: 3000, endMs: 5000 }, // samples at 3, 4 s → 2 s, not joined with the glance before
    ];
    expect(stalenessReport({ ...base, truth, displayed, glances }).maxStaleSeconds).toBe(2.5);
  });

  it("samples from the glance's start, so a display updated 100 ms after the user looks counts 1 s stale", () => {
    const truth: Timeline = [{ atMs: 0, value: 2000 }];
    const displayed: Timeline = [{ atMs: 0, value: 0 }, { atMs: 600, value: 2000 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: 500, endMs: 6500 }] });
    // Samples at 0.5, 1.5, … 5.5 s: only the first (at the glance's start) is off.
    expect(report.maxStaleSeconds).toBe(1);
    // 6 samples, one off by 2000 W: p50 0, p99 the 6th smallest = 2000.
    expect(report.p50W).toBe(0);
    expect(report.p99W).toBe(2000);
  });

  it("ignores errors while nobody looks", () => {
    const truth: Timeline = [{ atMs: 0, value: 0 }, { atMs: 10_000, value: 5000 }, { atMs: 50_000, value: 0 }];
    const displayed: Timeline = [{ atMs: 0, value: 0 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: 60_000, endMs: 70_000 }] });
    expect(report).toMatchObject({ p50W: 0, p99W: 0, maxStaleSeconds: 0 });
  });

  it("honours another sample interval", () => {
    const truth: Timeline = [{ atMs: 0, value: 0 }, { atMs: 1000, value: 300 }];
    const displayed: Timeline = [{ atMs: 0, value: 0 }, { atMs: 1600, value: 300 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: 0, endMs: 5000 }], sampleMs: 250 });
    // Samples at 1000, 1250, 1500 ms are off → 3 × 250 ms.
    expect(report.maxStaleSeconds).toBe(0.75);
  });

  it("counts a blank display (nothing delivered yet) as stale but leaves it out of p50/p99", () => {
    const truth: Timeline = [{ atMs: 0, value: 1000 }];
    const displayed: Timeline = [{ atMs: 3000, value: 1000 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: 0, endMs: 10_000 }] });
    expect(report.maxStaleSeconds).toBe(3);
    expect(report.p99W).toBe(0);
  });

  it("does not judge samples before the truth is known", () => {
    const truth: Timeline = [{ atMs: 5000, value: 1000 }];
    const displayed: Timeline = [{ atMs: 0, value: 0 }, { atMs: 5000, value: 1000 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: 0, endMs: 10_000 }] });
    expect(report).toMatchObject({ p50W: 0, p99W: 0, maxStaleSeconds: 0 });
  });

  it("clips glances to the run and reads unsorted timelines (the later of two points at one time wins)", () => {
    const truth: Timeline = [{ atMs: 4000, value: 0 }, { atMs: 0, value: 0 }];
    const displayed: Timeline = [{ atMs: 0, value: 0 }, { atMs: 2000, value: 900 }, { atMs: 2000, value: 0 }];
    const report = stalenessReport({ ...base, truth, displayed, glances: [{ startMs: -5000, endMs: 200_000 }], endMs: 10_000 });
    expect(report).toMatchObject({ p50W: 0, p99W: 0, maxStaleSeconds: 0 });
  });

  it("reports zeros when nobody looked", () => {
    const report = stalenessReport({ ...base, truth: [{ atMs: 0, value: 0 }], displayed: [{ atMs: 0, value: 999 }], glances: [] });
    expect(report).toMatchObject({ p50W: 0, p99W: 0, maxStaleSeconds: 0 });
  });

  it("rejects a run that ends before it starts and a sample interval of zero", () => {
    expect(() => stalenessReport({ ...base, truth: [], displayed: [], startMs: 10, endMs: 0 })).toThrow(RangeError);
    expect(() => stalenessReport({ ...base, truth: [], displayed: [], sampleMs: 0 })).toThrow(/sampleMs/);
  });
});

describe("stalenessReport: while not looking", () => {
  const run = { truth: [{ atMs: 0, value: 0 }], displayed: [{ atMs: 0, value: 0 }], startMs: 0, endMs: 2_000_000 } as const;

  it("reports the longest gap between deliveries, up to the end of the run", () => {
    const report = stalenessReport({ ...run, refreshes: [0, 600_000, 1_500_000], glances: [] });
    // Gaps: 600 000, 900 000, and 500 000 to the end.
    expect(report.maxAgeNotLookingMs).toBe(900_000);
  });

  it("does not count the age while the user looks", () => {
    const report = stalenessReport({ ...run, refreshes: [0, 600_000, 1_500_000], glances: [{ startMs: 700_000, endMs: 1_600_000 }] });
    // Not looking in [0, 700 000): 600 000 before the second refresh, then 100 000.
    // Not looking in [1 600 000, 2 000 000): 2 000 000 − 1 500 000 = 500 000.
    expect(report.maxAgeNotLookingMs).toBe(600_000);
  });

  it("measures the age when the user stops looking from the last delivery, even one during the glance", () => {
    const report = stalenessReport({ ...run, refreshes: [0, 1_000_000], glances: [{ startMs: 100_000, endMs: 1_100_000 }] });
    // Before the glance: 100 000; after it: 2 000 000 − 1 000 000.
    expect(report.maxAgeNotLookingMs).toBe(1_000_000);
  });

  it("takes the age of a delivery before the run into account", () => {
    const report = stalenessReport({ ...run, refreshes: [-300_000, 1_000_000], glances: [] });
    expect(report.maxAgeNotLookingMs).toBe(1_300_000);
  });

  it("counts from the start of the run when nothing was delivered", () => {
    expect(stalenessReport({ ...run, refreshes: [], glances: [] }).maxAgeNotLookingMs).toBe(2_000_000);
  });

  it("is within the idle interval for deliveries exactly every 15 minutes", () => {
    const refreshes = Array.from({ length: 97 }, (_, i) => i * 15 * MIN);
    const report = stalenessReport({ ...run, endMs: DAY, refreshes, glances: [] });
    expect(report.maxAgeNotLookingMs).toBe(15 * MIN);
  });
});

describe("stalenessReport: speed", () => {
  it("handles a day of 1-second truth with 60 glances, and an always-on day (86 400 samples), without a quadratic blow-up", () => {
    const truth: Timeline = Array.from({ length: 86_400 }, (_, s) => ({ atMs: s * 1000, value: Math.round(3000 * Math.sin(s / 600)) }));
    const displayed: Timeline = truth.filter((_, s) => s % 900 === 0);
    const refreshes = displayed.map((p) => p.atMs);
    const glances = glancePattern({ seed: 1, perDay: 60, startMs: 0, durationMs: DAY });
    for (const g of [glances, [{ startMs: 0, endMs: DAY }]]) {
      const started = performance.now();
      const report = stalenessReport({ truth, displayed, refreshes, glances: g, startMs: 0, endMs: DAY });
      // Linear work takes tens of ms; a scan of the timelines per sample would take minutes. The bound leaves room for a loaded machine.
      expect(performance.now() - started).toBeLessThan(2000);
      expect(report.p99W).toBeGreaterThan(0);
    }
  });
});
