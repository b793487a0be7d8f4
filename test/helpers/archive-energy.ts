import { Compactor, type CompactorStats } from "../../src/archive/compactor.js";
import { ParquetDays } from "../../src/duckdb/parquet-days.js";
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";
import { type Energy, WMS_PER_WH } from "../../src/energy/meter-energy.js";
import type { Bus } from "../../src/nats/bus.js";
import type { GroundTruth } from "../../src/sim/ground-truth.js";
import { type ArchivedReading, segmentsOf } from "../../src/wire/archive-layout.js";
import { type Decoded, decodeReading } from "../../src/wire/decode-reading.js";
import { PARTITIONS, partitionOf, partitionStream } from "../../src/wire/names.js";
import { FakeClock } from "./fake-clock.js";
import { queryArchive } from "./archive-run.js";

/** A meter's energy in one quarter hour, in Wh, keyed `<meter> <ISO start>`. */
export type QuarterEnergy = Map<string, { readonly genWh: number; readonly conWh: number; readonly importWh: number; readonly exportWh: number }>;

const key = (meterId: string, startMs: number): string => `${meterId} ${new Date(startMs).toISOString()}`;

/** Every valid reading of `communityId`'s partition stream, in the order the stream holds them (the archiver's and the aggregator's input), duplicates included. */
export async function streamReadings(bus: Bus, communityId: string): Promise<Array<Extract<Decoded, { ok: true }>>> {
  const stream = partitionStream(partitionOf(communityId));
  const last = (await bus.jsm.streams.info(stream)).state.last_seq;
  const messages = await (await bus.js.consumers.get(stream)).consume({ max_messages: 5_000 });
  const readings: Array<Extract<Decoded, { ok: true }>> = [];
  for await (const msg of messages) {
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (decoded.ok && decoded.communityId === communityId) readings.push(decoded);
    if (msg.seq >= last) break;
  }
  await messages.close();
  return readings;
}

/** Writes readings into an archive as the archiver does: a segment per community and UTC day, named for `partition` and `tag`. */
export async function writeArchive(dir: string, readings: readonly ArchivedReading[], tag = "t", partition = 0): Promise<void> {
  const segments = await ParquetSegments.open(dir);
  try {
    for (const segment of segmentsOf(partition, readings, tag)) await segments.write(segment);
  } finally {
    segments.close();
  }
}

/** One pass of the archiver's compactor over every partition of the archive in `dir`, at wall-clock `nowMs`; any failure throws. */
export async function compactArchive(dir: string, nowMs: number, tag = "day1"): Promise<CompactorStats> {
  const days = await ParquetDays.open(dir);
  const errors: unknown[] = [];
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => partition);
    const compactor = Compactor.start(days, { clock: new FakeClock(nowMs), partitions: () => partitions, tag: () => tag, onError: (err) => errors.push(err) });
    await compactor.pass();
    await compactor.stop();
    if (errors.length) throw errors[0];
    return compactor.stats;
  } finally {
    days.close();
  }
}

/** meter_energy_15m of `communityId`, for the quarter hours starting in [fromMs, toMs). */
export async function archivedQuarters(dir: string, communityId: string, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<QuarterEnergy> {
  const rows = await queryArchive(
    dir,
    `SELECT meter_id, epoch_ms(bucket_start) AS start_ms, gen_wh, con_wh, import_wh, export_wh FROM meter_energy_15m WHERE community_id = '${communityId}' AND epoch_ms(bucket_start) >= ${fromMs} AND epoch_ms(bucket_start) < ${toMs}`,
  );
  const quarters: QuarterEnergy = new Map();
  for (const row of rows) {
    quarters.set(key(String(row.meter_id), Number(row.start_ms)), { genWh: Number(row.gen_wh), conWh: Number(row.con_wh), importWh: Number(row.import_wh), exportWh: Number(row.export_wh) });
  }
  return new Map([...quarters].sort(([a], [b]) => a.localeCompare(b)));
}

/** The ground truth's per-meter quarter hours of `communityId` in [fromMs, toMs), in Wh; quarters without energy left out, as the view leaves them. */
export function truthQuarters(truth: GroundTruth, communityId: string, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): QuarterEnergy {
  const quarters: QuarterEnergy = new Map();
  for (const [meterId, byQuarter] of truth.meterQuarters(communityId)) {
    for (const [startMs, e] of byQuarter as ReadonlyMap<number, Energy>) {
      if (startMs < fromMs || startMs >= toMs) continue;
      quarters.set(key(meterId, startMs), { genWh: e.genWms / WMS_PER_WH, conWh: e.conWms / WMS_PER_WH, importWh: e.importWms / WMS_PER_WH, exportWh: e.exportWms / WMS_PER_WH });
    }
  }
  return new Map([...quarters].sort(([a], [b]) => a.localeCompare(b)));
}

/** The largest |difference| in Wh between two sets of quarter hours, over every field. */
export function maxDifferenceWh(a: QuarterEnergy, b: QuarterEnergy): number {
  let max = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    for (const field of ["genWh", "conWh", "importWh", "exportWh"] as const) max = Math.max(max, Math.abs((x?.[field] ?? 0) - (y?.[field] ?? 0)));
  }
  return max;
}
