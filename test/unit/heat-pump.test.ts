import { describe, expect, it } from "vitest";
import { HeatPump, coefficientOfPerformance } from "../../src/sim/heat-pump.js";

const SPEC = { electricKw: 2, heatLossWPerK: 150 } as const;
const STEP_S = 60;

/** Electrical power per 60 s step over `hours` at a constant outdoor temperature. */
function run(pump: HeatPump, outdoorC: number, hours: number): number[] {
  return Array.from({ length: (hours * 3_600) / STEP_S }, () => pump.powerW(outdoorC, STEP_S));
}

const kwh = (watts: readonly number[]): number => watts.reduce((s, w) => s + w, 0) * (STEP_S / 3_600) / 1_000;

describe("coefficientOfPerformance", () => {
  it("is 3 at 0 °C and better when it is milder", () => {
    expect(coefficientOfPerformance(0)).toBeCloseTo(3, 12);
    expect(coefficientOfPerformance(10)).toBeCloseTo(3.8, 12);
    expect(coefficientOfPerformance(-10)).toBeCloseTo(2.2, 12);
  });

  it("is bounded to 1.8 in deep frost and 5 when warm", () => {
    expect(coefficientOfPerformance(-15)).toBeCloseTo(1.8, 12);
    expect(coefficientOfPerformance(-40)).toBe(1.8);
    expect(coefficientOfPerformance(25)).toBe(5);
    expect(coefficientOfPerformance(40)).toBe(5);
  });

  it("never decreases as it gets warmer", () => {
    for (let c = -30; c < 40; c += 0.5) expect(coefficientOfPerformance(c + 0.5)).toBeGreaterThanOrEqual(coefficientOfPerformance(c));
  });
});

describe("HeatPump", () => {
  it("draws nothing at or above 16 °C outside", () => {
    const pump = new HeatPump(SPEC);
    expect(run(pump, 16, 24).every((w) => w === 0)).toBe(true);
    expect(run(pump, 25, 24).every((w) => w === 0)).toBe(true);
    expect(pump.isRunning).toBe(false);
  });

  it("stops at once when the weather turns warm while it is running", () => {
    const pump = new HeatPump(SPEC);
    // Starts at the setpoint, off: at −5 °C it switches on within the first hour.
    const firstOn = run(pump, -5, 1).findIndex((w) => w > 0);
    expect(firstOn).toBeGreaterThan(0);
    expect(pump.isRunning).toBe(true);
    expect(pump.powerW(17, STEP_S)).toBe(0);
    expect(pump.isRunning).toBe(false);
  });

  it("cycles on and off at 0 °C: both states over a day, full power when on", () => {
    const watts = run(new HeatPump(SPEC), 0, 24);
    expect(new Set(watts)).toEqual(new Set([0, 2_000]));
    let switchesOn = 0;
    for (let i = 1; i < watts.length; i += 1) if (watts[i]! > 0 && watts[i - 1] === 0) switchesOn += 1;
    // A 0.5 K band at a few hundredths of a kelvin per minute: on for about half an hour at a time.
    expect(switchesOn).toBeGreaterThanOrEqual(10);
    expect(switchesOn).toBeLessThanOrEqual(40);
  });

  it("runs about as much as the heat loss needs at 0 °C (duty ≈ loss / (power × COP))", () => {
    const watts = run(new HeatPump(SPEC), 0, 48).slice(24 * 60);
    const duty = watts.filter((w) => w > 0).length / watts.length;
    // 150 W/K × ~20.75 K / (2 kW × 3) ≈ 0.52.
    expect(duty).toBeGreaterThan(0.45);
    expect(duty).toBeLessThan(0.6);
  });

  it("uses more electricity on a colder day", () => {
    const mild = kwh(run(new HeatPump(SPEC), 8, 24));
    const cold = kwh(run(new HeatPump(SPEC), 0, 24));
    const frost = kwh(run(new HeatPump(SPEC), -8, 24));
    expect(mild).toBeGreaterThan(0);
    expect(cold).toBeGreaterThan(mild * 1.3);
    expect(frost).toBeGreaterThan(cold * 1.3);
  });

  it("runs without pause once on when it is too small for the frost", () => {
    // 1 kW × COP 1.8 = 1.8 kW of heat against 150 W/K × 36 K = 5.4 kW of loss.
    const watts = run(new HeatPump({ electricKw: 1, heatLossWPerK: 150 }), -15, 24);
    const firstOn = watts.findIndex((w) => w > 0);
    expect(firstOn).toBeGreaterThan(0);
    expect(watts.slice(firstOn).every((w) => w === 1_000)).toBe(true);
  });
});
