import { describe, expect, it } from "vitest";
import { Battery } from "../../src/sim/battery.js";
import { seededRandom } from "../../src/sim/random.js";

const SPEC = { capacityKwh: 10, powerKw: 5 } as const;
const ONE_WAY = Math.sqrt(0.9);

describe("Battery", () => {
  it("starts half full by default and clamps the initial state of charge to 0…1", () => {
    expect(new Battery(SPEC).soc).toBe(0.5);
    expect(new Battery(SPEC, 0.2).soc).toBeCloseTo(0.2, 12);
    expect(new Battery(SPEC, 1.7).soc).toBe(1);
    expect(new Battery(SPEC, -0.4).soc).toBe(0);
  });

  it("charges from a surplus below its power limit with the whole surplus, storing it minus the one-way loss", () => {
    const battery = new Battery(SPEC, 0.5);
    expect(battery.step(2_000, 3_600)).toEqual({ chargeW: 2_000, dischargeW: 0 });
    // 2 kWh in, √0.9 of it stored: 5 kWh + 1.897 kWh of 10 kWh.
    expect(battery.soc).toBeCloseTo((5_000 + 2_000 * ONE_WAY) / 10_000, 9);
  });

  it("discharges into a deficit, drawing the delivered energy plus the one-way loss", () => {
    const battery = new Battery(SPEC, 0.5);
    expect(battery.step(-1_000, 3_600)).toEqual({ chargeW: 0, dischargeW: 1_000 });
    expect(battery.soc).toBeCloseTo((5_000 - 1_000 / ONE_WAY) / 10_000, 9);
  });

  it("never charges or discharges beyond its power limit", () => {
    const battery = new Battery(SPEC, 0.5);
    expect(battery.step(8_000, 60)).toEqual({ chargeW: 5_000, dischargeW: 0 });
    expect(battery.step(-12_000, 60)).toEqual({ chargeW: 0, dischargeW: 5_000 });
  });

  it("does nothing over a step of no time", () => {
    const battery = new Battery(SPEC, 0.5);
    expect(battery.step(3_000, 0)).toEqual({ chargeW: 0, dischargeW: 0 });
    expect(battery.step(-3_000, -5)).toEqual({ chargeW: 0, dischargeW: 0 });
    expect(battery.soc).toBe(0.5);
  });

  it("fills up to exactly its capacity and then takes no more", () => {
    const battery = new Battery(SPEC, 0.9);
    // 1 kWh of room: 2 h at 5 kW would be 9.5 kWh stored; the first hour fills it.
    const first = battery.step(5_000, 3_600);
    expect(first.chargeW).toBeCloseTo(1_000 / ONE_WAY, 6);
    expect(battery.soc).toBeCloseTo(1, 12);
    expect(battery.soc).toBeLessThanOrEqual(1);
    expect(battery.step(5_000, 3_600)).toEqual({ chargeW: 0, dischargeW: 0 });
    expect(battery.soc).toBeCloseTo(1, 12);
  });

  it("empties down to exactly 0 and then delivers nothing", () => {
    const battery = new Battery(SPEC, 0.1);
    const first = battery.step(-5_000, 3_600);
    // 1 kWh stored delivers √0.9 kWh.
    expect(first.dischargeW).toBeCloseTo(1_000 * ONE_WAY, 6);
    expect(battery.soc).toBeCloseTo(0, 12);
    expect(battery.soc).toBeGreaterThanOrEqual(0);
    const after = battery.step(-5_000, 3_600);
    expect(after.chargeW).toBe(0);
    expect(after.dischargeW).toBeCloseTo(0, 9);
  });

  it("returns 90 % of the energy put in over a full cycle (round-trip efficiency)", () => {
    const battery = new Battery(SPEC, 0);
    let inWh = 0;
    for (let minute = 0; minute < 60; minute += 1) inWh += (battery.step(4_000, 60).chargeW * 60) / 3_600;
    expect(inWh).toBeCloseTo(4_000, 6);
    let outWh = 0;
    for (let minute = 0; minute < 24 * 60; minute += 1) outWh += (battery.step(-700, 60).dischargeW * 60) / 3_600;
    expect(battery.soc).toBeCloseTo(0, 9);
    expect(outWh / inWh).toBeCloseTo(0.9, 6);
  });

  it("stays within capacity and power, and never charges and discharges at once, under random surpluses and deficits", () => {
    const random = seededRandom(99);
    const battery = new Battery({ capacityKwh: 2.5, powerKw: 3 }, 0.3);
    let sawFull = false;
    let sawEmpty = false;
    const violations: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const surplusW = (random() * 2 - 1) * 9_000;
      const seconds = 1 + random() * 1_800;
      const { chargeW, dischargeW } = battery.step(surplusW, seconds);
      const soc = battery.soc;
      if (chargeW < 0 || dischargeW < 0) violations.push(`negative flow at ${i}`);
      if (chargeW > 3_000 || dischargeW > 3_000) violations.push(`beyond 3 kW at ${i}: ${chargeW}/${dischargeW}`);
      if (chargeW > 0 && dischargeW > 0) violations.push(`both at ${i}`);
      if (surplusW > 0 ? chargeW > surplusW : dischargeW > -surplusW) violations.push(`more than asked at ${i}`);
      if (soc < 0 || soc > 1) violations.push(`soc ${soc} at ${i}`);
      sawFull ||= soc > 0.999;
      sawEmpty ||= soc < 0.001;
    }
    expect(violations).toEqual([]);
    // The limits were actually reached, so the bounds above were exercised.
    expect(sawFull).toBe(true);
    expect(sawEmpty).toBe(true);
  });
});
