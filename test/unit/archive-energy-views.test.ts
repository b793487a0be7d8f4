/**
 * The archive's SQL views against the aggregator's rule in TypeScript (issue 22), on small
 * hand-made meters: the 15-minute energy of `meter_energy_15m` equals the ground truth's
 * (energy/community-meters.ts) to the bit, and `readings` holds each reading once.
 */
import { mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqlString } from "../../src/duckdb/parquet-segments.js";
import type { MeterState } from "../../src/domain/totals.js";
import { DEFAULT_STALE_AFTER_MS } from "../../src/energy/validity.js";
import { GroundTruth } from "../../src/sim/ground-truth.js";
import type { ArchivedReading } from "../../src/wire/archive-layout.js";
import { partitionOf } from "../../src/wire/names.js";
import { archivedQuarters, compactArchive, truthQuarters, writeArchive } from "../helpers/archive-energy.js";
import { queryArchive } from "../helpers/archive-run.js";

const C = "c1";
const T0 = Date.UTC(2026, 5, 21, 12);
const MIN = 60_000;
const WATERMARK = "watermark";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-views-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

type Reading = readonly [meterId: string, state: MeterState];

const at = (meterId: string, offsetMs: number, genW: number, conW: number, extra: Partial<MeterState> = {}): Reading => [meterId, { genW, conW, measuredAtMs: T0 + offsetMs, seq: T0 / 1000 + offsetMs, ...extra }];

/** The TypeScript rule's quarter hours of `readings` (in data-time order), made final by a later reading of another meter. */
function truthOf(readings: readonly Reading[]): GroundTruth {
  const truth = new GroundTruth(DEFAULT_STALE_AFTER_MS);
  for (const [meterId, state] of readings) truth.record(C, meterId, state);
  truth.record(C, WATERMARK, { genW: 0, conW: 0, measuredAtMs: T0 + 86_400_000, seq: 1 });
  return truth;
}

/** Archives `readings`, and returns the views' quarter hours beside the rule's. */
async function compare(readings: readonly Reading[]) {
  await writeArchive(
    dir,
    readings.map(([meterId, state], i) => ({ communityId: C, meterId, state, streamSeq: i + 1 })),
  );
  const truth = truthQuarters(truthOf(readings), C);
  truth.forEach((_, k) => k.startsWith(WATERMARK) && truth.delete(k));
  return { sql: await archivedQuarters(dir, C), truth };
}

describe("meter_energy_15m, by the aggregator's rule", () => {
  it("puts a 15-minute averaged value into the quarter hour before its measured_at", async () => {
    const gateway = { intervalMs: 15 * MIN, averaged: true };
    const { sql, truth } = await compare([at("gw", 15 * MIN, 400, 1_000, gateway), at("gw", 30 * MIN, 800, 200, gateway), at("gw", 60 * MIN, 0, 600, gateway)]);
    expect(sql).toEqual(truth);
    // 12:00–12:15 at 400 W / 1,000 W; 12:30–12:45 is missing (no 12:45 value); 12:45–13:00 at 600 W.
    expect([...sql.keys()]).toEqual(["gw 2026-06-21T12:00:00.000Z", "gw 2026-06-21T12:15:00.000Z", "gw 2026-06-21T12:45:00.000Z"]);
    expect(sql.get("gw 2026-06-21T12:00:00.000Z")).toEqual({ genWh: 100, conWh: 250, importWh: 150, exportWh: 0 });
    expect(sql.get("gw 2026-06-21T12:15:00.000Z")).toEqual({ genWh: 200, conWh: 50, importWh: 0, exportWh: 150 });
  });

  it("counts a meter that goes stale for its hold only (10 s + the 30 s floor), and again from its next reading", async () => {
    const S = 10_000;
    const readings = [0, 1, 2, 3, 4, 5].map((n) => at("m1", n * S, 0, 600)).concat([60, 61, 62].map((n) => at("m1", n * S, 0, 1_200)));
    const { sql, truth } = await compare(readings);
    expect(sql).toEqual(truth);
    // 600 W for 50 s to the last reading + its 40 s hold; 1,200 W for 20 s + 40 s from 12:10.
    expect(sql.get("m1 2026-06-21T12:00:00.000Z")!.conWh).toBe((600 * 90 + 1_200 * 60) / 3_600);
  });

  it("follows a learned cadence change from 1 minute to 15 minutes, and splits holds at quarter hours", async () => {
    const readings = [0, 1, 2, 3, 4].map((m) => at("m2", m * MIN, 3_000, 500)).concat([19, 34, 49, 64, 79, 94].map((m) => at("m2", m * MIN, 2_000 + m, 700)));
    const { sql, truth } = await compare(readings);
    expect(sql).toEqual(truth);
    expect(sql.size).toBeGreaterThan(6);
  });

  it("takes a correction (same measured_at, higher seq) and ends an instantaneous hold where an averaged value's interval starts", async () => {
    const readings: Reading[] = [
      at("m3", 0, 100, 0),
      at("m3", MIN, 100, 0),
      ["m3", { ...at("m3", MIN, 900, 0)[1], seq: T0 / 1000 + MIN + 1 }],
      at("m3", 2 * MIN, 100, 0),
      // Its interval starts at 12:02:30, before the 12:02 reading's hold would end (12:03:30).
      at("m3", 5 * MIN, 50, 300, { intervalMs: 2.5 * MIN, averaged: true }),
      at("m3", 10 * MIN, 50, 300, { intervalMs: 5 * MIN, averaged: true }),
    ];
    const { sql, truth } = await compare(readings);
    expect(sql).toEqual(truth);
  });
});

describe("readings", () => {
  it("holds a reading once when it was published twice or its segment is read twice, and keeps a correction beside it", async () => {
    const readings: ArchivedReading[] = [0, 1, 2].map((m, i) => ({ communityId: C, meterId: "m", state: at("m", m * MIN, 10, 20)[1], streamSeq: i + 1 }));
    const copy = { ...readings[1]!, streamSeq: 4 };
    const correction = { ...readings[2]!, state: { ...readings[2]!.state, genW: 99, seq: readings[2]!.state.seq + 1 }, streamSeq: 5 };
    await writeArchive(dir, [...readings, copy, correction], "a");
    // A compaction's output beside its inputs, for a moment.
    await writeArchive(dir, readings, "b");
    const rows = await queryArchive(dir, "SELECT meter_id, measured_at, gen_w, seq FROM readings ORDER BY measured_at, seq");
    expect(rows.map((row) => `${String(row.seq)} ${String(row.gen_w)}`)).toEqual(readings.map((r) => `${r.state.seq} 10`).concat([`${correction.state.seq} 99`]));
  });
});

describe("meter_energy_15m from the quarter hours computed at compaction", () => {
  const D = Date.UTC(2026, 5, 21);
  /** Past the end of 2026-06-22 by more than the compaction margin. */
  const AFTER = D + 2 * 86_400_000 + 2 * 3_600_000;
  const P = partitionOf(C);
  const reading = (meterId: string, atMs: number, genW: number, conW: number, streamSeq: number, extra: Partial<MeterState> = {}): ArchivedReading => ({
    communityId: C,
    meterId,
    state: { genW, conW, measuredAtMs: atMs, seq: atMs / 1000, ...extra },
    streamSeq,
  });
  /**
   * 2026-06-20 22:00 to 2026-06-22 02:00: a 1-minute meter and a 15-minute averaged gateway across
   * both midnights, and a meter whose last reading of the 21st (23:50, 15-minute cadence: it would
   * hold to 00:12:30) is cut at 23:50 by an averaged reading at 00:05 on the 22nd over 15 minutes.
   */
  function days(): ArchivedReading[] {
    const readings: ArchivedReading[] = [];
    const add = (meterId: string, atMs: number, genW: number, conW: number, extra?: Partial<MeterState>): void => void readings.push(reading(meterId, atMs, genW, conW, readings.length + 1, extra));
    for (let m = -120; m < 26 * 60; m += 1) add("m1", D + m * MIN + 7_000, (m * 37) % 900, 300 + ((m * 11) % 500));
    for (let m = -105; m <= 26 * 60; m += 15) add("gw", D + m * MIN, 0, 400 + (m % 7) * 50, { intervalMs: 15 * MIN, averaged: true });
    for (let m = 22 * 60 + 5; m <= 23 * 60 + 50; m += 15) add("edge", D + m * MIN, 1_000, 200);
    add("edge", D + 24 * 60 * MIN + 5 * MIN, 0, 900, { intervalMs: 15 * MIN, averaged: true });
    for (let m = 24 * 60 + 20; m <= 25 * 60; m += 15) add("edge", D + m * MIN, 1_000, 200);
    // Alone at 23:55 on the 22nd: it holds 22.5 minutes (no cadence learned yet), into the 23rd, which holds no readings.
    add("night", D + 48 * 60 * MIN - 5 * MIN, 700, 100);
    return readings;
  }
  const fresh = async (readings: readonly ArchivedReading[]) => {
    const other = mkdtempSync(join(tmpdir(), "ecwatch-views-fresh-"));
    try {
      await writeArchive(other, readings, "t", P);
      return await archivedQuarters(other, C);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  };
  const energyFiles = (): string[] => readdirSync(join(dir, "energy_15m"), { recursive: true }).map(String).filter((path) => path.endsWith(".parquet")).sort();

  it("gives the same rows before and after compaction, also at the midnights and where a reading of the next day cuts the day's last hold", async () => {
    const readings = days();
    // Each day in two segments, as flushes leave it.
    await writeArchive(dir, readings.filter((_, i) => i % 2 === 0), "a", P);
    await writeArchive(dir, readings.filter((_, i) => i % 2 === 1), "b", P);
    const before = await archivedQuarters(dir, C);
    expect((await compactArchive(dir, AFTER)).energy).toBe(3);
    expect(energyFiles()).toHaveLength(3);
    const after = await archivedQuarters(dir, C);
    expect(after).toEqual(before);
    expect(after.get("night 2026-06-23T00:00:00.000Z")!.genWh).toBe((700 * 15 * MIN) / 3_600_000);
    // The cut: the 23:50 reading holds for no time at all, so the 23:45 quarter hour of "edge" holds only the 23:35 reading, for its last 5 minutes.
    expect(after.get("edge 2026-06-21T23:45:00.000Z")).toEqual(before.get("edge 2026-06-21T23:45:00.000Z"));
    expect(after.get("edge 2026-06-21T23:45:00.000Z")!.genWh).toBe((1_000 * 5 * MIN) / 3_600_000);
  });

  it("reads a day from its readings again once a late segment arrives, until the next pass computes it and its neighbours again", async () => {
    const readings = days();
    await writeArchive(dir, readings, "a", P);
    await compactArchive(dir, AFTER);
    // On the 20th, late: the 20th and the 21st (whose first holds depend on it) are computed from their readings; the 22nd stays precomputed.
    const late = [reading("m1", D - 30 * MIN + 30_000, 5_000, 0, readings.length + 1)];
    await writeArchive(dir, late, "late", P);
    const expected = await fresh([...readings, ...late]);
    expect(await archivedQuarters(dir, C)).toEqual(expected);
    // Each quarter hour once: the 22nd's readings, read for the 21st, do not add the 23rd's quarter hour that the 22nd's file holds.
    expect(await queryArchive(dir, "SELECT count(*)::INTEGER AS n, count(DISTINCT (meter_id, bucket_start))::INTEGER AS once FROM meter_energy_15m")).toEqual([{ n: expected.size, once: expected.size }]);
    expect(expected).not.toEqual(await fresh(readings));
    const stats = await compactArchive(dir, AFTER, "day2");
    expect(stats).toEqual({ compactions: 1, merged: 2, expired: 0, energy: 2 });
    expect(energyFiles()).toHaveLength(3);
    expect(await archivedQuarters(dir, C)).toEqual(expected);
  });

  it("reads a finished day's quarter hours from its energy file, not from its readings", async () => {
    await writeArchive(dir, days(), "a", P);
    await compactArchive(dir, AFTER);
    const before = await archivedQuarters(dir, C);
    // One Wh more in every row of the 21st's file, written over it.
    const file = join(dir, "energy_15m", energyFiles().find((path) => path.includes("date=2026-06-21"))!);
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    try {
      await connection.run(`COPY (SELECT * REPLACE (gen_wh + 1 AS gen_wh) FROM read_parquet(${sqlString(file)})) TO ${sqlString(`${file}.x`)} (FORMAT parquet)`);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    renameSync(`${file}.x`, file);
    const after = await archivedQuarters(dir, C);
    for (const [key, energy] of before) expect(after.get(key)!.genWh, key).toBe(key.includes("2026-06-21T") ? energy.genWh + 1 : energy.genWh);
  });
});
