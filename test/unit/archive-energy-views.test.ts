/**
 * The archive's SQL views against the aggregator's rule in TypeScript (issue 22), on small
 * hand-made meters: the 15-minute energy of `meter_energy_15m` equals the ground truth's
 * (energy/community-meters.ts) to the bit, and `readings` holds each reading once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MeterState } from "../../src/domain/totals.js";
import { DEFAULT_STALE_AFTER_MS } from "../../src/energy/validity.js";
import { GroundTruth } from "../../src/sim/ground-truth.js";
import type { ArchivedReading } from "../../src/wire/archive-layout.js";
import { archivedQuarters, truthQuarters, writeArchive } from "../helpers/archive-energy.js";
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
