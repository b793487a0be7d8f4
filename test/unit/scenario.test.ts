import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MAX_METERS_PER_SCENARIO,
  type Scenario,
  ScenarioError,
  communityIdOf,
  defaultScenario,
  describeCommunity,
  meterIdOf,
  parseScenario,
} from "../../src/sim/scenario.js";

const SCENARIOS = new URL("../../fixtures/scenarios/", import.meta.url);
const FILES = readdirSync(SCENARIOS).filter((f) => f.endsWith(".json")).sort();
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`${name}.json`, SCENARIOS), "utf8"));
const village = (): Scenario => parseScenario(fixture("village"));

/** A valid scenario to break one field of. */
function valid(): Record<string, unknown> {
  return {
    name: "test",
    location: { latitude: 48, longitude: 11 },
    groups: [
      { count: 3, kind: "household", annualKwh: [2_000, 4_000] },
      { count: 2, kind: "household", annualKwh: 3_000, pvKwp: 5 },
      { count: 1, kind: "business", annualKwh: 50_000, pvKwp: [20, 40], battery: { capacityKwh: 50, powerKw: 25 } },
    ],
  };
}

function scenarioError(value: unknown): ScenarioError {
  try {
    parseScenario(value);
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw new Error(`expected a ScenarioError, got ${String(err)}`);
  }
  throw new Error("expected the scenario to be rejected");
}

/** `valid()` with `edit` applied. */
function broken(edit: (s: any) => void): unknown {
  const s = valid();
  edit(s);
  return s;
}

describe("parseScenario: the shipped scenarios", () => {
  it("ships village, apartment-block, business-park and mixed-cadence", () => {
    expect(FILES).toEqual(["apartment-block.json", "business-park.json", "mixed-cadence.json", "village.json"]);
  });

  it.each(FILES)("parses fixtures/scenarios/%s, named after its file", (file) => {
    const scenario = parseScenario(JSON.parse(readFileSync(new URL(file, SCENARIOS), "utf8")));
    expect(scenario.name).toBe(file.replace(/\.json$/, ""));
    expect(scenario.groups.length).toBeGreaterThan(0);
    expect(scenario.description).toEqual(expect.any(String));
  });

  it("village: 40 households, 15 with PV, 5 with batteries, 4 EVs", () => {
    const spec = describeCommunity(village(), 0, 1);
    expect(spec.meters).toHaveLength(40);
    expect(spec.meters.every((m) => m.kind === "household")).toBe(true);
    expect(spec.meters.filter((m) => m.battery).length).toBe(5);
    expect(spec.meters.filter((m) => m.ev).length).toBe(4);
    expect(spec.meters.filter((m) => m.pvKwp > 0).length).toBe(15);
  });

  it("village: every battery sits behind PV", () => {
    const spec = describeCommunity(village(), 0, 1);
    for (const meter of spec.meters.filter((m) => m.battery)) expect(meter.pvKwp).toBeGreaterThan(0);
  });
});

describe("parseScenario: validation names the bad field", () => {
  it("accepts a valid scenario and keeps ranges as [min, max]", () => {
    const scenario = parseScenario(valid());
    expect(scenario).toEqual({
      name: "test",
      location: { latitude: 48, longitude: 11 },
      groups: [
        { count: 3, kind: "household", annualKwh: [2_000, 4_000] },
        { count: 2, kind: "household", annualKwh: 3_000, pvKwp: 5 },
        { count: 1, kind: "business", annualKwh: 50_000, pvKwp: [20, 40], battery: { capacityKwh: 50, powerKw: 25 } },
      ],
    });
  });

  it.each<[string, (s: any) => void, string]>([
    ["a latitude beyond 90°", (s) => (s.location.latitude = 91), "location.latitude"],
    ["a latitude given as a range", (s) => (s.location.latitude = [47, 49]), "location.latitude"],
    ["a longitude that is text", (s) => (s.location.longitude = "11"), "location.longitude"],
    ["a missing location", (s) => delete s.location, "location"],
    ["an empty name", (s) => (s.name = " "), "name"],
    ["a description that is not text", (s) => (s.description = 5), "description"],
    ["no groups", (s) => (s.groups = []), "groups"],
    ["a count of 0", (s) => (s.groups[0].count = 0), "groups[0].count"],
    ["a fractional count", (s) => (s.groups[0].count = 2.5), "groups[0].count"],
    ["a count given as text", (s) => (s.groups[1].count = "2"), "groups[1].count"],
    ["an unknown kind", (s) => (s.groups[0].kind = "factory"), "groups[0].kind"],
    ["a missing annualKwh", (s) => delete s.groups[1].annualKwh, "groups[1].annualKwh"],
    ["a reversed range", (s) => (s.groups[0].annualKwh = [4_000, 2_000]), "groups[0].annualKwh"],
    ["a range of three numbers", (s) => (s.groups[0].annualKwh = [1, 2, 3]), "groups[0].annualKwh"],
    ["a negative pvKwp", (s) => (s.groups[1].pvKwp = -1), "groups[1].pvKwp"],
    ["a battery of 0 kWh", (s) => (s.groups[2].battery.capacityKwh = 0), "groups[2].battery.capacityKwh"],
    ["a battery without power", (s) => delete s.groups[2].battery.powerKw, "groups[2].battery.powerKw"],
    ["a battery that is not an object", (s) => (s.groups[2].battery = 10), "groups[2].battery"],
    ["an EV charger below 1 kW", (s) => (s.groups[0].ev = { chargeKw: 0.5, dailyKwh: 10 }), "groups[0].ev.chargeKw"],
    ["an EV's daily kWh that is NaN", (s) => (s.groups[0].ev = { chargeKw: 11, dailyKwh: Number.NaN }), "groups[0].ev.dailyKwh"],
    ["a heat pump that is a list", (s) => (s.groups[1].heatPump = []), "groups[1].heatPump"],
    ["a heat pump without heat loss", (s) => (s.groups[1].heatPump = { electricKw: 2 }), "groups[1].heatPump.heatLossWPerK"],
    ["a group that is not an object", (s) => (s.groups[1] = "household"), "groups[1]"],
    ["an interval of 0 ms", (s) => (s.groups[1].intervalMs = 0), "groups[1].intervalMs"],
    ["a fractional interval", (s) => (s.groups[1].intervalMs = 1_500.5), "groups[1].intervalMs"],
    ["an interval given as a duration text", (s) => (s.groups[1].intervalMs = "15m"), "groups[1].intervalMs"],
    ["an interval longer than a day", (s) => (s.groups[0].intervalMs = 86_400_001), "groups[0].intervalMs"],
    ["an interval given as a range", (s) => (s.groups[0].intervalMs = [1_000, 2_000]), "groups[0].intervalMs"],
    ["averaged as text", (s) => (s.groups[2].averaged = "yes"), "groups[2].averaged"],
    ["averaged without an interval", (s) => (s.groups[2].averaged = true), "groups[2].averaged"],
    ["an averaged interval of fractional seconds", (s) => Object.assign(s.groups[1], { intervalMs: 900_500, averaged: true }), "groups[1].intervalMs"],
  ])("rejects %s, naming the field", (_, edit, field) => {
    const err = scenarioError(broken(edit));
    expect(err.message.startsWith(`${field} `)).toBe(true);
  });

  it("keeps a group's intervalMs and averaged, and gives them to its meters without drawing (the other draws stay)", () => {
    const paced = broken((s) => Object.assign(s.groups[1], { intervalMs: 900_000, averaged: true }));
    const scenario = parseScenario(paced);
    expect(scenario.groups[1]).toEqual({ count: 2, kind: "household", annualKwh: 3_000, pvKwp: 5, intervalMs: 900_000, averaged: true });
    expect(parseScenario(broken((s) => (s.groups[0].intervalMs = 2_000))).groups[0]).toMatchObject({ intervalMs: 2_000 });
    const plain = describeCommunity(parseScenario(valid()), 0, 1).meters;
    const meters = describeCommunity(scenario, 0, 1).meters;
    expect(meters.map(({ intervalMs: _i, averaged: _a, ...rest }) => rest)).toEqual(plain);
    expect(meters.map((m) => [m.intervalMs, m.averaged])).toEqual([[undefined, undefined], [undefined, undefined], [undefined, undefined], [900_000, true], [900_000, true], [undefined, undefined]]);
  });

  it("says what an interval must be", () => {
    expect(scenarioError(broken((s) => (s.groups[0].intervalMs = -1))).message).toBe("groups[0].intervalMs must be a whole number of milliseconds from 1 to 86400000");
    expect(scenarioError(broken((s) => (s.groups[0].averaged = true))).message).toBe("groups[0].averaged needs groups[0].intervalMs, the interval its power is the mean over");
  });

  it("rejects a scenario that is not a JSON object", () => {
    expect(scenarioError([]).message).toBe("the scenario must be a JSON object");
    expect(scenarioError(null).message).toBe("the scenario must be a JSON object");
  });

  it("rejects more meters in all groups than a scenario may hold, with the total", () => {
    const err = scenarioError(broken((s) => (s.groups = [
      { count: MAX_METERS_PER_SCENARIO, kind: "household", annualKwh: 3_000 },
      { count: 1, kind: "household", annualKwh: 3_000 },
    ])));
    expect(err.message).toContain(String(MAX_METERS_PER_SCENARIO + 1));
  });

  it("says what a number field must be", () => {
    expect(scenarioError(broken((s) => (s.groups[2].battery.capacityKwh = -3))).message).toBe(
      "groups[2].battery.capacityKwh must be a number from 0.1 to 100000, or [min, max] within that",
    );
  });
});

describe("describeCommunity", () => {
  it("is the same for the same seed and index, and differs for another seed", () => {
    expect(describeCommunity(village(), 2, 7)).toEqual(describeCommunity(village(), 2, 7));
    expect(describeCommunity(village(), 2, 8).meters).not.toEqual(describeCommunity(village(), 2, 7).meters);
  });

  it("puts community 1 at the scenario's location and shifts the others within ±1° lat, ±2° lon", () => {
    const scenario = village();
    const first = describeCommunity(scenario, 0, 3);
    expect(first.communityId).toBe("community1");
    expect([first.latitudeDeg, first.longitudeDeg]).toEqual([48.14, 11.58]);
    const others = Array.from({ length: 8 }, (_, i) => describeCommunity(scenario, i + 1, 3));
    others.forEach((spec, i) => {
      expect(spec.communityId).toBe(`community${i + 2}`);
      expect(Math.abs(spec.latitudeDeg - 48.14)).toBeLessThanOrEqual(1);
      expect(Math.abs(spec.longitudeDeg - 11.58)).toBeLessThanOrEqual(2);
      expect(spec.latitudeDeg === 48.14 && spec.longitudeDeg === 11.58).toBe(false);
    });
    expect(new Set(others.map((s) => s.latitudeDeg)).size).toBe(8);
  });

  it("keeps a shifted community's latitude within ±89°", () => {
    const polar = parseScenario(broken((s) => (s.location.latitude = 89.9)));
    for (let i = 1; i < 20; i += 1) expect(describeCommunity(polar, i, 1).latitudeDeg).toBeLessThanOrEqual(89);
  });

  it("numbers meters meter001… in group order and draws each value within its range", () => {
    const spec = describeCommunity(village(), 0, 5);
    expect(spec.meters.map((m) => m.meterId)).toEqual(Array.from({ length: 40 }, (_, i) => meterIdOf(i)));
    // Group 0 of the village: 18 households of 2,000–5,000 kWh/a without PV.
    for (const meter of spec.meters.slice(0, 18)) {
      expect(Number.isInteger(meter.annualKwh)).toBe(true);
      expect(meter.annualKwh).toBeGreaterThanOrEqual(2_000);
      expect(meter.annualKwh).toBeLessThanOrEqual(5_000);
      expect(meter.pvKwp).toBe(0);
    }
    // Group 2: batteries of 5–10 kWh and 2.5–5 kW, PV of 6–10 kWp, one decimal.
    for (const meter of spec.meters.slice(26, 31)) {
      expect(meter.battery!.capacityKwh).toBeGreaterThanOrEqual(5);
      expect(meter.battery!.capacityKwh).toBeLessThanOrEqual(10);
      expect(meter.battery!.powerKw).toBeGreaterThanOrEqual(2.5);
      expect(meter.battery!.powerKw).toBeLessThanOrEqual(5);
      expect(meter.pvKwp).toBeGreaterThanOrEqual(6);
      expect(meter.pvKwp).toBeLessThanOrEqual(10);
      expect(Math.round(meter.pvKwp * 10)).toBeCloseTo(meter.pvKwp * 10, 9);
    }
    // Draws differ between meters of a group.
    expect(new Set(spec.meters.slice(0, 18).map((m) => m.annualKwh)).size).toBeGreaterThan(10);
  });

  it("gives a fixed value to every meter of the group", () => {
    const spec = describeCommunity(parseScenario(valid()), 0, 1);
    expect(spec.meters.slice(3, 5).map((m) => [m.annualKwh, m.pvKwp])).toEqual([[3_000, 5], [3_000, 5]]);
    expect(spec.meters[5]).toMatchObject({ kind: "business", annualKwh: 50_000, battery: { capacityKwh: 50, powerKw: 25 } });
  });
});

describe("defaultScenario", () => {
  it("has 20 meters, 8 of them with 3–10 kWp of PV, for 20", () => {
    const spec = describeCommunity(defaultScenario(20), 0, 1);
    expect(spec.meters).toHaveLength(20);
    const pv = spec.meters.filter((m) => m.pvKwp > 0);
    expect(pv).toHaveLength(8);
    for (const meter of pv) {
      expect(meter.pvKwp).toBeGreaterThanOrEqual(3);
      expect(meter.pvKwp).toBeLessThanOrEqual(10);
    }
    for (const meter of spec.meters) {
      expect(meter.annualKwh).toBeGreaterThanOrEqual(2_000);
      expect(meter.annualKwh).toBeLessThanOrEqual(6_000);
    }
  });

  it("is itself a valid scenario", () => {
    expect(parseScenario(JSON.parse(JSON.stringify(defaultScenario(20))))).toEqual(defaultScenario(20));
  });

  it("leaves out an empty group: one meter has no PV", () => {
    expect(defaultScenario(1).groups).toEqual([{ count: 1, kind: "household", annualKwh: [2_000, 6_000] }]);
  });
});

describe("ids", () => {
  it("numbers communities from 1 and meters from 001", () => {
    expect(communityIdOf(0)).toBe("community1");
    expect(communityIdOf(9)).toBe("community10");
    expect(meterIdOf(0)).toBe("meter001");
    expect(meterIdOf(41)).toBe("meter042");
    expect(meterIdOf(1_233)).toBe("meter1234");
  });
});

describe("misspelt scenario fields", () => {
  const valid = { name: "s", location: { latitude: 48, longitude: 11 }, groups: [{ count: 1, kind: "household", annualKwh: 3000 }] };
  it.each([
    [{ ...valid, colour: "red" }, "colour is not a known field"],
    [{ ...valid, location: { latitude: 48, longitude: 11, altitude: 500 } }, "location.altitude is not a known field"],
    [{ ...valid, groups: [{ count: 1, kind: "household", annualKwh: 3000, pvKWp: 5 }] }, "groups[0].pvKWp is not a known field"],
    [{ ...valid, groups: [{ count: 1, kind: "household", annualKwh: 3000, battery: { capacityKwh: 5, powerKw: 2, soc: 1 } }] }, "groups[0].battery.soc is not a known field"],
  ])("%j is refused, naming the field", (scenario, message) => {
    expect(() => parseScenario(scenario)).toThrow(message);
  });
});
