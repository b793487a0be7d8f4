import { describe, expect, it } from "vitest";
import { energyDayKey, energyFinalKey } from "../../src/wire/names.js";
import { MINUTES_PER_DAY, encodeDay } from "../../src/energy/day-record.js";
import { type DayRecordSource, HistoryStore } from "../../src/energy/history-store.js";
import { type Energy, MINUTE_MS } from "../../src/energy/meter-energy.js";

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;
const DAY = Date.UTC(2026, 2, 29); // DST starts in Europe/Berlin: a 23-hour day
const CONSTANT: Energy = { genWms: 0, conWms: 600 * MINUTE_MS, importWms: 600 * MINUTE_MS, exportWms: 0 };

/** A KV of day records in memory, counting the gets. */
function memoryKv(records: Record<string, string | { operation: string }>): DayRecordSource & { gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    get: async (key) => {
      gets.push(key);
      const value = records[key];
      if (value === undefined) return null;
      return typeof value === "string" ? { operation: "PUT", string: () => value } : { operation: value.operation, string: () => "" };
    },
  };
}

const fullDay = (startMs: number) => encodeDay(startMs, new Map(Array.from({ length: MINUTES_PER_DAY }, (_, i) => [startMs + i * MINUTE_MS, CONSTANT] as const)));

describe("HistoryStore", () => {
  it("reads one record per UTC day of the range, and skips missing, deleted and malformed ones", async () => {
    const kv = memoryKv({
      [energyDayKey("c1", DAY - DAY_MS)]: "{not json",
      [energyDayKey("c1", DAY)]: fullDay(DAY),
      [energyDayKey("c1", DAY + DAY_MS)]: { operation: "DEL" },
    });
    const store = new HistoryStore(kv);
    const days = await store.history("c1", DAY - DAY_MS, DAY + 3 * DAY_MS, "1d", "UTC");
    expect(kv.gets).toEqual([energyFinalKey("c1"), ...[-1, 0, 1, 2].map((n) => energyDayKey("c1", DAY + n * DAY_MS))]);
    expect(days).toEqual([expect.objectContaining({ startMs: DAY, endMs: DAY + DAY_MS, conWh: 14_400, gridImportWh: 14_400, selfSufficiency: 0, selfConsumption: null })]);
  });

  it("rolls a local day up over two UTC records: the day DST starts in Berlin has 23 hours", async () => {
    const store = new HistoryStore(memoryKv({ [energyDayKey("c1", DAY - DAY_MS)]: fullDay(DAY - DAY_MS), [energyDayKey("c1", DAY)]: fullDay(DAY) }));
    const [day] = await store.history("c1", DAY - 3_600_000, DAY + 60_000, "1d", "Europe/Berlin");
    expect(day).toMatchObject({ startMs: DAY - 3_600_000, endMs: DAY + 22 * 3_600_000, conWh: 23 * 600 });
  });

  it("answers a period without records with zeros and null fractions", async () => {
    const now = DAY + 10 * 3_600_000 + 7 * MINUTE_MS;
    expect(await new HistoryStore(memoryKv({})).kpis("c1", "24h", now, "UTC")).toEqual({
      period: "24h",
      startMs: DAY + 10 * 3_600_000 + 15 * MINUTE_MS - DAY_MS,
      endMs: DAY + 10 * 3_600_000 + 15 * MINUTE_MS,
      genWh: 0,
      conWh: 0,
      importWh: 0,
      exportWh: 0,
      sharedWh: 0,
      gridImportWh: 0,
      gridExportWh: 0,
      selfSufficiency: null,
      selfConsumption: null,
      complete: false,
      late: 0,
    });
  });

  it("calls a bucket complete once it ended before the community's final data time and no reading came late for it", async () => {
    const late = JSON.parse(fullDay(DAY)) as Record<string, unknown>;
    late.late = { "30": 2 }; // two late readings at 00:30
    const store = new HistoryStore(memoryKv({ [energyDayKey("c1", DAY)]: JSON.stringify(late), [energyFinalKey("c1")]: JSON.stringify({ finalMs: DAY + 60 * MINUTE_MS }) }));
    const quarters = await store.history("c1", DAY, DAY + 90 * MINUTE_MS, "15m", "UTC");
    expect(quarters.map(({ complete, late }) => [complete, late])).toEqual([
      [true, 0],
      [true, 0],
      [false, 2], // 00:30: late readings
      [true, 0],
      [false, 0], // 01:00: after the final data time
      [false, 0],
    ]);
  });

  it("counts today from local midnight, up to the end of the current settlement interval", () => {
    const now = DAY + 10 * 3_600_000 + 7 * MINUTE_MS;
    expect(HistoryStore.periodRange("today", now, "UTC")).toEqual({ startMs: DAY, endMs: DAY + 10 * 3_600_000 + 15 * MINUTE_MS });
    expect(HistoryStore.periodRange("today", now, "Europe/Berlin").startMs).toBe(DAY - 3_600_000);
    expect(HistoryStore.periodRange("7d", now, "UTC").startMs).toBe(DAY + 10 * 3_600_000 + 15 * MINUTE_MS - 7 * DAY_MS);
  });
});
