import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { energyDayKey, energyFinalKey } from "../../src/wire/names.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { MINUTES_PER_DAY, encodeDay } from "../../src/energy/day-record.js";
import { type Energy, MINUTE_MS } from "../../src/energy/meter-energy.js";
import { usePipeline } from "../helpers/stack.js";

/**
 * GET /communities/{id}/history and /kpis (issue 11) against real servers, read from day
 * records written straight into KV (as the aggregator writes them), with synthetic loads whose
 * buckets and KPIs are known exactly.
 */

const pipeline = usePipeline();
let bus: Bus;

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;
const DAY1 = Date.UTC(2026, 0, 10);
const DAY2 = DAY1 + DAY_MS;
/** Whole watts for a minute, as the aggregator sums them: W·ms. */
const minuteOf = (genW: number, conW: number, importW: number, exportW: number): Energy => ({
  genWms: genW * MINUTE_MS,
  conWms: conW * MINUTE_MS,
  importWms: importW * MINUTE_MS,
  exportWms: exportW * MINUTE_MS,
});
/** Even minutes: a PV meter exports 1,200 W (20 Wh a minute); odd minutes: a household imports 600 W (10 Wh). */
const ALTERNATING = (index: number): Energy => (index % 2 === 0 ? minuteOf(1_200, 0, 0, 1_200) : minuteOf(0, 600, 600, 0));
/** Every minute: one meter exports 1,200 W, another imports 600 W. */
const STEADY = (): Energy => minuteOf(1_200, 600, 600, 1_200);
/** Every minute: only import, 600 W. */
const IMPORT_ONLY = (): Energy => minuteOf(0, 600, 600, 0);

function day(startMs: number, minute: (index: number) => Energy): Map<number, Energy> {
  return new Map(Array.from({ length: MINUTES_PER_DAY }, (_, index) => [startMs + index * MINUTE_MS, minute(index)] as const));
}

async function putDay(communityId: string, startMs: number, minute: (index: number) => Energy): Promise<void> {
  await bus.energy.put(energyDayKey(communityId, startMs), encodeDay(startMs, day(startMs, minute)));
}

const get = (path: string, accept = "application/json") => fetch(`${pipeline.api.url}${path}`, { headers: { accept }, signal: AbortSignal.timeout(10_000) });
async function getJson<T>(path: string): Promise<T> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

interface Bucket {
  start: string;
  end: string;
  genWh: number;
  conWh: number;
  importWh: number;
  exportWh: number;
  sharedWh: number;
  gridImportWh: number;
  gridExportWh: number;
  selfSufficiency: number | null;
  selfConsumption: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

beforeAll(async () => {
  bus = await openBus(pipeline.stack.natsUrl, "history-test");
  await putDay("hist1", DAY1, ALTERNATING);
  await putDay("hist1", DAY2, IMPORT_ONLY);
  // The aggregator's final data time: what lies before it is final (issue 17).
  await bus.energy.put(energyFinalKey("hist1"), JSON.stringify({ finalMs: DAY1 + 20 * MINUTE_MS }));
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  // KPIs look back from now: every minute of the last 9 UTC days and tomorrow (zones ahead of UTC).
  await Promise.all(Array.from({ length: 10 }, (_, back) => putDay("kpi1", today + (1 - back) * DAY_MS, STEADY)));
});

afterAll(async () => {
  await bus?.close();
});

describe("GET /communities/{id}/history", () => {
  it("answers 15-minute buckets with shared energy matched within each quarter hour", async () => {
    const buckets = await getJson<Bucket[]>(`/communities/hist1/history?from=${iso(DAY1)}&to=${iso(DAY1 + 30 * MINUTE_MS)}&step=15m`);
    expect(buckets).toEqual([
      // Minutes 0–14: 8 exporting (160 Wh), 7 importing (70 Wh), all of the import covered by the neighbours.
      { start: iso(DAY1), end: iso(DAY1 + 15 * MINUTE_MS), genWh: 160, conWh: 70, importWh: 70, exportWh: 160, sharedWh: 70, gridImportWh: 0, gridExportWh: 90, selfSufficiency: 1, selfConsumption: 0.4375, complete: true, late: 0 },
      // Minutes 15–29: 7 exporting (140 Wh), 8 importing (80 Wh); it ends after the final data time (00:20): not final.
      { start: iso(DAY1 + 15 * MINUTE_MS), end: iso(DAY1 + 30 * MINUTE_MS), genWh: 140, conWh: 80, importWh: 80, exportWh: 140, sharedWh: 80, gridImportWh: 0, gridExportWh: 60, selfSufficiency: 1, selfConsumption: 1 - 60 / 140, complete: false, late: 0 },
    ]);
  });

  it("answers 1-minute buckets, where nothing is shared across minutes", async () => {
    const buckets = await getJson<Bucket[]>(`/communities/hist1/history?from=${iso(DAY1)}&to=${iso(DAY1 + 2 * MINUTE_MS)}&step=1m`);
    expect(buckets.map(({ start, genWh, conWh, sharedWh, gridImportWh, selfSufficiency, selfConsumption }) => ({ start, genWh, conWh, sharedWh, gridImportWh, selfSufficiency, selfConsumption }))).toEqual([
      { start: iso(DAY1), genWh: 20, conWh: 0, sharedWh: 0, gridImportWh: 0, selfSufficiency: null, selfConsumption: 0 },
      { start: iso(DAY1 + MINUTE_MS), genWh: 0, conWh: 10, sharedWh: 0, gridImportWh: 10, selfSufficiency: 0, selfConsumption: null },
    ]);
  });

  it("rolls hours and days up from quarter hours, and widens from/to to whole buckets", async () => {
    const hours = await getJson<Bucket[]>(`/communities/hist1/history?from=${iso(DAY1 + 10 * MINUTE_MS)}&to=${iso(DAY1 + 61 * MINUTE_MS)}&step=1h`);
    expect(hours.map((b) => [b.start, b.end, b.genWh, b.conWh, b.sharedWh, b.gridExportWh, b.selfSufficiency, b.selfConsumption])).toEqual([
      [iso(DAY1), iso(DAY1 + 60 * MINUTE_MS), 600, 300, 300, 300, 1, 0.5],
      [iso(DAY1 + 60 * MINUTE_MS), iso(DAY1 + 120 * MINUTE_MS), 600, 300, 300, 300, 1, 0.5],
    ]);
    const days = await getJson<Bucket[]>(`/communities/hist1/history?from=${iso(DAY1)}&to=${iso(DAY2 + DAY_MS)}&step=1d`);
    expect(days).toEqual([
      { start: iso(DAY1), end: iso(DAY2), genWh: 14_400, conWh: 7_200, importWh: 7_200, exportWh: 14_400, sharedWh: 7_200, gridImportWh: 0, gridExportWh: 7_200, selfSufficiency: 1, selfConsumption: 0.5, complete: false, late: 0 },
      { start: iso(DAY2), end: iso(DAY2 + DAY_MS), genWh: 0, conWh: 14_400, importWh: 14_400, exportWh: 0, sharedWh: 0, gridImportWh: 14_400, gridExportWh: 0, selfSufficiency: 0, selfConsumption: null, complete: false, late: 0 },
    ]);
  });

  it("follows the days of ?tz: a Berlin day in January starts at 23:00 UTC the day before", async () => {
    const days = await getJson<Bucket[]>(`/communities/hist1/history?from=2026-01-10T00:00:00%2B01:00&to=2026-01-11T00:00:00%2B01:00&step=1d&tz=Europe/Berlin`);
    // The first 23 hours of DAY1: the hour before is on a day without a record, the last hour is the next Berlin day.
    expect(days).toEqual([expect.objectContaining({ start: iso(DAY1 - 3_600_000), end: iso(DAY2 - 3_600_000), genWh: 23 * 600, conWh: 23 * 300, sharedWh: 23 * 300, gridImportWh: 0 })]);
  });

  it("answers CSV for Accept: text/csv, a header and a line per bucket, null as an empty field", async () => {
    const res = await get(`/communities/hist1/history?from=${iso(DAY1)}&to=${iso(DAY1 + 2 * MINUTE_MS)}&step=1m`, "text/csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(await res.text()).toBe(
      "start,end,genWh,conWh,importWh,exportWh,sharedWh,gridImportWh,gridExportWh,selfSufficiency,selfConsumption,complete,late\r\n" +
        `${iso(DAY1)},${iso(DAY1 + MINUTE_MS)},20,0,0,20,0,0,20,,0,true,0\r\n` +
        `${iso(DAY1 + MINUTE_MS)},${iso(DAY1 + 2 * MINUTE_MS)},0,10,10,0,0,10,0,0,,true,0\r\n`,
    );
  });

  it("answers an empty array for a community or range without records, and reads relative times", async () => {
    expect(await getJson<Bucket[]>("/communities/nobody/history")).toEqual([]);
    expect(await getJson<Bucket[]>("/communities/hist1/history?from=-2h&to=now&step=1m")).toEqual([]);
  });

  // The query checks (400s) are tested over fakes: test/unit/history-handlers.test.ts.
});

describe("GET /communities/{id}/kpis", () => {
  interface Kpis extends Bucket {
    communityId: string;
    period: string;
    timeZone: string;
  }

  it.each([
    ["24h", 1],
    ["7d", 7],
  ])("?period=%s covers the last %i days of settlement intervals exactly", async (period, days) => {
    const kpis = await getJson<Kpis>(`/communities/kpi1/kpis?period=${period}`);
    const end = Date.parse(kpis.end);
    expect(end % (15 * MINUTE_MS)).toBe(0);
    expect(end - Date.parse(kpis.start)).toBe(days * DAY_MS);
    expect(kpis).toEqual({
      communityId: "kpi1",
      period,
      timeZone: "UTC",
      start: kpis.start,
      end: kpis.end,
      genWh: days * 1_440 * 20,
      conWh: days * 1_440 * 10,
      importWh: days * 1_440 * 10,
      exportWh: days * 1_440 * 20,
      sharedWh: days * 1_440 * 10,
      gridImportWh: 0,
      gridExportWh: days * 1_440 * 10,
      selfSufficiency: 1,
      selfConsumption: 0.5,
      // No final data time stored for kpi1 (its records were written by hand): nothing is known final.
      complete: false,
      late: 0,
    });
  });

  it.each(["UTC", "Europe/Berlin", "Pacific/Auckland"])("?period=today starts at midnight in %s", async (tz) => {
    const kpis = await getJson<Kpis>(`/communities/kpi1/kpis?period=today&tz=${tz}`);
    const start = Date.parse(kpis.start);
    const local = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hourCycle: "h23", hour: "2-digit", minute: "2-digit" }).format(new Date(start));
    expect(local).toBe("00:00");
    const minutes = (Date.parse(kpis.end) - start) / MINUTE_MS;
    expect(minutes).toBeGreaterThan(0);
    expect(kpis).toMatchObject({ period: "today", timeZone: tz, genWh: minutes * 20, conWh: minutes * 10, sharedWh: minutes * 10, selfSufficiency: 1, selfConsumption: 0.5 });
  });

  it("answers zeros and null fractions for a community without records, and CSV on request", async () => {
    expect(await getJson<Kpis>("/communities/nobody/kpis")).toMatchObject({ genWh: 0, conWh: 0, sharedWh: 0, selfSufficiency: null, selfConsumption: null });
    const res = await get("/communities/kpi1/kpis?period=24h", "text/csv");
    const [header, row, end] = (await res.text()).split("\r\n");
    expect(header).toBe("communityId,period,timeZone,start,end,genWh,conWh,importWh,exportWh,sharedWh,gridImportWh,gridExportWh,selfSufficiency,selfConsumption,complete,late");
    expect(row).toMatch(/^kpi1,24h,UTC,[^,]+,[^,]+,28800,14400,14400,28800,14400,0,14400,1,0.5,false,0$/);
    expect(end).toBe("");
  });
});
