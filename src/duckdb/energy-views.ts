import { SETTLEMENT_INTERVAL_MS } from "../energy/buckets.js";
import { WMS_PER_WH } from "../energy/meter-energy.js";
import { DEFAULT_STALE_AFTER_MS, LEARNED_GAPS, UNKNOWN_CADENCE_MS } from "../energy/validity.js";

/**
 * The archive's views in SQL (issue 22): `readings` (each reading once) and the 15-minute energy
 * per meter and per community, by the aggregator's rule of validity (src/energy/validity.ts,
 * meter-integrator.ts) written as window functions, so that a settlement from the archive and
 * the live numbers are the same figures. docs/archive.md says where the two can differ.
 *
 * `source` is a SELECT of the segments' rows, with `stream_seq` (the reading's place in its
 * partition's stream) and the hive folder's `date`.
 */

/** The columns of `readings`, as the segments store them. */
export const READINGS_COLUMNS = "community_id, meter_id, measured_at, gen_w, con_w, seq, interval_ms, averaged";

/** The SELECT of the readings files `files` (a glob or a list, as SQL), their folders giving community_id and date. */
export const readingsSource = (files: string): string =>
  `SELECT ${READINGS_COLUMNS}, stream_seq, date FROM read_parquet(${files}, hive_partitioning = true, hive_types = {'community_id': VARCHAR, 'date': DATE}, union_by_name = true)`;

/** The UTC day (DATE) of a row of meter_energy_15m. */
export const BUCKET_DATE = "(bucket_start AT TIME ZONE 'UTC')::DATE";

const Q = SETTLEMENT_INTERVAL_MS;
const previous = Array.from({ length: LEARNED_GAPS }, (_, i) => `prev_${i + 1}`);
/** lag(at_ms, 1) … lag(at_ms, LEARNED_GAPS), as prev_1 … */
const lags = previous.map((name, i) => `lag(at_ms, ${i + 1}) OVER w AS ${name}`).join(", ");
/** The gaps between at_ms, prev_1, … prev_LEARNED_GAPS, the newest first: null where the meter has no reading that far back. */
const gaps = ["at_ms", ...previous].slice(0, -1).map((later, i) => `${later} - ${previous[i]}`);
const median3 = (x: string, y: string, z: string): string => `greatest(least(${x}, ${y}), least(greatest(${x}, ${y}), ${z}))`;
/**
 * The lower median of the gaps, as learnedCadenceMs (validity.ts): with all five, without a list
 * per row (of a, b, c, d the smallest and the largest cannot be the median; the median of five is
 * that of e and the two left); with fewer (a meter's first readings), sorted as a list.
 */
const learnedCadence = ((): string => {
  if (LEARNED_GAPS !== 5) throw new Error("the SQL median is written for 5 gaps");
  const [a, b, c, d, e] = gaps as [string, string, string, string, string];
  const all = median3(e, `greatest(least(${a}, ${b}), least(${c}, ${d}))`, `least(greatest(${a}, ${b}), greatest(${c}, ${d}))`);
  const fewer = `list_sort(list_filter([${gaps.join(", ")}], lambda g: g IS NOT NULL))[(${gaps.map((g) => `(${g} IS NOT NULL)::INTEGER`).join(" + ")} - 1) // 2 + 1]`;
  return `CASE WHEN prev_${LEARNED_GAPS} IS NOT NULL THEN ${all} ELSE ${fewer} END`;
})();

/**
 * One row per reading: a reading published twice (a duplicate with its own de-duplication id, a
 * retry after JetStream's duplicate window) or read twice (a segment and the compacted file that
 * replaces it, both there for a moment) is the same (community, meter, measured_at, seq) — what
 * the aggregator takes for the same reading (`isNewer`, domain/totals.ts). The first in its stream is kept.
 */
const readingsView = (source: string): string =>
  `CREATE VIEW readings AS SELECT ${READINGS_COLUMNS} FROM (${source}) ` +
  `QUALIFY row_number() OVER (PARTITION BY community_id, meter_id, measured_at, seq ORDER BY stream_seq) = 1`;

/**
 * The SELECT of meter_energy_15m over `source` (also what compaction runs over a finished day and
 * its neighbours, parquet-days.ts): per meter and quarter hour (UTC), the energy of its pieces of
 * constant power [from_ms, to_ms), by the rule: per meter and
 * moment the reading with the highest seq (a correction wins, as in the aggregator); an averaged
 * reading covers its interval_ms before measured_at, back to at most the reading before; an
 * instantaneous one holds until the next reading (the start of its interval when that one is
 * averaged), for at most its hold = cadence + max(stale-after floor, cadence / 2), its cadence
 * declared or the lower median of its meter's last gaps (UNKNOWN_CADENCE_MS with none). Each
 * piece is split at the quarter hours and summed in whole W·ms (exact, in any order), then in Wh.
 */
export const meterEnergySelect = (source: string): string => `
WITH corrected AS (
  SELECT community_id, meter_id, epoch_ms(measured_at) AS at_ms, arg_max(struct_pack(gen_w, con_w, interval_ms, averaged), seq) AS r
  FROM (${source}) GROUP BY community_id, meter_id, measured_at
), latest AS (
  SELECT community_id, meter_id, at_ms, r.gen_w, r.con_w, r.interval_ms, coalesce(r.averaged, false) AS averaged FROM corrected
), neighbours AS (
  -- one sort: lag offsets, not a list per window frame, give the meter's last LEARNED_GAPS gaps
  SELECT *, lead(at_ms) OVER w AS next_ms, lead(CASE WHEN averaged THEN interval_ms END) OVER w AS next_interval_ms, ${lags}
  FROM latest
  WINDOW w AS (PARTITION BY community_id, meter_id ORDER BY at_ms)
), cadenced AS (
  SELECT *, prev_1 AS prev_ms, coalesce(interval_ms, ${learnedCadence}, ${UNKNOWN_CADENCE_MS}) AS cadence_ms
  FROM neighbours
), intervals AS (
  SELECT community_id, meter_id, gen_w, con_w,
    CASE WHEN averaged THEN greatest(at_ms - interval_ms, prev_ms) ELSE at_ms END AS from_ms,
    -- least() passes over a null: the newest reading holds for its whole hold
    CASE WHEN averaged THEN at_ms
         ELSE least(next_ms - coalesce(next_interval_ms, 0), at_ms + cadence_ms + greatest(${DEFAULT_STALE_AFTER_MS}, cadence_ms // 2)) END AS to_ms
  FROM cadenced
), pieces AS (
  SELECT *, from_ms // ${Q} AS first_q, (to_ms - 1) // ${Q} AS last_q FROM intervals WHERE to_ms > from_ms
), split AS (
  SELECT community_id, meter_id, gen_w, con_w, first_q AS q, to_ms - from_ms AS ms FROM pieces WHERE first_q = last_q
  UNION ALL
  SELECT community_id, meter_id, gen_w, con_w, q, least(to_ms, (q + 1) * ${Q}) - greatest(from_ms, q * ${Q}) AS ms
  FROM (SELECT *, unnest(range(first_q, last_q + 1)) AS q FROM pieces WHERE first_q < last_q)
)
SELECT community_id, meter_id, to_timestamp(q * ${Q / 1000}) AS bucket_start,
  sum(gen_w::BIGINT * ms) / ${WMS_PER_WH} AS gen_wh,
  sum(con_w::BIGINT * ms) / ${WMS_PER_WH} AS con_wh,
  sum(greatest(con_w - gen_w, 0)::BIGINT * ms) / ${WMS_PER_WH} AS import_wh,
  sum(greatest(gen_w - con_w, 0)::BIGINT * ms) / ${WMS_PER_WH} AS export_wh
FROM split GROUP BY community_id, meter_id, q`;

/**
 * The days whose quarter hours were computed at compaction (see dayEnergy,
 * src/wire/archive-layout.ts), as `<community>/<YYYY-MM-DD>`.
 */
export interface Precomputed {
  /** Their energy files (paths DuckDB can read). */
  readonly files: readonly string[];
  /** The days those hold (a day's file also holds the day after when that has no readings). */
  readonly days: readonly string[];
  /** The days whose readings no other day needs: precomputed, as are the days before and after (or those hold nothing). */
  readonly unneeded: readonly string[];
}

const stringList = (values: readonly string[]): string => `[${values.map((value) => `'${value.replaceAll("'", "''")}'`).join(", ")}]`;

/**
 * The precomputed days' rows, and the rule over the readings of every other day (with those of
 * its neighbours, which its first and last holds need), cut to that day's quarter hours; a
 * filter on the folders' `date` lets DuckDB skip the files of the days not needed.
 */
const meterView = (source: string, precomputed: Precomputed | undefined): string => {
  if (!precomputed?.files.length) return `CREATE VIEW meter_energy_15m AS ${meterEnergySelect(source)}`;
  const needed = `SELECT * FROM (${source}) WHERE NOT list_contains(${stringList(precomputed.unneeded)}, community_id || '/' || date::VARCHAR)`;
  return `CREATE VIEW meter_energy_15m AS
SELECT community_id, meter_id, bucket_start, gen_wh, con_wh, import_wh, export_wh FROM read_parquet(${stringList(precomputed.files)})
UNION ALL
SELECT * FROM (${meterEnergySelect(needed)}) WHERE NOT list_contains(${stringList(precomputed.days)}, community_id || '/' || ${BUCKET_DATE}::VARCHAR)`;
};

/** The meters' quarter hours summed per community; shared = min(Σ export, Σ import) within each (docs/energy.md, KPIs). */
const communityView = `
CREATE VIEW community_energy_15m AS
SELECT community_id, bucket_start, sum(gen_wh) AS gen_wh, sum(con_wh) AS con_wh, sum(import_wh) AS import_wh, sum(export_wh) AS export_wh,
  least(sum(import_wh), sum(export_wh)) AS shared_wh
FROM meter_energy_15m GROUP BY community_id, bucket_start`;

/** The statements that create the archive's views over `source` (and the quarter hours `precomputed`), in order. */
export const archiveViews = (source: string, precomputed?: Precomputed): readonly string[] => [readingsView(source), meterView(source, precomputed), communityView];
