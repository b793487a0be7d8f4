import { describe, expect, it } from "vitest";
import { DEFAULT_ENERGY, type EnergyParams, energyReport } from "../../src/wear-emu/energy-model.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Round numbers so that the expected figures can be worked out by hand. */
const params: EnergyParams = {
  wakeupMj: 10,
  radioMjPerKb: 0.5,
  radioTailMs: 300,
  radioTailMw: 20,
  screenOnMw: 50,
  batteryMah: 300,
  batteryVolts: 4,
};

/** Only the radio tail costs anything. */
const tailOnly: EnergyParams = { ...params, wakeupMj: 0, radioMjPerKb: 0, screenOnMw: 0 };

const everyMinute = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ atMs: i * 60_000, bytes }));

describe("energyReport", () => {
  it("turns 10 wake-ups of 1 KB and a minute of screen in an hour into mAh and % per day", () => {
    const report = energyReport({ durationMs: HOUR, wakeups: everyMinute(10, 1024), screenOnMs: 60_000 }, params);
    // Per hour: wake-ups 10 × 10 = 100 mJ; radio 10 × 0.5 = 5 mJ + tails 10 × 0.3 s × 20 mW = 60 mJ;
    // screen 60 s × 50 mW = 3000 mJ. Per day (× 24): 2400 + 1560 + 72 000 = 75 960 mJ.
    expect(report.breakdownMjPerDay.wakeups).toBeCloseTo(2400, 9);
    expect(report.breakdownMjPerDay.radio).toBeCloseTo(1560, 9);
    expect(report.breakdownMjPerDay.screen).toBeCloseTo(72_000, 9);
    // 75 960 mJ / (4 V × 3600) = 5.275 mAh; / 300 mAh = 1.758 33… %.
    expect(report.mAhPerDay).toBeCloseTo(5.275, 9);
    expect(report.batteryPercentPerDay).toBeCloseTo(1.758_333_333, 8);
    expect(report.wakeupsPerHour).toBe(10);
    expect(report.bytesPerHour).toBe(10_240);
  });

  it("scales a half-hour run to an hour and a day", () => {
    const report = energyReport({ durationMs: HOUR / 2, wakeups: everyMinute(10, 2048), screenOnMs: 0 }, params);
    expect(report.wakeupsPerHour).toBe(20);
    expect(report.bytesPerHour).toBe(40_960);
    // 10 × 10 mJ in half an hour → × 48 per day.
    expect(report.breakdownMjPerDay.wakeups).toBeCloseTo(4800, 9);
  });

  it("merges overlapping radio tails: transfers at 0, 100 and 200 ms keep the radio on for 500 ms, not 900", () => {
    const report = energyReport({ durationMs: DAY, wakeups: [0, 100, 200].map((atMs) => ({ atMs, bytes: 0 })), screenOnMs: 0 }, tailOnly);
    // 0.5 s × 20 mW = 10 mJ.
    expect(report.breakdownMjPerDay.radio).toBeCloseTo(10, 9);
  });

  it("counts separate tails in full and does not care about the order of the wake-ups", () => {
    const report = energyReport({ durationMs: DAY, wakeups: [5000, 0, 1000].map((atMs) => ({ atMs, bytes: 0 })), screenOnMs: 0 }, tailOnly);
    // Three separate 0.3 s tails at 20 mW = 18 mJ.
    expect(report.breakdownMjPerDay.radio).toBeCloseTo(18, 9);
  });

  it("costs nothing for a run without deliveries or screen time", () => {
    const report = energyReport({ durationMs: HOUR, wakeups: [], screenOnMs: 0 }, params);
    expect(report).toEqual({
      wakeupsPerHour: 0,
      bytesPerHour: 0,
      mAhPerDay: 0,
      batteryPercentPerDay: 0,
      breakdownMjPerDay: { wakeups: 0, radio: 0, screen: 0 },
    });
  });

  it("rejects a run of no length", () => {
    expect(() => energyReport({ durationMs: 0, wakeups: [], screenOnMs: 0 })).toThrow(/durationMs/);
  });

  it("uses the defaults when no parameters are given: one wake-up a second for a day with the defaults", () => {
    const report = energyReport({ durationMs: DAY, wakeups: Array.from({ length: 86_400 }, (_, i) => ({ atMs: i * 1000, bytes: 0 })), screenOnMs: 0 });
    // Per wake-up: 10 mJ + 0.3 s × 20 mW = 16 mJ → 1 382 400 mJ / (3.85 V × 3600) ≈ 99.74 mAh ≈ 33.2 % of 300 mAh.
    expect(report.mAhPerDay).toBeCloseTo(1_382_400 / (3.85 * 3600), 6);
    expect(report.batteryPercentPerDay).toBeCloseTo((100 * 1_382_400) / (3.85 * 3600 * 300), 6);
  });
});

describe("DEFAULT_ENERGY", () => {
  it("stays inside the ranges the estimates are based on and uses the issue's 300 mAh battery", () => {
    expect(DEFAULT_ENERGY.wakeupMj).toBeGreaterThanOrEqual(5);
    expect(DEFAULT_ENERGY.wakeupMj).toBeLessThanOrEqual(20);
    expect(DEFAULT_ENERGY.radioTailMs).toBeGreaterThanOrEqual(100);
    expect(DEFAULT_ENERGY.radioTailMs).toBeLessThanOrEqual(500);
    expect(DEFAULT_ENERGY.radioTailMw).toBeGreaterThanOrEqual(10);
    expect(DEFAULT_ENERGY.radioTailMw).toBeLessThanOrEqual(30);
    expect(DEFAULT_ENERGY.screenOnMw).toBeGreaterThanOrEqual(30);
    expect(DEFAULT_ENERGY.screenOnMw).toBeLessThanOrEqual(80);
    expect(DEFAULT_ENERGY.batteryMah).toBe(300);
    expect(DEFAULT_ENERGY.batteryVolts).toBe(3.85);
  });
});
