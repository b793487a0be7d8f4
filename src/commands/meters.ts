import type { ChalkInstance } from "chalk";
import type { ApiClient } from "../api-client/api-client.js";
import { openApiClient } from "../app/api-client.js";
import { refusedQueryError } from "../cli/api-failure.js";
import { colorsFor, LiveBlock } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { formatDuration } from "../domain/duration.js";
import { formatKw } from "../domain/format-power.js";
import { toCsv } from "../energy/history-query.js";
import { METER_FIELDS, type MeterListJson, type MeterSort } from "../energy/meter-list.js";
import { EcwatchError, ExitCode } from "../errors.js";

export interface MetersFlags {
  readonly api?: string;
  /** Default `-net`: exporters first. */
  readonly sort: MeterSort;
  readonly limit?: number;
  /** Only the stale meters. */
  readonly stale?: boolean;
  readonly json?: boolean;
  readonly csv?: boolean;
  /** Redraw the table in place at each change of the community (at most once a second). */
  readonly watch?: boolean;
}

/** A live table is fetched again at most this often, however fast the community changes. */
const WATCH_EVERY_MS = 1_000;

const BAD_QUERY_HINT = "Check --sort and --limit.";

/** The query string of GET /communities/{id}/meters: with --stale the limit is applied after keeping the stale ones. */
export function metersParams(flags: MetersFlags): URLSearchParams {
  const params = new URLSearchParams({ sort: flags.sort });
  if (flags.limit !== undefined && !flags.stale) params.set("limit", String(flags.limit));
  return params;
}

/** The answer as the flags want it: with --stale only stale meters, cut at --limit. */
export function selectMeters(list: MeterListJson, flags: MetersFlags): MeterListJson {
  if (!flags.stale) return list;
  return { ...list, meters: list.meters.filter((m) => m.stale).slice(0, flags.limit) };
}

const COLUMNS = ["meter", "gen", "con", "net", "cadence", "age", ""] as const;

/** The meter list as lines of text: a title, a header and one line per meter, stale ones marked. */
export function metersTable(list: MeterListJson, c: ChalkInstance): string[] {
  const title = c.bold(`${list.communityId} · ${list.count} meters, ${list.stale} stale · newest reading ${list.measuredAt.replace(/\.\d{3}Z$/, "Z")} (data time)`);
  if (!list.meters.length) return [title, c.dim("no meter to show")];
  const rows = list.meters.map((m) => [m.meterId, formatKw(m.genW), formatKw(m.conW), formatKw(m.netW, true), m.cadenceMs === null ? "?" : formatDuration(m.cadenceMs), formatDuration(m.ageMs), m.stale ? "stale" : ""]);
  const widths = COLUMNS.map((name, i) => Math.max(name.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd();
  return [
    title,
    c.bold(line(COLUMNS)),
    ...rows.map((row, i) => {
      const meter = list.meters[i]!;
      const text = line(row);
      return meter.stale ? c.yellow(text) : meter.netW > 0 ? c.green(text) : meter.netW < 0 ? c.red(text) : text;
    }),
  ];
}

async function fetchMeters(api: ApiClient, communityId: string, flags: MetersFlags): Promise<MeterListJson> {
  try {
    return selectMeters(await api.meters(communityId, metersParams(flags)), flags);
  } catch (err) {
    throw refusedQueryError(err, BAD_QUERY_HINT);
  }
}

/** `--watch`: the table again at each change of the community's aggregate (its SSE stream), at most once a second, until Ctrl-C. */
async function watchMeters(api: ApiClient, communityId: string, flags: MetersFlags): Promise<ExitCode> {
  const c = colorsFor(process.stdout);
  // Off a terminal (a pipe, a log) each table fetched is printed whole: the fetches are paced already.
  const block = new LiveBlock(process.stdout, 0);
  let failed: unknown;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let timer: NodeJS.Timeout | undefined;
  let lastMs = Number.NEGATIVE_INFINITY;
  const refresh = (): void => {
    timer = undefined;
    lastMs = Date.now();
    fetchMeters(api, communityId, flags).then(
      (list) => block.render(metersTable(list, c)),
      (err: unknown) => {
        failed = err;
        stop();
      },
    );
  };
  const follower = api.follow(
    communityId,
    () => {
      timer ??= setTimeout(refresh, Math.max(0, lastMs + WATCH_EVERY_MS - Date.now()));
    },
    (status) => {
      if (status.state !== "failed") return;
      failed = new EcwatchError("STREAM_REFUSED", `The API refused the stream: ${status.reason}.`, { hint: "Check the community id and --api." });
      stop();
    },
  );
  await Promise.race([stopped, untilSignal()]);
  follower.close();
  clearTimeout(timer);
  if (failed) throw failed;
  return ExitCode.Ok;
}

export async function runMeters(communityId: string, flags: MetersFlags): Promise<ExitCode> {
  const api = openApiClient(flags);
  if (flags.watch) return watchMeters(api, communityId, flags);
  const list = await fetchMeters(api, communityId, flags);
  if (flags.csv) process.stdout.write(toCsv(list.meters, METER_FIELDS));
  else if (flags.json) process.stdout.write(`${JSON.stringify(list)}\n`);
  else process.stdout.write(`${metersTable(list, colorsFor(process.stdout)).join("\n")}\n`);
  return ExitCode.Ok;
}
