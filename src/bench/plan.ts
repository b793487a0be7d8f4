import { parse as parseYaml } from "yaml";
import { parseDuration } from "../domain/duration.js";
import { PHASES, type Phase } from "../sim/cadence.js";
import { type FaultSpec, parseFaults } from "../sim/faults.js";
import { type LoadShape, peakRate, type Stage, steady } from "./load-shape.js";
import { parseThreshold, type Threshold, ThresholdError } from "./thresholds.js";

/**
 * A bench plan file (issue 20): the load test as a file in the repository, k6's `options` in
 * YAML or JSON. Pure: text in, a validated plan out, or an error naming the field path.
 *
 * ```yaml
 * communities: 10
 * meters: 100
 * clients: 50
 * phase: spread
 * startRate: 0
 * stages:
 *   - { duration: 10s, rate: 5000 }   # ramp from startRate to 5,000 readings/s
 *   - { duration: 20s, rate: 5000 }   # hold
 * thresholds: [lost==0, totals==1, e2e.p99<500ms]
 * ```
 */
export interface BenchPlan {
  readonly communities?: number;
  readonly meters?: number;
  readonly scenario?: string;
  readonly clients?: number;
  readonly faults?: FaultSpec;
  readonly phase?: Phase;
  /** The rate the first stage ramps from; default the first stage's own rate. */
  readonly startRate?: number;
  readonly stages?: readonly Stage[];
  readonly thresholds?: readonly Threshold[];
}

export const PLAN_KEYS = ["communities", "meters", "scenario", "clients", "faults", "phase", "startRate", "stages", "thresholds"] as const;

/** A plan that cannot be used: the message starts with the field path (`stages[1].rate: …`). */
export class PlanError extends Error {}

const MAX_RATE = 10_000_000;

/** Parses a plan's text: JSON when the file name ends in .json, else YAML (of which JSON is a subset). */
export function parsePlanText(text: string, fileName: string): BenchPlan {
  let value: unknown;
  try {
    value = fileName.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PlanError(`not valid ${fileName.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`);
  }
  return parsePlan(value);
}

export function parsePlan(value: unknown): BenchPlan {
  if (!isRecord(value)) throw new PlanError("the plan must be a mapping of keys (communities, stages, thresholds, …)");
  const unknown = Object.keys(value).find((key) => !(PLAN_KEYS as readonly string[]).includes(key));
  if (unknown !== undefined) throw new PlanError(`${unknown}: not a plan key; the keys are ${PLAN_KEYS.join(", ")}`);
  const plan: { -readonly [K in keyof BenchPlan]: BenchPlan[K] } = {};
  if (value.communities !== undefined) plan.communities = wholeNumber(value.communities, "communities", 1, 10_000);
  if (value.meters !== undefined) plan.meters = wholeNumber(value.meters, "meters", 1, 100_000);
  if (value.clients !== undefined) plan.clients = wholeNumber(value.clients, "clients", 1, 100_000);
  if (value.scenario !== undefined) {
    if (typeof value.scenario !== "string" || value.scenario === "") throw new PlanError("scenario: expected a scenario name or the path of a scenario file");
    plan.scenario = value.scenario;
  }
  if (value.faults !== undefined) {
    if (typeof value.faults !== "string") throw new PlanError("faults: expected a spec like duplicate=0.01,reorder=0.01");
    try {
      plan.faults = parseFaults(value.faults);
    } catch (err) {
      throw new PlanError(`faults: ${(err as Error).message}`);
    }
  }
  if (value.phase !== undefined) {
    if (!(PHASES as readonly unknown[]).includes(value.phase)) throw new PlanError(`phase: expected ${PHASES.join(" or ")}`);
    plan.phase = value.phase as Phase;
  }
  if (value.startRate !== undefined) plan.startRate = rate(value.startRate, "startRate");
  if (value.stages !== undefined) plan.stages = stages(value.stages);
  if (value.thresholds !== undefined) plan.thresholds = thresholds(value.thresholds);
  return plan;
}

function stages(value: unknown): Stage[] {
  if (!Array.isArray(value) || value.length === 0) throw new PlanError("stages: expected a list of {duration, rate}, at least one");
  return value.map((stage: unknown, i) => {
    const path = `stages[${i}]`;
    if (!isRecord(stage)) throw new PlanError(`${path}: expected {duration, rate}`);
    const extra = Object.keys(stage).find((key) => key !== "duration" && key !== "rate");
    if (extra !== undefined) throw new PlanError(`${path}.${extra}: not a stage key; a stage has duration and rate`);
    const durationMs = typeof stage.duration === "string" ? parseDuration(stage.duration) : undefined;
    if (durationMs === undefined || durationMs < 1_000) throw new PlanError(`${path}.duration: expected a duration of at least 1s, like 10s or 2m`);
    return { durationMs, rate: rate(stage.rate, `${path}.rate`) };
  });
}

function thresholds(value: unknown): Threshold[] {
  if (!Array.isArray(value)) throw new PlanError("thresholds: expected a list of expressions like e2e.p99<500ms");
  return value.map((expression: unknown, i) => {
    if (typeof expression !== "string") throw new PlanError(`thresholds[${i}]: expected an expression like lost==0`);
    try {
      return parseThreshold(expression);
    } catch (err) {
      if (err instanceof ThresholdError) throw new PlanError(`thresholds[${i}]: ${err.message}`);
      throw err;
    }
  });
}

function rate(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_RATE) throw new PlanError(`${path}: expected readings/s, a number from 0 to ${MAX_RATE.toLocaleString("en")}`);
  return value;
}

function wholeNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) throw new PlanError(`${path}: expected a whole number from ${min} to ${max}`);
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The load a plan and the flags both describe: the community, its clients, its faults and phase. */
interface LoadKeys {
  readonly communities: number;
  readonly meters: number;
  readonly scenario?: string;
  readonly clients: number;
  readonly faults?: FaultSpec;
  readonly phase: Phase;
}

/** What a bench runs: the plan's keys with the flags given on the command line over them. */
export interface BenchSettings extends LoadKeys {
  readonly shape: LoadShape;
  /** The plan's thresholds, then the --threshold flags'. */
  readonly thresholds: readonly Threshold[];
}

/** The flags of the keys a plan has too; `given` names those given on the command line (not defaults). */
export interface PlanFlags extends LoadKeys {
  readonly rate: number;
  readonly duration: number;
  readonly threshold?: readonly Threshold[];
  readonly given: ReadonlySet<string>;
}

/**
 * Flags override the plan: a flag given on the command line wins, then the plan's key, then the
 * flag's default. `--rate` or `--duration` replace the plan's stages with one steady stage.
 */
export function benchSettings(plan: BenchPlan, flags: PlanFlags): BenchSettings {
  const pick = <K extends "communities" | "meters" | "clients" | "phase">(key: K): PlanFlags[K] => (flags.given.has(key) ? flags[key] : ((plan[key] as PlanFlags[K] | undefined) ?? flags[key]));
  const steadyGiven = flags.given.has("rate") || flags.given.has("duration");
  const shape = !plan.stages || steadyGiven ? steady(flags.rate, flags.duration) : { startRate: plan.startRate ?? plan.stages[0]!.rate, stages: plan.stages };
  if (peakRate(shape) <= 0) throw new PlanError("stages: every rate is 0; at least one stage needs readings/s above 0");
  const scenario = flags.given.has("scenario") ? flags.scenario : (plan.scenario ?? flags.scenario);
  const faults = flags.given.has("faults") ? flags.faults : (plan.faults ?? flags.faults);
  return {
    communities: pick("communities"),
    meters: pick("meters"),
    ...(scenario !== undefined && { scenario }),
    clients: pick("clients"),
    ...(faults !== undefined && { faults }),
    phase: pick("phase"),
    shape,
    thresholds: [...(plan.thresholds ?? []), ...(flags.threshold ?? [])],
  };
}
