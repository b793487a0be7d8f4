import { describe, expect, it } from "vitest";
import { CommunityMeters } from "../../src/energy/community-meters.js";
import { type HistoryBucket, settle } from "../../src/energy/buckets.js";
import { meterRecorded, READINGS_AROUND } from "../../src/energy/meter-history.js";
import { type Energy, MINUTE_MS, addMinutes, minuteSlices } from "../../src/energy/meter-energy.js";
import type { RuleReading } from "../../src/energy/meter-integrator.js";
import { MemoryArchive, useFakeApi } from "../helpers/api-fakes.js";

/**
 * GET /communities/{id}/meters/{meterId}/history (issue 23) over an in-memory archive: a meter's
 * energy per bucket integrated from its readings by the aggregator's rule (validity.ts), and the
 * answers for a bad query, an unknown meter and a missing archive.
 */
const startApi = useFakeApi();

const T0 = Date.UTC(2026, 0, 10, 12);
const QUARTER_MS = 15 * MINUTE_MS;
const iso = (ms: number) => new Date(ms).toISOString();

/** Readings every `everyMs` from `firstMs` until before `untilMs`, seq by their time. */
function readings(firstMs: number, untilMs: number, everyMs: number, power: Partial<RuleReading>): RuleReading[] {
  const list: RuleReading[] = [];
  for (let at = firstMs; at < untilMs; at += everyMs) list.push({ genW: 0, conW: 0, measuredAtMs: at, seq: at / 1000, ...power });
  return list;
}

type Bucket = Omit<HistoryBucket, "startMs" | "endMs"> & { start: string; end: string };

async function history(archive: MemoryArchive | undefined, path: string, accept = "application/json"): Promise<Response> {
  const { url } = await startApi({ archive });
  return fetch(`${url}${path}`, { headers: { accept } });
}

async function buckets(archive: MemoryArchive, query: string, meter = "m1"): Promise<Bucket[]> {
  const res = await history(archive, `/communities/c1/meters/${meter}/history?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Bucket[];
}

const span = (fromMs: number, toMs: number, step = "15m") => `from=${iso(fromMs)}&to=${iso(toMs)}&step=${step}`;

describe("a meter's history from its archived readings", () => {
  it("puts a 15-minute gateway's averaged value in the quarter hour before its stamp; final once the grace of 3 intervals has passed", async () => {
    // 12:15 … 14:00, 4,000 W averaged over the quarter hour before each: 1,000 Wh a quarter hour.
    const archive = new MemoryArchive().add("c1", "m1", readings(T0 + QUARTER_MS, T0 + 2 * 60 * MINUTE_MS + 1, QUARTER_MS, { genW: 4_000, intervalMs: QUARTER_MS, averaged: true }));
    const answer = await buckets(archive, span(T0, T0 + 2 * 60 * MINUTE_MS));
    expect(answer.map((b) => [b.start, b.genWh, b.exportWh, b.conWh, b.importWh])).toEqual(Array.from({ length: 8 }, (_, i) => [iso(T0 + i * QUARTER_MS), 1_000, 1_000, 0, 0]));
    // The newest reading is 14:00: the 13:15 value is the last past its grace (45 min), so its quarter hour is the last final one.
    expect(answer.map((b) => b.complete)).toEqual([true, true, true, true, true, false, false, false]);
    expect(answer.every((b) => b.late === 0)).toBe(true);
  });

  it("holds a 1-minute meter's reading until its next one, from the reading before `from` on", async () => {
    // Every minute at :30 s, 600 W consumed: 10 Wh a minute, 150 Wh a quarter hour; 12:00:00–12:00:30 is the 11:59:30 reading's.
    const archive = new MemoryArchive().add("c1", "m1", readings(T0 - 60 * MINUTE_MS + 30_000, T0 + 60 * MINUTE_MS, MINUTE_MS, { conW: 600 }));
    const answer = await buckets(archive, span(T0, T0 + 30 * MINUTE_MS));
    expect(answer.map((b) => [b.start, b.end, b.conWh, b.importWh, b.genWh, b.complete])).toEqual([
      [iso(T0), iso(T0 + QUARTER_MS), 150, 150, 0, true],
      [iso(T0 + QUARTER_MS), iso(T0 + 2 * QUARTER_MS), 150, 150, 0, true],
    ]);
    // The query asked the archive for the readings around the span that the rule needs.
    expect(archive.asked).toEqual([{ fromMs: T0, toMs: T0 + 30 * MINUTE_MS, ...READINGS_AROUND }]);
  });

  it("leaves a meter out of the energy once it missed its cadence: its last reading holds a cadence and the tolerance (30 s floor)", async () => {
    // 1-minute readings 12:00 … 12:10, then silence until 13:00: the 12:10 value holds 60 s + 30 s.
    const archive = new MemoryArchive()
      .add("c1", "m1", readings(T0 - 10 * MINUTE_MS, T0 + 10 * MINUTE_MS + 1, MINUTE_MS, { conW: 600 }))
      .add("c1", "m1", readings(T0 + 60 * MINUTE_MS, T0 + 70 * MINUTE_MS, MINUTE_MS, { conW: 600 }));
    const answer = await buckets(archive, span(T0, T0 + 60 * MINUTE_MS, "1m"));
    expect(answer.map((b) => [b.start, b.conWh])).toEqual([...Array.from({ length: 11 }, (_, i) => [iso(T0 + i * MINUTE_MS), 10]), [iso(T0 + 11 * MINUTE_MS), 5]]);
    expect(answer.every((b) => b.complete)).toBe(true);
  });

  it("marks buckets complete only before the meter's energy is final, judged by the community's newest archived reading", async () => {
    // m1 stops at 12:20; another meter of the community reports until 12:30.
    const archive = new MemoryArchive()
      .add("c1", "m1", readings(T0 - 10 * MINUTE_MS, T0 + 20 * MINUTE_MS + 1, MINUTE_MS, { genW: 1_200 }))
      .add("c1", "m2", readings(T0, T0 + 30 * MINUTE_MS + 1, MINUTE_MS, { conW: 100 }));
    const [first, second] = await buckets(archive, span(T0, T0 + 30 * MINUTE_MS));
    // m1's 12:20 value holds to 12:21:30; at 12:30 its hold and grace (3 min) have passed: all of it is final.
    expect([first!.genWh, first!.complete, second!.genWh, second!.complete]).toEqual([300, true, 5 * 20 + 30, true]);
    // m2, still reporting: its readings of the last 3 minutes are within their grace; 12:15–12:30 shows what is known, not final.
    const [m2First, m2Second] = await buckets(archive, span(T0, T0 + 30 * MINUTE_MS), "m2");
    expect([m2First!.conWh, m2First!.complete, m2Second!.conWh, m2Second!.complete]).toEqual([25, true, 25, false]);
  });

  it("answers CSV with the community history's columns for Accept: text/csv", async () => {
    const archive = new MemoryArchive().add("c1", "m1", readings(T0 - 10 * MINUTE_MS, T0 + 60 * MINUTE_MS, MINUTE_MS, { genW: 1_200, conW: 600 }));
    const res = await history(archive, `/communities/c1/meters/m1/history?${span(T0, T0 + 2 * MINUTE_MS, "1m")}`, "text/csv");
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(await res.text()).toBe(
      "start,end,genWh,conWh,importWh,exportWh,sharedWh,gridImportWh,gridExportWh,selfSufficiency,selfConsumption,complete,late\r\n" +
        `${iso(T0)},${iso(T0 + MINUTE_MS)},20,10,0,10,0,0,10,1,0.5,true,0\r\n` +
        `${iso(T0 + MINUTE_MS)},${iso(T0 + 2 * MINUTE_MS)},20,10,0,10,0,0,10,1,0.5,true,0\r\n`,
    );
  });

  it("answers an empty list for a known meter without readings in the range", async () => {
    const archive = new MemoryArchive().add("c1", "m1", readings(T0, T0 + 10 * MINUTE_MS, MINUTE_MS, { genW: 100 }));
    expect(await buckets(archive, span(T0 + 5 * 86_400_000, T0 + 6 * 86_400_000))).toEqual([]);
  });
});

describe("the answers of a meter's history that are not buckets", () => {
  it.each([
    ["/communities/c1/meters/m1/history?step=2m", 400, "step"],
    ["/communities/c1/meters/m1/history?stepp=1h", 400, "stepp"],
    ["/communities/c1/meters/m.1/history", 400, "meterId must match"],
    ["/communities/c1/meters/nope/history", 404, "meter nope of community c1 has no reading in the archive"],
  ])("%s is a %i naming %s", async (path, status, named) => {
    const res = await history(new MemoryArchive().add("c1", "m1", readings(T0, T0 + MINUTE_MS, MINUTE_MS, { genW: 1 })), path);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toContain(named);
  });

  it("is a 503 saying how to start an archive, when the API has none or its directory holds none yet", async () => {
    const none = await history(undefined, "/communities/c1/meters/m1/history");
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: string }).error).toContain("ecwatch serve --archive-dir");
    const empty = await history(new MemoryArchive(false), "/communities/c1/meters/m1/history");
    expect(empty.status).toBe(503);
    expect(((await empty.json()) as { error: string }).error).toBe("there is no archive of readings at /memory/archive yet: run `ecwatch archive --dir /memory/archive` beside the aggregator to keep them");
  });
});

describe("a meter's final energy", () => {
  it("is the aggregator's: the same readings offered one by one, out of order within their grace, give the same quarter hours", () => {
    // A 1-minute meter with jitter, a gap of 40 minutes and a change of cadence to 15 s.
    const all = [
      ...readings(T0, T0 + 60 * MINUTE_MS, MINUTE_MS, {}).map((r, i) => ({ ...r, measuredAtMs: r.measuredAtMs + ((i * 7_919) % 20_000), genW: (i * 37) % 900, conW: (i * 53) % 700 })),
      ...readings(T0 + 100 * MINUTE_MS, T0 + 160 * MINUTE_MS, 15_000, {}).map((r, i) => ({ ...r, genW: (i * 11) % 300, conW: 250 })),
    ];
    // Swap neighbours: each comes at most one reading late, well within a grace of 3 intervals.
    const arrival = all.map((_, i) => all[i % 2 === 0 ? Math.min(i + 1, all.length - 1) : i - 1]!);
    const aggregator = new Map<number, Energy>();
    const meters = new CommunityMeters(30_000, (_meter, fromMs, toMs, power) => addMinutes(aggregator, minuteSlices(fromMs, toMs, power)));
    for (const reading of arrival) expect(meters.offer("m1", reading)).not.toBe("late");
    const recorded = meterRecorded({ readings: all, newestMs: all.at(-1)!.measuredAtMs }, T0 - QUARTER_MS, T0 + 4 * 60 * MINUTE_MS, 30_000);
    expect(recorded.finalMs).toBe(meters.finalThroughMs());
    const final = (minutes: ReadonlyMap<number, Energy>) => settle(new Map([...minutes].filter(([minuteMs]) => minuteMs + MINUTE_MS <= recorded.finalMs)), QUARTER_MS);
    expect(final(recorded.minutes)).toEqual(final(aggregator));
    expect(final(aggregator).length).toBeGreaterThan(8);
  });
});
