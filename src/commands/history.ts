import type { ChalkInstance } from "chalk";
import { openApiClient } from "../app/api-client.js";
import { refusedQueryError } from "../cli/api-failure.js";
import { colorsFor } from "../cli/output.js";
import { formatDuration, parseDuration } from "../domain/duration.js";
import type { BucketJson, Step } from "../energy/history-query.js";
import { ExitCode } from "../errors.js";
import { lineChart } from "../tui/line-chart.js";

export interface HistoryFlags {
  readonly api?: string;
  /** Milliseconds back from now (`--since 24h`). */
  readonly since?: number;
  readonly from?: string;
  readonly to?: string;
  readonly step: Step;
  readonly tz?: string;
  /** One meter's history instead of the community's (from the archive, issue 23). */
  readonly meter?: string;
  readonly json?: boolean;
  readonly csv?: boolean;
}

/** The query string of GET /communities/{id}/history for the flags (the API checks it again). */
export function historyParams(flags: HistoryFlags): URLSearchParams {
  const params = new URLSearchParams();
  if (flags.since !== undefined) {
    // As written on the command line when that is exact (`-24h`), else in milliseconds.
    const written = formatDuration(flags.since);
    params.set("from", `-${parseDuration(written) === flags.since ? written : `${flags.since}ms`}`);
  }
  if (flags.from !== undefined) params.set("from", flags.from);
  if (flags.to !== undefined) params.set("to", flags.to);
  params.set("step", flags.step);
  if (flags.tz) params.set("tz", flags.tz);
  return params;
}

/** Energy with a unit that fits: Wh below 10 kWh, else kWh. */
export function formatEnergy(wh: number): string {
  return Math.abs(wh) < 10_000 ? `${wh.toFixed(1)} Wh` : `${(wh / 1000).toFixed(2)} kWh`;
}

export function formatFraction(value: number | null): string {
  return value === null ? "–" : `${(value * 100).toFixed(1)} %`;
}

/** A bucket's start as local time in the zone, `YYYY-MM-DD HH:MM`. */
export function localStart(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
}

const COLUMNS = ["start", "generation", "consumption", "grid import", "grid export", "shared", "self-suff.", "self-cons."] as const;

/** The buckets as a table of text, a header and one line per bucket. */
export function historyTable(buckets: readonly BucketJson[], timeZone: string, c: ChalkInstance): string[] {
  const rows = buckets.map((b) => [
    localStart(b.start, timeZone),
    formatEnergy(b.genWh),
    formatEnergy(b.conWh),
    formatEnergy(b.gridImportWh),
    formatEnergy(b.gridExportWh),
    formatEnergy(b.sharedWh),
    formatFraction(b.selfSufficiency),
    formatFraction(b.selfConsumption),
  ]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  // A bucket not final yet (its quarter hour still open, a meter within its grace, late readings counted) is marked.
  const mark = (b: BucketJson): string => (b.complete ? "" : c.yellow(b.late ? `  ~ not final: ${b.late} late` : "  ~ not final"));
  return [c.bold(line(COLUMNS)), ...rows.map((row, i) => line(row) + mark(buckets[i]!))];
}

/** Totals of the buckets: energy added up, shared energy as matched per interval, fractions from the sums. */
export function totalsOf(buckets: readonly BucketJson[]): { genWh: number; conWh: number; gridImportWh: number; gridExportWh: number; sharedWh: number; selfSufficiency: number | null; selfConsumption: number | null } {
  const sum = (key: "genWh" | "conWh" | "gridImportWh" | "gridExportWh" | "sharedWh") => buckets.reduce((total, b) => total + b[key], 0);
  const [genWh, conWh, gridImportWh, gridExportWh, sharedWh] = [sum("genWh"), sum("conWh"), sum("gridImportWh"), sum("gridExportWh"), sum("sharedWh")];
  return {
    genWh,
    conWh,
    gridImportWh,
    gridExportWh,
    sharedWh,
    selfSufficiency: conWh > 0 ? 1 - gridImportWh / conWh : null,
    selfConsumption: genWh > 0 ? 1 - gridExportWh / genWh : null,
  };
}

/** Generation and consumption per bucket as a line chart (kWh per bucket on the y axis), with a legend. */
export function historyChart(buckets: readonly BucketJson[], columns: number, c: ChalkInstance): string[] {
  if (buckets.length < 2) return [];
  const colours = [c.green, c.yellow];
  const chart = lineChart([buckets.map((b) => b.genWh / 1000), buckets.map((b) => b.conWh / 1000)], {
    height: 12,
    width: Math.max(10, columns - 12),
    format: (kwh) => kwh.toFixed(2),
    paint: (index, text) => colours[index]!(text),
  });
  return [`${c.dim("kWh per bucket:")} ${c.green("─ generation")}  ${c.yellow("─ consumption")}`, ...chart];
}

export async function runHistory(communityId: string, flags: HistoryFlags): Promise<ExitCode> {
  const api = openApiClient(flags, { timeoutMs: 30_000 });
  const params = historyParams(flags);
  const request = { meterId: flags.meter };
  let buckets: BucketJson[];
  try {
    if (flags.csv) {
      process.stdout.write(await api.historyCsv(communityId, params, request));
      return ExitCode.Ok;
    }
    buckets = await api.history(communityId, params, request);
  } catch (err) {
    throw refusedQueryError(err, "Check --since, --from, --to, --step and --tz.");
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(buckets)}\n`);
    return ExitCode.Ok;
  }
  const c = colorsFor(process.stdout);
  const timeZone = flags.tz ?? "UTC";
  const subject = flags.meter === undefined ? communityId : `${communityId} · meter ${flags.meter}`;
  if (!buckets.length) {
    process.stdout.write(`${subject}: no energy recorded in this range (step ${flags.step}, ${timeZone}).\n`);
    return ExitCode.Ok;
  }
  const totals = totalsOf(buckets);
  const lines = [
    c.bold(`${subject} · ${buckets.length} buckets of ${flags.step} · ${localStart(buckets[0]!.start, timeZone)} – ${localStart(buckets.at(-1)!.end, timeZone)} (${timeZone})`),
    ...historyTable(buckets, timeZone, c),
    "",
    ...historyChart(buckets, process.stdout.columns ?? 100, c),
    "",
    `${c.bold("total")}  generation ${formatEnergy(totals.genWh)} · consumption ${formatEnergy(totals.conWh)} · grid import ${formatEnergy(totals.gridImportWh)} · grid export ${formatEnergy(totals.gridExportWh)} · shared ${formatEnergy(totals.sharedWh)}`,
    `${c.bold("KPIs")}   self-sufficiency ${formatFraction(totals.selfSufficiency)} · self-consumption ${formatFraction(totals.selfConsumption)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return ExitCode.Ok;
}
