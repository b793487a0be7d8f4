import { existsSync, readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import { FaultInjector, type FaultCounts, type FaultSpec } from "./faults.js";
import type { PublishReport } from "../nats/jetstream-publisher.js";
import type { Phase } from "./cadence.js";
import { FIXTURES, loadProfiles } from "./fixtures.js";
import { type Scenario, ScenarioError, defaultScenario, describeCommunity, parseScenario } from "./scenario.js";
import type { Simulator } from "./simulator.js";
import { type CommunityEnergy, type ReadingLevel, type ReadingSource } from "./sources.js";
import { ModelSource } from "./model-source.js";
import { BUILT_IN_SCENARIOS } from "./scenario-names.js";
import { TraceSource } from "./trace-source.js";
import { TraceError, parseTrace } from "./trace.js";
import type { TruthEnergy, TruthTotals } from "./ground-truth.js";

/** Everything that decides what a simulation publishes (flags of `sim` and `up`). */
export interface SimulationPlan {
  /** A scenario name from fixtures/scenarios/ or a JSON file; the default scenario when undefined. */
  readonly scenario?: string;
  /** Meters per community of the default scenario. */
  readonly meters: number;
  readonly communities: number;
  readonly seed: number;
  readonly level: ReadingLevel;
  /** Data time between two readings of a meter whose scenario group sets no `intervalMs`. */
  readonly intervalMs: number;
  /** When meters report within their interval (sim/cadence.ts). Default `aligned`, the load shape of `ecwatch bench`; `sim` and `up` default to `spread`. */
  readonly phase?: Phase;
  /** Each reading moved by up to ± this fraction of its interval (0 ≤ jitter < 0.5). Default 0. */
  readonly jitter?: number;
  /** Data time of the first reading; now (aligned to the interval) when undefined. */
  readonly startMs?: number;
  /** Data time to simulate; endless when undefined. */
  readonly durationMs?: number;
  readonly faults: FaultSpec;
  /** A recorded trace to publish instead of the models. */
  readonly replay?: string;
  /** Keep the trace's own data times instead of moving it to start at `startMs` (default now). */
  readonly originalTime?: boolean;
}

export interface Simulation {
  readonly source: ReadingSource;
  readonly describe: string;
  readonly faults: FaultInjector | undefined;
  readonly models: ModelSource | undefined;
  /** Some of the scenario's groups report at their own interval instead of `intervalMs`. */
  readonly ownIntervals?: boolean;
}

/** Loads a shipped scenario by name, or a scenario file by path; a UsageError names the bad field. */
export function loadScenario(nameOrFile: string): Scenario {
  const builtIn = (BUILT_IN_SCENARIOS as readonly string[]).includes(nameOrFile);
  const file = builtIn ? new URL(`scenarios/${nameOrFile}.json`, FIXTURES) : nameOrFile;
  if (!builtIn && !existsSync(file)) {
    throw new UsageError(`--scenario ${nameOrFile}: no such scenario or file.`, `Use one of ${BUILT_IN_SCENARIOS.join(", ")}, or the path of a scenario JSON file.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`--scenario ${nameOrFile}: not valid JSON (${(err as Error).message}).`);
  }
  try {
    return parseScenario(json);
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(`--scenario ${nameOrFile}: ${err.message}.`);
    throw err;
  }
}

function loadTrace(file: string): ReturnType<typeof parseTrace> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`--replay ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  try {
    return parseTrace(text);
  } catch (err) {
    if (err instanceof TraceError) throw new UsageError(`--replay ${file}: ${err.message}.`);
    throw err;
  }
}

/** Builds the source of readings a plan describes. */
export function planSimulation(plan: SimulationPlan, now = Date.now()): Simulation {
  if (plan.replay) {
    const entries = loadTrace(plan.replay);
    const first = TraceSource.firstTimeMs(entries);
    // Moved to now by default: recorded times older than what the stream holds would change nothing.
    const startMs = plan.startMs ?? Math.floor(now / 1000) * 1000;
    const shiftMs = !plan.originalTime && first !== undefined ? startMs - first : 0;
    return { source: new TraceSource(entries, shiftMs), describe: `replay of ${plan.replay} (${entries.length} messages)`, faults: undefined, models: undefined };
  }
  const scenario = plan.scenario ? loadScenario(plan.scenario) : defaultScenario(plan.meters);
  const paced = scenario.groups.findIndex((group) => group.intervalMs !== undefined);
  if (plan.level === "community" && paced >= 0) {
    // One community-level reading sums all meters at one time: a meter's own cadence has no place in it.
    throw new UsageError(`--level community sends one reading per community every --interval; the scenario's groups[${paced}].intervalMs needs --level meter.`, "Drop --level community, or use a scenario without intervalMs.");
  }
  const communities = Array.from({ length: plan.communities }, (_, index) => describeCommunity(scenario, index, plan.seed));
  const startMs = plan.startMs ?? Math.floor(now / plan.intervalMs) * plan.intervalMs;
  const faults = new FaultInjector(plan.faults, plan.seed);
  const models = new ModelSource({
    communities,
    profiles: loadProfiles(),
    seed: plan.seed,
    level: plan.level,
    intervalMs: plan.intervalMs,
    ...(plan.phase && { phase: plan.phase }),
    ...(plan.jitter && { jitter: plan.jitter }),
    startMs,
    endMs: plan.durationMs === undefined ? undefined : startMs + plan.durationMs,
    faults,
  });
  const meters = communities[0]?.meters.length ?? 0;
  return {
    source: models,
    describe: `${plan.communities} × ${scenario.name} (${meters} meters), ${plan.level} readings${plan.phase === "spread" ? ", spread phases" : ""}${plan.jitter ? `, jitter ±${plan.jitter * 100} %` : ""}`,
    faults: faults.active ? faults : undefined,
    models,
    ...(paced >= 0 && { ownIntervals: true }),
  };
}

/** The `--json` summary of a run: the ground truth a correct aggregator must show, and what happened. */
export interface SimulationReport {
  readonly published: number;
  readonly errors: number;
  readonly communities: Record<string, TruthTotals>;
  readonly faults?: FaultCounts;
  readonly energy?: Record<string, CommunityEnergy>;
  /** The energy a correct aggregator stores, counted by the rule (energy/validity.ts) from the acknowledged readings, as far as it is final. */
  readonly truthEnergy: Record<string, TruthEnergy>;
  /** What the publisher went through: retries, duplicate acks, unacknowledged sends by cause. */
  readonly publish?: Omit<PublishReport, "published" | "acked">;
}

export function reportOf(simulator: Simulator, simulation: Simulation, publish?: PublishReport): SimulationReport {
  const energy = simulation.models?.energyByCommunity();
  return {
    published: simulator.stats.acked,
    errors: simulator.stats.errors,
    communities: simulator.totals(),
    truthEnergy: simulator.truth.energy(),
    ...(simulation.faults && { faults: simulation.faults.counts }),
    ...(energy && { energy: roundEnergy(energy) }),
    ...(publish && { publish: publishDetails(publish) }),
  };
}

/** The publisher's report without the counts the report has already (published = acked there). */
function publishDetails({ published: _published, acked: _acked, ...details }: PublishReport): Omit<PublishReport, "published" | "acked"> {
  return details;
}

function roundEnergy(energy: Record<string, CommunityEnergy>): Record<string, CommunityEnergy> {
  const round = (kwh: number): number => Math.round(kwh * 1000) / 1000;
  return Object.fromEntries(Object.entries(energy).map(([id, e]) => [id, { ...e, genKwh: round(e.genKwh), conKwh: round(e.conKwh) }]));
}
