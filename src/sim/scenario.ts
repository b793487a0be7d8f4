import type { BatterySpec } from "./battery.js";
import type { EvSpec } from "./ev.js";
import type { HeatPumpSpec } from "./heat-pump.js";
import { DEFAULT_TIME_ZONE, isTimeZone } from "../domain/local-time.js";
import { MAX_INTERVAL_MS } from "../domain/reading.js";
import { type Random, hashString, seededRandom } from "./random.js";

/**
 * A scenario describes one community as groups of alike meters. Numbers may be given as
 * `[min, max]`: each meter then draws its own value, so the same seed gives the same meters.
 */
export const METER_KINDS = ["household", "business"] as const;
export type MeterKind = (typeof METER_KINDS)[number];

export type Range = number | readonly [number, number];

export interface MeterGroup {
  readonly count: number;
  /** `household` follows BDEW H25, `business` G25. */
  readonly kind: MeterKind;
  /** Annual consumption of the base load in kWh (0 for a bare PV plant). */
  readonly annualKwh: Range;
  readonly pvKwp?: Range;
  readonly battery?: { readonly capacityKwh: Range; readonly powerKw: Range };
  readonly ev?: { readonly chargeKw: Range; readonly dailyKwh: Range };
  readonly heatPump?: { readonly electricKw: Range; readonly heatLossWPerK: Range };
  /**
   * The group's reporting interval in ms, sent with every reading (issue 17); default: the
   * simulator's `--interval`, not sent. One value per group: a meter's cadence is configured, not drawn.
   */
  readonly intervalMs?: number;
  /** Readings carry the mean power over the `intervalMs` before them (a smart-meter gateway's 15-minute values). Default false. */
  readonly averaged?: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** IANA time zone of the community's clocks (load profiles, EVs). Default Europe/Berlin. */
  readonly timeZone?: string;
  readonly location: { readonly latitude: number; readonly longitude: number };
  readonly groups: readonly MeterGroup[];
}

/** One meter drawn from a scenario. */
export interface MeterSpec {
  readonly meterId: string;
  readonly kind: MeterKind;
  readonly annualKwh: number;
  readonly pvKwp: number;
  readonly battery?: BatterySpec;
  readonly ev?: EvSpec;
  readonly heatPump?: HeatPumpSpec;
  /** The group's reporting interval, when it sets one. */
  readonly intervalMs?: number;
  readonly averaged?: boolean;
}

export interface CommunitySpec {
  readonly communityId: string;
  readonly timeZone: string;
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
  readonly meters: readonly MeterSpec[];
}

/** Largest community a scenario may describe; larger loads come from --communities. */
export const MAX_METERS_PER_SCENARIO = 100_000;

export const communityIdOf = (index: number): string => `community${index + 1}`;
export const meterIdOf = (index: number): string => `meter${String(index + 1).padStart(3, "0")}`;

/** The scenario used without --scenario: M households, 40 % of them with 3–10 kWp of PV. */
export function defaultScenario(meters: number): Scenario {
  const withPv = Math.round(meters * 0.4);
  const groups: MeterGroup[] = [
    { count: meters - withPv, kind: "household", annualKwh: [2_000, 6_000] },
    { count: withPv, kind: "household", annualKwh: [2_000, 6_000], pvKwp: [3, 10] },
  ];
  return { name: "default", location: { latitude: 50.5, longitude: 10 }, groups: groups.filter((group) => group.count > 0) };
}

// ---------------------------------------------------------------------------------------
// Validation: every problem names the field, e.g. `groups[2].battery.capacityKwh`.

export class ScenarioError extends Error {}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function range(value: unknown, field: string, min: number, max: number): Range {
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= min && n <= max;
  if (ok(value)) return value;
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1]) && value[0] <= value[1]) return [value[0], value[1]];
  throw new ScenarioError(`${field} must be a number from ${min} to ${max}, or [min, max] within that`);
}

/** A misspelt field would silently do nothing (no PV for `pvKWp`): refuse it instead. */
function onlyKnown(value: Json, field: string, known: readonly string[]): void {
  const unknown = Object.keys(value).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new ScenarioError(`${field ? `${field}.` : ""}${unknown} is not a known field (known: ${known.join(", ")})`);
}

function optionalObject(value: unknown, field: string, known: readonly string[]): Json | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new ScenarioError(`${field} must be an object`);
  onlyKnown(value, field, known);
  return value;
}

function parseGroup(value: unknown, field: string): MeterGroup {
  if (!isObject(value)) throw new ScenarioError(`${field} must be an object`);
  const { count, kind } = value;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_METERS_PER_SCENARIO) {
    throw new ScenarioError(`${field}.count must be a whole number from 1 to ${MAX_METERS_PER_SCENARIO}`);
  }
  if (!METER_KINDS.includes(kind as MeterKind)) throw new ScenarioError(`${field}.kind must be one of ${METER_KINDS.join(", ")}`);
  onlyKnown(value, field, ["count", "kind", "annualKwh", "pvKwp", "battery", "ev", "heatPump", "intervalMs", "averaged"]);
  const battery = optionalObject(value.battery, `${field}.battery`, ["capacityKwh", "powerKw"]);
  const ev = optionalObject(value.ev, `${field}.ev`, ["chargeKw", "dailyKwh"]);
  const heatPump = optionalObject(value.heatPump, `${field}.heatPump`, ["electricKw", "heatLossWPerK"]);
  return {
    count,
    kind: kind as MeterKind,
    annualKwh: range(value.annualKwh, `${field}.annualKwh`, 0, 10_000_000),
    ...(value.pvKwp !== undefined && { pvKwp: range(value.pvKwp, `${field}.pvKwp`, 0, 100_000) }),
    ...(battery && {
      battery: {
        capacityKwh: range(battery.capacityKwh, `${field}.battery.capacityKwh`, 0.1, 100_000),
        powerKw: range(battery.powerKw, `${field}.battery.powerKw`, 0.1, 100_000),
      },
    }),
    ...(ev && {
      ev: { chargeKw: range(ev.chargeKw, `${field}.ev.chargeKw`, 1, 350), dailyKwh: range(ev.dailyKwh, `${field}.ev.dailyKwh`, 0, 10_000) },
    }),
    ...(heatPump && {
      heatPump: {
        electricKw: range(heatPump.electricKw, `${field}.heatPump.electricKw`, 0.1, 1_000),
        heatLossWPerK: range(heatPump.heatLossWPerK, `${field}.heatPump.heatLossWPerK`, 1, 100_000),
      },
    }),
    ...cadence(value, field),
  };
}

/** A group's `intervalMs` and `averaged`, as a reading carries them (domain/reading.ts). */
function cadence(value: Json, field: string): Pick<MeterGroup, "intervalMs" | "averaged"> {
  const { intervalMs, averaged } = value;
  if (intervalMs !== undefined && (typeof intervalMs !== "number" || !Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_INTERVAL_MS)) {
    throw new ScenarioError(`${field}.intervalMs must be a whole number of milliseconds from 1 to ${MAX_INTERVAL_MS}`);
  }
  if (averaged !== undefined && typeof averaged !== "boolean") throw new ScenarioError(`${field}.averaged must be true or false`);
  if (averaged === true) {
    if (intervalMs === undefined) throw new ScenarioError(`${field}.averaged needs ${field}.intervalMs, the interval its power is the mean over`);
    // The mean is sampled at whole-second model steps (sim/cadence.ts).
    if (intervalMs % 1000 !== 0) throw new ScenarioError(`${field}.intervalMs must be a whole number of seconds when averaged`);
  }
  return { ...(intervalMs !== undefined && { intervalMs }), ...(averaged !== undefined && { averaged }) };
}

/** Validates a parsed scenario file; throws a ScenarioError naming the first bad field. */
export function parseScenario(value: unknown): Scenario {
  if (!isObject(value)) throw new ScenarioError("the scenario must be a JSON object");
  onlyKnown(value, "", ["name", "description", "timeZone", "location", "groups"]);
  const { name, description, timeZone, location, groups } = value;
  if (typeof name !== "string" || !name.trim()) throw new ScenarioError("name must be a non-empty string");
  if (description !== undefined && typeof description !== "string") throw new ScenarioError("description must be a string");
  if (timeZone !== undefined && (typeof timeZone !== "string" || !isTimeZone(timeZone))) throw new ScenarioError("timeZone must be an IANA time zone, e.g. Europe/Berlin");
  if (!isObject(location)) throw new ScenarioError("location must be an object with latitude and longitude");
  onlyKnown(location, "location", ["latitude", "longitude"]);
  const latitude = range(location.latitude, "location.latitude", -90, 90);
  const longitude = range(location.longitude, "location.longitude", -180, 180);
  if (typeof latitude !== "number") throw new ScenarioError("location.latitude must be a number from -90 to 90");
  if (typeof longitude !== "number") throw new ScenarioError("location.longitude must be a number from -180 to 180");
  if (!Array.isArray(groups) || groups.length === 0) throw new ScenarioError("groups must be a non-empty array");
  const parsed = groups.map((group, index) => parseGroup(group, `groups[${index}]`));
  const total = parsed.reduce((sum, group) => sum + group.count, 0);
  if (total > MAX_METERS_PER_SCENARIO) throw new ScenarioError(`groups describe ${total} meters; at most ${MAX_METERS_PER_SCENARIO}`);
  return { name, ...(description !== undefined && { description }), ...(timeZone !== undefined && { timeZone: timeZone as string }), location: { latitude, longitude }, groups: parsed };
}

// ---------------------------------------------------------------------------------------
// Drawing meters.

function draw(value: Range, random: Random, decimals = 1): number {
  const raw = typeof value === "number" ? value : value[0] + random() * (value[1] - value[0]);
  const scale = 10 ** decimals;
  return Math.round(raw * scale) / scale;
}

function drawMeter(group: MeterGroup, meterId: string, random: Random): MeterSpec {
  return {
    meterId,
    kind: group.kind,
    annualKwh: draw(group.annualKwh, random, 0),
    pvKwp: group.pvKwp === undefined ? 0 : draw(group.pvKwp, random),
    ...(group.battery && { battery: { capacityKwh: draw(group.battery.capacityKwh, random), powerKw: draw(group.battery.powerKw, random) } }),
    ...(group.ev && { ev: { chargeKw: draw(group.ev.chargeKw, random), dailyKwh: draw(group.ev.dailyKwh, random) } }),
    ...(group.heatPump && {
      heatPump: { electricKw: draw(group.heatPump.electricKw, random), heatLossWPerK: draw(group.heatPump.heatLossWPerK, random, 0) },
    }),
    // Not drawn: the meters of a group before issue 17 keep their draws.
    ...(group.intervalMs !== undefined && { intervalMs: group.intervalMs }),
    ...(group.averaged === true && { averaged: true }),
  };
}

/**
 * The `index`-th community of a scenario: the first at the scenario's location, the others
 * spread around it by up to ±1° of latitude and ±2° of longitude, each with its own draws.
 */
export function describeCommunity(scenario: Scenario, index: number, seed: number): CommunitySpec {
  const communityId = communityIdOf(index);
  const random = seededRandom(seed ^ hashString(`${scenario.name}/${communityId}`));
  const latitudeShift = index === 0 ? 0 : (random() * 2 - 1) * 1;
  const longitudeShift = index === 0 ? 0 : (random() * 2 - 1) * 2;
  const meters: MeterSpec[] = [];
  for (const group of scenario.groups) {
    for (let i = 0; i < group.count; i += 1) meters.push(drawMeter(group, meterIdOf(meters.length), random));
  }
  return {
    communityId,
    timeZone: scenario.timeZone ?? DEFAULT_TIME_ZONE,
    latitudeDeg: Math.max(-89, Math.min(89, scenario.location.latitude + latitudeShift)),
    longitudeDeg: scenario.location.longitude + longitudeShift,
    meters,
  };
}
