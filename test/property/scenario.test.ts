import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { isValidId } from "../../src/domain/ids.js";
import { UsageError } from "../../src/errors.js";
import { MAX_METERS_PER_SCENARIO, type Range, ScenarioError, describeCommunity, parseScenario } from "../../src/sim/scenario.js";
import { loadScenario } from "../../src/sim/setup.js";
import { anyJson, anyString } from "./arbitraries.js";
import { checkProperty } from "./property.js";

/** Every range field of a scenario with its documented bounds. */
const BOUNDS = {
  annualKwh: [0, 10_000_000],
  pvKwp: [0, 100_000],
  "battery.capacityKwh": [0.1, 100_000],
  "battery.powerKw": [0.1, 100_000],
  "ev.chargeKw": [1, 350],
  "ev.dailyKwh": [0, 10_000],
  "heatPump.electricKw": [0.1, 1_000],
  "heatPump.heatLossWPerK": [1, 100_000],
} as const;

const range = (min: number, max: number): fc.Arbitrary<Range> =>
  fc.oneof(
    fc.double({ min, max, noNaN: true }),
    fc.tuple(fc.double({ min, max, noNaN: true }), fc.double({ min, max, noNaN: true })).map(([a, b]): Range => (a <= b ? [a, b] : [b, a])),
  );

const ZONES = ["Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"];

type Json = Record<string, unknown>;

/** A scenario file as the docs describe it, with at most `maxCount` meters per group. */
const validScenario = (maxCount: number): fc.Arbitrary<Json> =>
  fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 20 }).filter((name) => name.trim() !== ""),
      description: fc.string({ maxLength: 30 }),
      timeZone: fc.constantFrom(...ZONES),
      location: fc.record({ latitude: fc.double({ min: -90, max: 90, noNaN: true }), longitude: fc.double({ min: -180, max: 180, noNaN: true }) }),
      groups: fc.array(
        fc.record(
          {
            count: fc.integer({ min: 1, max: maxCount }),
            kind: fc.constantFrom("household", "business"),
            annualKwh: range(...BOUNDS.annualKwh),
            pvKwp: range(...BOUNDS.pvKwp),
            battery: fc.record({ capacityKwh: range(...BOUNDS["battery.capacityKwh"]), powerKw: range(...BOUNDS["battery.powerKw"]) }),
            ev: fc.record({ chargeKw: range(...BOUNDS["ev.chargeKw"]), dailyKwh: range(...BOUNDS["ev.dailyKwh"]) }),
            heatPump: fc.record({ electricKw: range(...BOUNDS["heatPump.electricKw"]), heatLossWPerK: range(...BOUNDS["heatPump.heatLossWPerK"]) }),
          },
          { requiredKeys: ["count", "kind", "annualKwh"] },
        ),
        { minLength: 1, maxLength: 5 },
      ),
    },
    { requiredKeys: ["name", "location", "groups"] },
  );

/** A value no range field may take. */
const badRange = (min: number, max: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.double({ max: min, noNaN: true }).filter((n) => n < min),
    fc.double({ min: max, noNaN: true }).filter((n) => n > max),
    fc.constantFrom(Number.NaN, null, "5", true, [], [min], [min, max, max], { min, max }),
    fc.tuple(fc.double({ min, max, noNaN: true }), fc.double({ min, max, noNaN: true })).filter(([a, b]) => a !== b).map(([a, b]) => (a > b ? [a, b] : [b, a])),
    fc.tuple(fc.double({ min, max, noNaN: true }), fc.double({ min: max, noNaN: true }).filter((n) => n > max)),
  );

/** Where a scenario can be spoiled (`#` stands for a group's index), and what spoils it. */
const SPOILERS: ReadonlyArray<readonly [string, fc.Arbitrary<unknown>]> = [
  ["name", fc.constantFrom("", "   ", 5, null, undefined, ["x"])],
  ["description", fc.constantFrom(5, null, true, { text: "x" })],
  ["timeZone", fc.constantFrom("Mars/Olympus", "", "Europe/Berlin ", 1, null, "../../etc/passwd")],
  ["location", fc.constantFrom(undefined, null, 5, "48,11", [48, 11])],
  // (A [min, max] pair within the bounds is refused too: a location is one point.)
  ["location.latitude", fc.oneof(badRange(-90, 90), fc.constant([1, 2]))],
  ["location.longitude", badRange(-180, 180)],
  ["groups", fc.constantFrom(undefined, null, [], {}, "all", 3)],
  ["groups[#]", fc.constantFrom(null, 5, "household", [])],
  ["groups[#].count", fc.constantFrom(0, -1, 1.5, MAX_METERS_PER_SCENARIO + 1, "3", null, undefined, Number.NaN)],
  ["groups[#].kind", fc.constantFrom("House", "", null, undefined, 5, "household ")],
  ...Object.entries(BOUNDS).map(([field, [min, max]]) => [`groups[#].${field}`, badRange(min, max)] as const),
  ...["battery", "ev", "heatPump"].map((object) => [`groups[#].${object}`, fc.constantFrom(null, 5, "yes", [1, 2])] as const),
];

/** One field of a valid scenario spoiled: the path the error must name, and the scenario. */
const spoiled: fc.Arbitrary<[string, Json]> = fc
  .tuple(validScenario(20), fc.nat(), fc.oneof(...SPOILERS.map(([path, bad]) => fc.tuple(fc.constant(path), bad))))
  .map(([scenario, groupPick, [pattern, value]]) => {
    const path = pattern.replace("#", String(groupPick % (scenario.groups as Json[]).length));
    const copy = structuredClone(scenario);
    const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    let at: Json = copy;
    for (const key of keys.slice(0, -1)) {
      // A nested field of an optional object that was left out: put the object in first.
      at[key] ??= Object.fromEntries(Object.entries(BOUNDS).filter(([f]) => f.startsWith(`${key}.`)).map(([f, [min]]) => [f.slice(key.length + 1), min]));
      at = at[key] as Json;
    }
    const last = keys.at(-1)!;
    if (value === undefined) delete at[last];
    else at[last] = value;
    return [path, copy];
  });

/** A misspelt field anywhere a known-field check applies. */
const misspelt: fc.Arbitrary<[string, Json]> = fc
  .tuple(validScenario(20), fc.constantFrom("", "location", "groups[0]", "groups[0].battery", "groups[0].ev", "groups[0].heatPump"), fc.constantFrom("pvKWp", "Name", "count ", "__proto__", "constructor", "x"))
  .map(([scenario, where, key]) => {
    const copy = structuredClone(scenario);
    const group = (copy.groups as Json[])[0]!;
    let target: Json;
    if (where === "") target = copy;
    else if (where === "location") target = copy.location as Json;
    else if (where === "groups[0]") target = group;
    else {
      const object = where.slice("groups[0].".length);
      // An optional object that was left out gets its fields, so that only the misspelt key is wrong.
      group[object] ??= Object.fromEntries(Object.entries(BOUNDS).filter(([f]) => f.startsWith(`${object}.`)).map(([f, [min]]) => [f.slice(object.length + 1), min]));
      target = group[object] as Json;
    }
    // As JSON.parse makes it: an own, enumerable property, even for `__proto__`.
    Object.defineProperty(target, key, { value: 1, enumerable: true, configurable: true, writable: true });
    return [where ? `${where}.${key}` : key, copy];
  });

function scenarioError(value: unknown): ScenarioError | undefined {
  try {
    parseScenario(value);
    return undefined;
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw new Error(`threw ${String(err)} instead of a ScenarioError`);
  }
}

describe("parseScenario", () => {
  it("never throws anything but a ScenarioError, whatever the JSON", () => {
    checkProperty(
      "parseScenario: ScenarioError only, on any value",
      fc.property(fc.oneof(anyJson(), fc.anything()), (value) => {
        scenarioError(value);
      }),
      2_000,
    );
  });

  it("accepts every scenario the docs describe, unchanged, and again after a JSON round trip", () => {
    checkProperty(
      "parseScenario accepts valid scenarios unchanged",
      fc.property(validScenario(MAX_METERS_PER_SCENARIO / 5), (scenario) => {
        const parsed = parseScenario(scenario);
        expect(parsed).toEqual(scenario);
        expect(JSON.stringify(parseScenario(JSON.parse(JSON.stringify(parsed))))).toBe(JSON.stringify(parsed));
      }),
      1_000,
    );
  });

  it("refuses a scenario with one bad field, naming that field", () => {
    checkProperty(
      "parseScenario names the one bad field",
      fc.property(spoiled, ([path, scenario]) => {
        const err = scenarioError(scenario);
        expect(err, `${path} was accepted`).toBeDefined();
        expect(err!.message.startsWith(`${path} `), `${err!.message} should name ${path}`).toBe(true);
      }),
      1_500,
    );
  });

  it("refuses a misspelt field wherever it is, naming it", () => {
    checkProperty(
      "parseScenario names a misspelt field",
      fc.property(misspelt, ([path, scenario]) => {
        expect(scenarioError(scenario)?.message.startsWith(`${path} is not a known field`)).toBe(true);
      }),
      1_000,
    );
  });

  it("refuses more meters than a scenario may describe, in any number of groups", () => {
    // Any counts, and counts that add up to just below, at or just above the limit.
    const nearLimit = fc.tuple(fc.array(fc.integer({ min: 1, max: MAX_METERS_PER_SCENARIO / 10 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: -2, max: 2 })).map(([counts, delta]) => [
      ...counts,
      // A group of its own may hold at most the limit (a larger count is refused as the group's count, not the total's).
      Math.min(MAX_METERS_PER_SCENARIO, Math.max(1, MAX_METERS_PER_SCENARIO + delta - counts.reduce((a, b) => a + b, 0))),
    ]);
    checkProperty(
      "parseScenario refuses more than 100,000 meters in total",
      fc.property(fc.oneof(fc.array(fc.integer({ min: 1, max: MAX_METERS_PER_SCENARIO }), { minLength: 2, maxLength: 6 }), nearLimit), (counts) => {
        const total = counts.reduce((a, b) => a + b, 0);
        const err = scenarioError({ name: "x", location: { latitude: 0, longitude: 0 }, groups: counts.map((count) => ({ count, kind: "household", annualKwh: 1 })) });
        expect(err?.message).toBe(total > MAX_METERS_PER_SCENARIO ? `groups describe ${total} meters; at most ${MAX_METERS_PER_SCENARIO}` : undefined);
      }),
      1_000,
    );
  });

  it("describes communities whose meters are drawn within the documented bounds", () => {
    checkProperty(
      "describeCommunity draws within bounds",
      fc.property(validScenario(3), fc.nat({ max: 50 }), fc.integer(), (scenario, index, seed) => {
        const community = describeCommunity(parseScenario(scenario), index, seed);
        const groups = scenario.groups as Array<{ count: number }>;
        expect(isValidId(community.communityId)).toBe(true);
        expect(community.meters).toHaveLength(groups.reduce((sum, g) => sum + g.count, 0));
        expect(Math.abs(community.latitudeDeg) <= 89 && Number.isFinite(community.longitudeDeg)).toBe(true);
        const within = (value: number, [min, max]: readonly [number, number]): boolean => Number.isFinite(value) && value >= min && value <= max;
        for (const meter of community.meters) {
          expect(isValidId(meter.meterId)).toBe(true);
          expect(within(meter.annualKwh, BOUNDS.annualKwh) && within(meter.pvKwp, BOUNDS.pvKwp)).toBe(true);
          if (meter.battery) expect(within(meter.battery.capacityKwh, BOUNDS["battery.capacityKwh"]) && within(meter.battery.powerKw, BOUNDS["battery.powerKw"])).toBe(true);
          if (meter.ev) expect(within(meter.ev.chargeKw, BOUNDS["ev.chargeKw"]) && within(meter.ev.dailyKwh, BOUNDS["ev.dailyKwh"])).toBe(true);
          if (meter.heatPump) expect(within(meter.heatPump.electricKw, BOUNDS["heatPump.electricKw"]) && within(meter.heatPump.heatLossWPerK, BOUNDS["heatPump.heatLossWPerK"])).toBe(true);
        }
      }),
      1_000,
    );
  });
});

describe("loadScenario (a scenario file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-scenario-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads any file into a scenario or a usage error that names the file", () => {
    const file = join(dir, "scenario.json");
    const contents = fc.oneof(
      anyString(200),
      anyJson().map((v) => JSON.stringify(v)),
      validScenario(3).map((s) => JSON.stringify(s)),
      validScenario(3).map((s) => JSON.stringify(s).slice(0, -1)),
    );
    checkProperty(
      "loadScenario: a scenario or a UsageError, on any file",
      fc.property(contents, (text) => {
        writeFileSync(file, text);
        try {
          loadScenario(file);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as UsageError).message.startsWith(`--scenario ${file}: `)).toBe(true);
        }
      }),
      500,
    );
  });
});
