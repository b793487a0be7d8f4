/**
 * Compaction of finished days on real Parquet (issue 22): many small segments become one file per
 * community and day with the same rows; a crash at any of its steps loses and duplicates nothing;
 * and a real archiver on a real nats-server, restarted after compaction with every reading
 * delivered again, writes none of them twice.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { startArchiving } from "../../src/app/archive.js";
import { Compactor } from "../../src/archive/compactor.js";
import type { DayStore } from "../../src/archive/ports.js";
import { ArchiveQuery } from "../../src/duckdb/archive-query.js";
import { ParquetDays } from "../../src/duckdb/parquet-days.js";
import { ParquetSegments, sqlString } from "../../src/duckdb/parquet-segments.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { type ArchivedReading, segmentsOf } from "../../src/wire/archive-layout.js";
import { PARTITIONS, archiveConsumer, meterReadingSubject, partitionOf, partitionStream } from "../../src/wire/names.js";
import { meterReading } from "../helpers/archive-fakes.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

const C = "community1";
const P = partitionOf(C);
const MINUTE = 60_000;
/** 2026-06-21 22:00 UTC: readings over two hours fill two days. */
const START = Date.UTC(2026, 5, 21, 22);
/** Both days are over by more than the margin. */
const clock = (): FakeClock => new FakeClock(Date.UTC(2026, 5, 23, 12));

const base = mkdtempSync(join(tmpdir(), "ecwatch-compaction-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const reading = (streamSeq: number): ArchivedReading => ({
  communityId: C,
  meterId: `m${streamSeq % 5}`,
  state: { genW: streamSeq * 3, conW: streamSeq % 7, measuredAtMs: START + streamSeq * MINUTE, seq: streamSeq, intervalMs: MINUTE, ...(streamSeq % 2 ? { averaged: true } : {}) },
  streamSeq,
});

/** Writes readings 1…count as segments of `perFlush` readings each, as flushes of partition P would. */
async function writeSegments(dir: string, count: number, perFlush: number): Promise<void> {
  const segments = await ParquetSegments.open(dir);
  try {
    for (let first = 1; first <= count; first += perFlush) {
      const readings = Array.from({ length: Math.min(perFlush, count - first + 1) }, (_, i) => reading(first + i));
      for (const segment of segmentsOf(P, readings, `f${first}`)) await segments.write(segment);
    }
  } finally {
    segments.close();
  }
}

/** Every row a reader's glob sees (temporary files excluded), stream sequence first, sorted. */
async function rowsOf(dir: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT concat_ws('/', stream_seq, date, meter_id, epoch_ms(measured_at), gen_w, con_w, seq, interval_ms, coalesce(averaged::VARCHAR, '-')) FROM read_parquet(${sqlString(join(dir, "*", "*", "*.parquet"))}, hive_partitioning = true) ORDER BY stream_seq`,
    );
    return reader.getRows().map(([row]) => String(row));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const distinct = (rows: readonly string[]): string[] => [...new Set(rows)];
const allParquet = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((entry) => entry.endsWith(".parquet")).sort();
/** The readings files (the energy folder's quarter hours left out). */
const parquetFiles = (dir: string): string[] => allParquet(dir).filter((entry) => !entry.startsWith("energy_15m/"));
/** The days' energy files, as `<date>: <before>~<day>~<after>` with each compacted file's stem as `compacted`. */
const energyFiles = (dir: string): string[] =>
  allParquet(dir)
    .filter((entry) => entry.startsWith("energy_15m/"))
    .map((entry) => entry.replace(/^energy_15m\/community_id=[^/]+\/date=([^/]+)\//, "$1: ").replace(/p\d-\d{12}-\d{12}-day[0-9a-z]+/g, "compacted"));

async function compactOnce(store: DayStore, onError?: (err: unknown) => void): Promise<Compactor> {
  const compactor = Compactor.start(store, { clock: clock(), partitions: () => [P], onError: onError ?? ((err) => expect.fail(String(err))) });
  await compactor.pass();
  await compactor.stop();
  return compactor;
}

describe("compaction on real Parquet", () => {
  it("many small segments become one file per community and day with the same rows, and the archiver's restart still finds every stream sequence", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(base, "many-"));
    await writeSegments(dir, 150, 4);
    const before = await rowsOf(dir);
    expect(before).toHaveLength(150);
    expect(parquetFiles(dir).length).toBeGreaterThan(30);
    const days = await ParquetDays.open(dir);
    try {
      const compactor = await compactOnce(days);
      expect(compactor.stats.compactions).toBe(2);
    } finally {
      days.close();
    }
    expect(parquetFiles(dir).map((file) => file.replace(/\/p\d-.*-day[0-9a-z]+\.parquet$/, "/compacted"))).toEqual([
      `community_id=${C}/date=2026-06-21/compacted`,
      `community_id=${C}/date=2026-06-22/compacted`,
    ]);
    // Each day's quarter hours, computed from its file and its neighbour's, beside (not among) the readings.
    expect(energyFiles(dir)).toEqual(["2026-06-21: none~compacted~compacted.parquet", "2026-06-22: compacted~compacted~none.parquet"]);
    expect(await rowsOf(dir)).toEqual(before);
    const segments = await ParquetSegments.open(dir);
    try {
      expect((await segments.storedSeqs(P, 100)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
    } finally {
      segments.close();
    }
    const query = await ArchiveQuery.open(dir);
    try {
      expect((await query.run("SELECT count(*)::INTEGER AS n, count(DISTINCT meter_id || '/' || seq)::INTEGER AS once FROM readings")).rows).toEqual([{ n: 150, once: 150 }]);
    } finally {
      query.close();
    }
  });

  it("a crash at any step of a compaction loses and duplicates nothing, and the next pass leaves one file a day", { timeout: 120_000 }, async () => {
    // merge, rename, sync the folder, remove each of the five segments, sync the folder, write the day's quarter hours.
    const CALLS = 5 + 5;
    for (let failAt = 0; failAt < CALLS; failAt += 1) {
      const dir = mkdtempSync(join(base, `crash-${failAt}-`));
      // One day (22:00 to 23:00), five segments.
      await writeSegments(dir, 50, 10);
      const before = await rowsOf(dir);
      const days = await ParquetDays.open(dir);
      try {
        let calls = 0;
        // The real store, stopped at its failAt-th call as a crash would stop it.
        const crashing = new Proxy(days, {
          get(target, key, receiver) {
            const value = Reflect.get(target, key, receiver) as unknown;
            if (key === "days" || typeof value !== "function") return value;
            return async (...args: unknown[]) => {
              if (calls++ === failAt) throw new Error(`crash at ${String(key)}`);
              return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            };
          },
        });
        const errors: unknown[] = [];
        await compactOnce(crashing, (err) => errors.push(err));
        expect(errors, `crash at call ${failAt}`).toHaveLength(1);
        expect(distinct(await rowsOf(dir)), `crash at call ${failAt}`).toEqual(before);
        await compactOnce(days);
      } finally {
        days.close();
      }
      expect(parquetFiles(dir), `after a crash at call ${failAt}`).toHaveLength(1);
      expect(energyFiles(dir), `after a crash at call ${failAt}`).toEqual(["2026-06-21: none~compacted~none.parquet"]);
      expect(await rowsOf(dir), `after a crash at call ${failAt}`).toEqual(before);
    }
  });
});

describe("a real archiver", () => {
  let stack: TestStack;
  let bus: Bus;
  beforeEach(async () => {
    stack = await startTestStack();
    bus = await openBus(stack.natsUrl, "test-compaction");
  });
  afterEach(async () => {
    await bus?.close();
    await stack?.stop();
  });

  const archived = (): Promise<true> =>
    eventually(
      async () => {
        const infos = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => bus.jsm.consumers.info(partitionStream(p), archiveConsumer(p))));
        return infos.every((info) => info.num_pending + info.num_ack_pending === 0) ? true : undefined;
      },
      60_000,
      "the archiver to acknowledge everything",
    );

  it("restarted after compaction with every reading delivered again, writes none of them twice", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(base, "archiver-"));
    const publish = async (from: number, to: number): Promise<void> => {
      for (let seq = from; seq <= to; seq += 1) {
        const meter = `m${seq % 4}`;
        await bus.js.publish(meterReadingSubject(C, meter), meterReading(C, meter, new Date(START + seq * MINUTE).toISOString(), seq));
      }
    };
    const first = await startArchiving(stack.natsUrl, dir, { flushMs: 200, days: { clock: clock(), everyMs: 3_600_000 } });
    try {
      // Readings 120… are of the second day.
      for (const [from, to] of [[1, 40], [41, 80], [81, 125], [126, 150]] as const) {
        await publish(from, to);
        await archived();
      }
      expect(parquetFiles(dir).length).toBeGreaterThanOrEqual(4);
      await first.compactor.pass();
      expect(first.compactor.stats.compactions).toBe(2);
    } finally {
      await first.stop();
    }
    const before = await rowsOf(dir);
    expect(distinct(before)).toHaveLength(150);
    expect(parquetFiles(dir)).toHaveLength(2);
    // A consumer made anew delivers the whole stream again: only the compacted files can tell the archiver what it holds.
    await bus.jsm.consumers.delete(partitionStream(P), archiveConsumer(P));
    const again = await startArchiving(stack.natsUrl, dir, { flushMs: 200, days: { clock: clock(), everyMs: 3_600_000 } });
    try {
      await archived();
      expect(again.archiver.stats).toMatchObject({ alreadyStored: 150, archived: 0, segments: 0 });
    } finally {
      await again.stop();
    }
    expect(await rowsOf(dir)).toEqual(before);
    expect(parquetFiles(dir)).toHaveLength(2);
  });
});
