/**
 * What the archive's integration tests share (issue 22): a simulated run published to JetStream,
 * the valid readings the partition streams hold, the archivers' consumers caught up, and the rows
 * the archive holds, read back with DuckDB.
 */
import { expect } from "vitest";
import { ArchiveQuery } from "../../src/duckdb/archive-query.js";
import type { Bus } from "../../src/nats/bus.js";
import { connectNats } from "../../src/nats/connect.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { parseFaults } from "../../src/sim/faults.js";
import { planSimulation } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { decodeReading } from "../../src/wire/decode-reading.js";
import { PARTITIONS, archiveConsumer, partitionStream } from "../../src/wire/names.js";
import { eventually } from "./stack.js";

export const HOUR = 3_600_000;

export interface SimulatedRun {
  /** A scenario file; default: --meters households. */
  readonly scenario?: string;
  readonly communities: number;
  readonly meters?: number;
  readonly hours: number;
  /** Data time per wall-clock time. */
  readonly speed: number;
  readonly startMs: number;
}

/** The run published to JetStream, with 2 % duplicates and 2 % reordered readings. */
export async function simulate(natsUrl: string, run: SimulatedRun): Promise<Simulator> {
  const nc = await connectNats(natsUrl, "test-archive-sim");
  try {
    const simulation = planSimulation({
      scenario: run.scenario,
      communities: run.communities,
      meters: run.meters ?? 0,
      seed: 7,
      level: "meter",
      intervalMs: 60_000,
      startMs: run.startMs,
      durationMs: run.hours * HOUR,
      faults: parseFaults("duplicate=0.02,reorder=0.02"),
      phase: "spread",
      jitter: 0.1,
    });
    const simulator = new Simulator(new JetStreamPublisher(nc), simulation.source, { speed: run.speed, staleAfterMs: 30_000 });
    await simulator.start();
    expect(simulator.stats.errors).toBe(0);
    return simulator;
  } finally {
    await nc.drain();
  }
}

/**
 * Every valid reading the partition streams hold (of `partitions`, default all), as
 * `community/meter/seq`, once (a reading published twice is two messages, one row of `readings`), sorted.
 */
export async function validReadingsOfStreams(bus: Bus, partitions: readonly number[] = Array.from({ length: PARTITIONS }, (_, p) => p)): Promise<string[]> {
  const keys: string[] = [];
  for (const partition of partitions) {
    const stream = partitionStream(partition);
    const last = (await bus.jsm.streams.info(stream)).state.last_seq;
    if (last === 0) continue;
    const ordered = await bus.js.consumers.get(stream);
    const messages = await ordered.consume({ max_messages: 5_000 });
    for await (const msg of messages) {
      const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
      if (decoded.ok) keys.push(`${decoded.communityId}/${decoded.meterId}/${decoded.state.seq}`);
      if (msg.seq >= last) break;
    }
    await messages.close();
  }
  return [...new Set(keys)].sort();
}

/** Resolves once the archivers' consumers have nothing left to deliver or acknowledge. */
export const archived = (bus: Bus, timeoutMs: number): Promise<true> =>
  eventually(
    async () => {
      const infos = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => bus.jsm.consumers.info(partitionStream(p), archiveConsumer(p))));
      return infos.every((info) => info.num_pending + info.num_ack_pending === 0) ? true : undefined;
    },
    timeoutMs,
    "the archivers to acknowledge everything",
  );

/** Runs one SELECT over the archive in `dir`. */
export async function queryArchive(dir: string, sql: string): Promise<ReadonlyArray<Readonly<Record<string, unknown>>>> {
  const query = await ArchiveQuery.open(dir);
  try {
    return (await query.run(sql)).rows;
  } finally {
    query.close();
  }
}

/** The archive's rows (of `communityId`, default all), as `community/meter/seq`, read back through the `readings` view, sorted. */
export async function archivedRows(dir: string, communityId?: string): Promise<string[]> {
  const where = communityId ? ` WHERE community_id = '${communityId}'` : "";
  const rows = await queryArchive(dir, `SELECT community_id || '/' || meter_id || '/' || seq AS key FROM readings${where}`);
  return rows.map((row) => String(row.key)).sort();
}
