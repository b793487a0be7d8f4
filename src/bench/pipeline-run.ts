import type { JetStreamManager } from "@nats-io/jetstream";
import { DLQ_STREAM } from "../wire/names.js";
import { aggregatorBacklog, readingsStored } from "../nats/inspect.js";
import type { Aggregate } from "../domain/aggregate.js";
import { type FaultSpec, NO_FAULTS } from "../sim/faults.js";
import { planSimulation } from "../sim/setup.js";
import { Simulator } from "../sim/simulator.js";
import { LatencyHistogram, type LatencySummary } from "./latency.js";
import type { Phase } from "../sim/cadence.js";
import { dueAtMs, type LoadShape, peakRate, readingsPerStage, stageAt, totalDurationMs } from "./load-shape.js";
import type { OpenRunSink } from "./run-sink.js";
import { TimedSink } from "./timed-sink.js";
import { type FanoutReport, SseFanout } from "./sse-fanout.js";

export interface RunOptions {
  readonly communities: number;
  /** Meters per community (of the scenario, when one is given). */
  readonly meters: number;
  /** A scenario name or file (sim/setup.ts); the default scenario of `meters` households when undefined. */
  readonly scenario?: string;
  /** Readings per second (all communities together) over time: stages that ramp, or one steady rate. */
  readonly shape: LoadShape;
  /** spread: each meter at its own offset within its interval (what real meters do); aligned: every meter of a moment at once, a burst. */
  readonly phase: Phase;
  readonly clients: number;
  readonly seed: number;
  /** Faults the simulator injects (the ground truth accounts for them). */
  readonly faults?: FaultSpec;
  /** How long the pipeline may take to catch up after the last publish before the run counts as not sustained. */
  readonly drainGraceMs?: number;
  /** Called about every 250 ms with the share of the run done (0–1). */
  readonly onProgress?: (done: number) => void;
  /** Ends the run early (Ctrl-C): the simulator stops and the run rejects with RunInterrupted. */
  readonly signal?: AbortSignal;
}

/** What a run needs of the API under test (the HTTP API client satisfies it). */
export interface ServedApi {
  /** Where the API answers: the SSE load clients connect there on their own (raw node:http, thousands at once). */
  readonly baseUrl: string;
  /** The community's latest aggregate; rejects with a `status` when the API answers without one. */
  latest(communityId: string): Promise<Aggregate>;
}

/** A run ended by its signal: nothing to report. */
export class RunInterrupted extends Error {}

/** A stage of the load shape as run. */
export interface StageReport {
  readonly durationMs: number;
  readonly fromRate: number;
  readonly toRate: number;
  /** Readings the stage schedules: the area under its ramp. */
  readonly scheduled: number;
  /** Readings published while the stage ran (by wall-clock time). */
  readonly published: number;
  /** published ÷ the stage's duration. */
  readonly measuredRate: number;
}

/** The end-to-end latency in its hops (issue 20). */
export interface Hops {
  /** A reading's publish → JetStream's acknowledgement that it is stored. */
  readonly publishToStored: LatencySummary;
  /** The newest reading of an aggregate stored → the aggregate announced (its `aggregatedAt`). */
  readonly storedToAnnounced: LatencySummary;
  /** The aggregate announced → its arrival at an SSE client (every client's). */
  readonly announcedToClient: LatencySummary;
}

export interface RunReport {
  /** The highest rate of the load shape (a steady run's rate). */
  readonly targetRate: number;
  /** The readings the shape schedules per second, on average. */
  readonly scheduledPerSec: number;
  /** Readings per second the publisher achieved (every one acknowledged by JetStream). */
  readonly publishedPerSec: number;
  /** Readings per second from the first publish until the aggregator had processed the last. */
  readonly aggregatedPerSec: number;
  readonly published: number;
  /** Not acknowledged by JetStream, or stored but never processed by the aggregator. */
  readonly lost: number;
  /** Messages the aggregator dead-lettered (malformed ones, when faults inject them). */
  readonly deadLetters: number;
  /** Every community's served totals equal the simulator's ground truth. */
  readonly totalsExact: boolean;
  /** The aggregator caught up within the grace period after the last publish. */
  readonly keptUp: boolean;
  /**
   * From the time a reading was due to be published (its data time, mapped through the load
   * shape) to the arrival of the aggregate it is the newest reading of at an SSE client.
   */
  readonly latencyMs: LatencySummary;
  readonly hops: Hops;
  readonly stages: readonly StageReport[];
  readonly sse: FanoutReport;
}

/** Slower than this, a pipeline is queueing, not keeping up, whatever it drains afterwards. */
export const SUSTAINED_P99_MS = 1_000;

/**
 * A run passes when nothing was lost, the totals are exact, and the rate was sustained: the
 * publisher reached it, the aggregator caught up within the grace period, and 99 % of the
 * updates reached the clients within a second.
 */
export function runPassed(report: RunReport): boolean {
  return report.lost === 0 && report.totalsExact && report.keptUp && report.publishedPerSec >= 0.95 * report.scheduledPerSec && report.latencyMs.p99 <= SUSTAINED_P99_MS;
}

/** The meter interval that gives `rate` readings/s from `communities × meters` meters. */
export function intervalForRate(communities: number, meters: number, rate: number): number {
  return Math.max(1, Math.round((communities * meters * 1000) / rate));
}

/**
 * One run of a load shape: the simulator publishes in real time, paced by the shape (its meters
 * report at a fixed interval in data time; data time runs at rate ÷ peak rate of wall-clock
 * time), while SSE clients follow every community; afterwards, every reading is accounted for
 * in the stream and the aggregator's consumer, and the served totals are compared with the
 * simulator's ground truth.
 */
export async function runAtRate(openSink: OpenRunSink, jsm: JetStreamManager, api: ServedApi, options: RunOptions): Promise<RunReport> {
  const { shape } = options;
  const meters = options.communities * options.meters;
  const intervalMs = intervalForRate(options.communities, options.meters, peakRate(shape));
  // Readings per second of data time: the meters, each once per interval.
  const dataRate = (meters * 1000) / intervalMs;
  const scheduled = readingsPerStage(shape);
  const durationMs = totalDurationMs(shape);
  /** When data time `dataElapsedMs` after the first reading is due, in wall-clock ms after the start. */
  const pace = (dataElapsedMs: number): number => dueAtMs(shape, (dataElapsedMs * dataRate) / 1000);
  const communityIds = Array.from({ length: options.communities }, (_, i) => `community${i + 1}`);
  const endToEnd = new LatencyHistogram();
  const storedToAnnounced = new LatencyHistogram();
  let simulator: Simulator | undefined;
  let sink: TimedSink | undefined;
  const fanout = new SseFanout(api.baseUrl, communityIds, Math.max(options.clients, 1), (communityId, event) => {
    const origin = simulator?.origin;
    if (origin) endToEnd.record(event.arrivedAtMs - (origin.wallMs + pace(event.measuredAtMs - origin.dataMs)));
    const storedAtMs = sink?.takeStoredAt(communityId, event.measuredAtMs);
    if (storedAtMs !== undefined) storedToAnnounced.record(event.aggregatedAtMs - storedAtMs);
  });
  await fanout.start();

  const before = await counts(jsm);
  const startedMs = performance.now();
  sink = new TimedSink(openSink(), shape.stages.length, () => stageAt(shape, performance.now() - startedMs));
  const dataDurationMs = Math.ceil((scheduled.reduce((sum, n) => sum + n, 0) / dataRate) * 1000);
  const plan = (startMs: number) =>
    planSimulation({
      communities: options.communities,
      meters: options.meters,
      ...(options.scenario && { scenario: options.scenario }),
      seed: options.seed,
      level: "meter",
      intervalMs,
      phase: options.phase,
      durationMs: dataDurationMs,
      faults: options.faults ?? NO_FAULTS,
      startMs,
    });
  // Data time must start when publishing does: a first plan and moment, thrown away, load the
  // profiles and warm the models up (~50 ms on a cold start).
  plan(Date.now()).source.next();
  const simulation = plan(Date.now());
  simulator = new Simulator(sink, simulation.source, { speed: 1, pace, staleAfterMs: 30_000 });
  const progress = setInterval(() => options.onProgress?.(Math.min(1, (performance.now() - startedMs) / durationMs)), 250);
  const interrupt = (): void => void simulator.stop();
  options.signal?.addEventListener("abort", interrupt, { once: true });
  // Interrupted before it started (while the clients connected): it ends at once.
  if (options.signal?.aborted) interrupt();
  await simulator.start();
  options.signal?.removeEventListener("abort", interrupt);
  const publishedMs = performance.now();
  clearInterval(progress);
  sink.close();
  if (options.signal?.aborted) {
    fanout.stop();
    throw new RunInterrupted("the run was interrupted");
  }

  const grace = options.drainGraceMs ?? 1_000;
  const keptUp = await drained(jsm, before, simulator.stats.acked, grace);
  if (!keptUp) await drained(jsm, before, simulator.stats.acked, 60_000);
  const aggregatedMs = performance.now();
  const after = await counts(jsm);
  const truth = simulator.totals();
  const served = await servedTotals(api, truth);
  const totalsExact = served !== undefined;
  // The last events reach the clients: up to 5 s for each to have its community's served version.
  if (served) await fanout.caughtUp(served, 5_000);
  const sse = fanout.stop();

  const published = simulator.stats.sent;
  // Only this run's readings entered the stream since `before`; what no consumer acknowledged is lost.
  const processed = after.stored - before.stored - after.backlog;
  const lost = published - simulator.stats.acked + after.backlog;
  const stages = shape.stages.map((stage, i): StageReport => {
    const fromRate = i === 0 ? shape.startRate : shape.stages[i - 1]!.rate;
    return { durationMs: stage.durationMs, fromRate, toRate: stage.rate, scheduled: Math.round(scheduled[i]!), published: sink!.publishedPerStage[i]!, measuredRate: Math.round(sink!.publishedPerStage[i]! / (stage.durationMs / 1000)) };
  });
  return {
    targetRate: peakRate(shape),
    scheduledPerSec: Math.round(scheduled.reduce((sum, n) => sum + n, 0) / (durationMs / 1000)),
    publishedPerSec: Math.round(published / ((publishedMs - startedMs) / 1000)),
    aggregatedPerSec: Math.round(processed / ((aggregatedMs - startedMs) / 1000)),
    published,
    lost,
    deadLetters: after.deadLetters - before.deadLetters,
    totalsExact,
    keptUp,
    latencyMs: endToEnd.summary(),
    hops: { publishToStored: sink.stored.summary(), storedToAnnounced: storedToAnnounced.summary(), announcedToClient: sse.deliveryMs },
    stages,
    sse,
  };
}

interface Counts {
  /** Readings the reading streams stored (their last sequences together). */
  readonly stored: number;
  /** Messages the aggregator's consumers have yet to deliver or to have acknowledged. */
  readonly backlog: number;
  readonly deadLetters: number;
}

async function counts(jsm: JetStreamManager): Promise<Counts> {
  const [stored, dlq, backlog] = await Promise.all([readingsStored(jsm), jsm.streams.info(DLQ_STREAM), aggregatorBacklog(jsm)]);
  return { stored, backlog, deadLetters: dlq.state.last_seq };
}

/** Waits until the aggregator acknowledged everything stored since `before`; false after `timeoutMs`. */
async function drained(jsm: JetStreamManager, before: Counts, expected: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = await counts(jsm);
    if (now.stored >= before.stored + expected && now.backlog === 0) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const hasStatus = (err: unknown): boolean => typeof (err as { status?: unknown } | undefined)?.status === "number";

/** The version each community is served at once its totals equal the ground truth; undefined if they never do. */
async function servedTotals(api: ServedApi, truth: Record<string, { genW: number; conW: number }>): Promise<Map<string, number> | undefined> {
  // The API may serve a value one change-feed hop behind the aggregator: a few tries.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    // An answer without a value (a 404 before the first) counts as not equal yet; no answer at all fails the run.
    const served = await Promise.all(Object.keys(truth).map((id) => api.latest(id).catch((err: unknown) => (hasStatus(err) ? undefined : Promise.reject(err)))));
    if (served.every((a) => a !== undefined && a.genW === truth[a.communityId]?.genW && a.conW === truth[a.communityId]?.conW)) return new Map(served.map((a) => [a!.communityId, a!.version]));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}
