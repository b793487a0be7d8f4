import { formatDuration } from "../domain/duration.js";
import { formatKw } from "../domain/format-power.js";
import type { MeterListJson } from "../energy/meter-list.js";
import { type ColorMode, DEFICIT_GRADIENT, SURPLUS_GRADIENT, UNIT_COLOR } from "./color.js";
import { paint } from "./details.js";
import { sparkline } from "./sparkline.js";

/**
 * The monitor's meter table (issue 23, key `m`): a community's meters now, the biggest exporters
 * at the top and the biggest importers at the bottom, stale ones marked, each with a sparkline of
 * its net power over the last minutes (one sample per refresh). Pure.
 */

/** The meters of a community (GET /communities/{id}/meters), as the monitor asks for them. */
export interface MeterSource {
  meters(communityId: string, params: URLSearchParams): Promise<MeterListJson>;
}

/** Samples of net power kept per meter: 3 minutes at one refresh a second. */
export const METER_SAMPLES = 180;

/** Adds each meter's net power now to its samples (a stale meter's as a gap), keeping the last METER_SAMPLES. */
export function addSamples(samples: Map<string, number[]>, list: MeterListJson): void {
  for (const meter of list.meters) {
    let series = samples.get(meter.meterId);
    if (!series) samples.set(meter.meterId, (series = []));
    series.push(meter.stale ? Number.NaN : meter.netW);
    if (series.length > METER_SAMPLES) series.splice(0, series.length - METER_SAMPLES);
  }
}

/**
 * The table in at most `rows` lines of `columns`: a title, a header, and the meters from the
 * biggest exporter down to the biggest importer (the API's `-net` order); when they do not all
 * fit, the top and the bottom with a line saying how many are left out between them.
 */
export function meterTableLines(list: MeterListJson, samples: ReadonlyMap<string, readonly number[]>, columns: number, rows: number, mode: ColorMode): string[] {
  const idWidth = Math.min(16, Math.max(5, ...list.meters.map((m) => m.meterId.length)));
  const fixed = idWidth + 2 + 10 + 2 + 7 + 2;
  const sparkWidth = Math.max(0, Math.min(60, columns - fixed - 8));
  const title = `${list.communityId} · ${list.count} meters, ${list.stale} stale · net power, last ${formatDuration(sparkWidth * 1_000)}`;
  const header = paint(`${"meter".padEnd(idWidth)}  ${"net".padStart(10)}  ${"age".padStart(7)}  ${"".padEnd(sparkWidth)}`, UNIT_COLOR, mode);
  const line = (m: MeterListJson["meters"][number]): string => {
    const text = `${m.meterId.slice(0, idWidth).padEnd(idWidth)}  ${formatKw(m.netW, true).padStart(10)}  ${formatDuration(m.ageMs).padStart(7)}  ${sparkline(samples.get(m.meterId) ?? [], sparkWidth)}`;
    if (m.stale) return `${paint(text, UNIT_COLOR, mode)}  ${paint("stale", DEFICIT_GRADIENT.to, mode)}`;
    return m.netW === 0 ? text : paint(text, m.netW > 0 ? SURPLUS_GRADIENT.from : DEFICIT_GRADIENT.from, mode);
  };
  const room = Math.max(2, rows - 2);
  if (list.meters.length <= room) return [title, header, ...list.meters.map(line)];
  const top = Math.ceil((room - 1) / 2);
  const bottom = room - 1 - top;
  const hidden = list.meters.length - top - bottom;
  return [title, header, ...list.meters.slice(0, top).map(line), paint(`  … ${hidden} more`, UNIT_COLOR, mode), ...list.meters.slice(list.meters.length - bottom).map(line)];
}
