import { connectNats } from "../../src/nats/connect.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { NO_FAULTS } from "../../src/sim/faults.js";
import type { TruthTotals } from "../../src/sim/ground-truth.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { planSimulation } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { eventually } from "./stack.js";

/**
 * The fault tests run in `npm test` with a small dose; `npm run test:chaos` sets
 * ECWATCH_CHAOS=1 for more rounds and longer load.
 */
export const CHAOS = process.env.ECWATCH_CHAOS === "1";

/** `normal` in `npm test`, `chaos` under ECWATCH_CHAOS=1. */
export function dose<T>(normal: T, chaos: T): T {
  return CHAOS ? chaos : normal;
}

/** The stale rule of the aggregators the tests start (usePipeline), and so of the ground truth. */
export const STALE_AFTER_MS = 30_000;

/** 3000 → "3,000", for the lines the tests print. */
export const count = (n: number): string => n.toLocaleString("en-US");

export interface LoadShape {
  readonly communities: number;
  readonly meters: number;
  /** Readings per second over all communities: every meter reads every communities × meters / rate seconds. */
  readonly rate: number;
}

export interface LoadResult {
  /** Readings handed to JetStream. */
  readonly sent: number;
  /** Readings JetStream acknowledged (stored); sent − acked were lost on the way in. */
  readonly acked: number;
  /** Per community, what a correct aggregator shows once it has processed every acknowledged reading. */
  readonly truth: Record<string, TruthTotals>;
}

/** The simulator publishing to JetStream in real time, in this process, until stopped. */
export interface Load {
  /** Stops publishing, waits for every publish to settle, and returns the ground truth (the same each call). */
  stop(): Promise<LoadResult>;
}

/** Runs `during` under load, then stops the load (also when `during` fails; `during` may stop it earlier). */
export async function underLoad<T>(natsUrl: string, shape: LoadShape, during: (load: Load) => Promise<T>): Promise<{ value: T; result: LoadResult }> {
  const load = await startLoad(natsUrl, shape);
  try {
    const value = await during(load);
    return { value, result: await load.stop() };
  } finally {
    await load.stop();
  }
}

async function startLoad(natsUrl: string, shape: LoadShape): Promise<Load> {
  const intervalMs = (shape.communities * shape.meters * 1000) / shape.rate;
  if (!Number.isInteger(intervalMs)) throw new Error(`${shape.communities} × ${shape.meters} meters at ${shape.rate}/s: the interval must be whole milliseconds`);
  const nc = await connectNats(natsUrl, "faults-load");
  const simulation = planSimulation({ communities: shape.communities, meters: shape.meters, seed: 1, level: "meter", intervalMs, faults: NO_FAULTS });
  const sink = new JetStreamPublisher(nc);
  const simulator = new Simulator(sink, simulation.source, { speed: 1, staleAfterMs: STALE_AFTER_MS });
  const running = simulator.start();
  let stopped: Promise<LoadResult> | undefined;
  const stop = async (): Promise<LoadResult> => {
    await simulator.stop();
    await running;
    sink.close();
    await nc.drain();
    return { sent: simulator.stats.sent, acked: simulator.stats.acked, truth: simulator.totals() };
  };
  return { stop: () => (stopped ??= stop()) };
}

export interface Served {
  readonly status: number;
  readonly aggregate: Aggregate | undefined;
  /** The `x-ecwatch-source` header: `redis` or `kv`. */
  readonly source: string | null;
}

/** GET /communities/<id>. */
export async function getCommunity(apiUrl: string, communityId: string): Promise<Served> {
  const res = await fetch(`${apiUrl}/communities/${communityId}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as unknown;
  return { status: res.status, aggregate: res.ok ? (body as Aggregate) : undefined, source: res.headers.get("x-ecwatch-source") };
}

/** Whether an aggregate shows exactly the ground truth of its community. */
export function equalsTruth(aggregate: Aggregate | undefined, truth: TruthTotals | undefined): boolean {
  return aggregate !== undefined && truth !== undefined && aggregate.genW === truth.genW && aggregate.conW === truth.conW && aggregate.meters === truth.meters && aggregate.stale === truth.stale;
}

/** Waits until the API serves every community of `truth` exactly, and returns what it served, by community. */
export async function servedTruth(apiUrl: string, truth: Record<string, TruthTotals>, timeoutMs = 30_000): Promise<Map<string, Served>> {
  return eventually(
    async () => {
      const served = await Promise.all(Object.keys(truth).map(async (id) => [id, await getCommunity(apiUrl, id)] as const));
      return served.every(([id, s]) => equalsTruth(s.aggregate, truth[id])) ? new Map(served) : undefined;
    },
    timeoutMs,
    "the API to serve the ground truth of every community",
  );
}
