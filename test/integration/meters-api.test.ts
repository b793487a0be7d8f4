import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { meterReadingSubject } from "../../src/wire/names.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { eventually, usePipeline } from "../helpers/stack.js";

/**
 * GET /communities/{id}/meters (issue 23) on real servers: the aggregator's stored per-meter
 * state, read by the API, judged by the rule of the totals; and `ecwatch meters`, the built CLI, on it.
 */

const pipeline = usePipeline();
let bus: Bus;

beforeAll(async () => {
  bus = await openBus(pipeline.stack.natsUrl, "test-meters-api");
});
afterAll(async () => {
  await bus?.close();
});

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const POWER: Record<string, { genW: number; conW: number }> = { pv: { genW: 4_200, conW: 300 }, house: { genW: 0, conW: 1_150 }, quiet: { genW: 700, conW: 20 } };

async function publish(communityId: string, meterId: string, second: number): Promise<void> {
  const { genW, conW } = POWER[meterId]!;
  const reading = { meterId, communityId, genW: genW + second, conW, measuredAt: new Date(T0 + second * 1_000).toISOString(), seq: second };
  await bus.js.publish(meterReadingSubject(communityId, meterId), JSON.stringify(reading));
}

interface MeterJson {
  readonly meterId: string;
  readonly genW: number;
  readonly conW: number;
  readonly netW: number;
  readonly measuredAt: string;
  readonly cadenceMs: number | null;
  readonly stale: boolean;
  readonly ageMs: number;
}
interface MeterListJson {
  readonly measuredAt: string;
  readonly count: number;
  readonly stale: number;
  readonly meters: MeterJson[];
}

const get = (path: string): Promise<Response> => fetch(`${pipeline.api.url}${path}`, { signal: AbortSignal.timeout(10_000) });

describe("GET /communities/{id}/meters", () => {
  it("marks exactly the meter that stopped reporting stale, with its age, and the others sum to the aggregate to the watt", async () => {
    const community = "drill1";
    // Three 1-second meters for 5 s; then `quiet` stops, the others go on to second 50.
    for (let second = 0; second <= 5; second += 1) for (const meter of ["pv", "house", "quiet"]) await publish(community, meter, second);
    for (let second = 6; second <= 50; second += 1) for (const meter of ["pv", "house"]) await publish(community, meter, second);
    const lastAt = new Date(T0 + 50_000).toISOString();

    // A quiet moment: the aggregate and the stored state both at the last reading.
    const aggregate = await eventually(async () => {
      const res = await get(`/communities/${community}`);
      const body = res.status === 200 ? ((await res.json()) as Aggregate) : undefined;
      return body?.measuredAt === lastAt ? body : undefined;
    }, 20_000, "the aggregate at the last reading");
    const list = await eventually(async () => {
      const res = await get(`/communities/${community}/meters?sort=id`);
      const body = res.status === 200 ? ((await res.json()) as MeterListJson) : undefined;
      return body?.meters.every((m) => m.meterId === "quiet" || m.measuredAt === lastAt) ? body : undefined;
    }, 10_000, "the stored meters at the last reading");

    expect(list.measuredAt).toBe(lastAt);
    expect(list.meters.map((m) => [m.meterId, m.stale, m.ageMs, m.cadenceMs])).toEqual([
      ["house", false, 0, 1_000],
      ["pv", false, 0, 1_000],
      ["quiet", true, 45_000, 1_000],
    ]);
    expect(list.meters.find((m) => m.meterId === "quiet")).toMatchObject({ genW: 705, conW: 20, netW: 685, measuredAt: new Date(T0 + 5_000).toISOString() });
    expect({ count: list.count, stale: list.stale }).toEqual({ count: 3, stale: 1 });
    expect(aggregate.stale).toBe(1);
    const live = list.meters.filter((m) => !m.stale);
    const sum = (field: "genW" | "conW" | "netW") => live.reduce((total, m) => total + m[field], 0);
    expect({ genW: sum("genW"), conW: sum("conW"), netW: sum("netW"), meters: live.length }).toEqual({ genW: aggregate.genW, conW: aggregate.conW, netW: aggregate.netW, meters: aggregate.meters });
  });

  it("orders by net power either way, stale first or by id, and cuts at limit", async () => {
    const ids = async (query: string) => ((await (await get(`/communities/drill1/meters?${query}`)).json()) as MeterListJson).meters.map((m) => m.meterId);
    expect(await ids("")).toEqual(["pv", "quiet", "house"]);
    expect(await ids("sort=net")).toEqual(["house", "quiet", "pv"]);
    expect(await ids("sort=stale&limit=1")).toEqual(["quiet"]);
    expect(await ids("sort=-net&limit=2")).toEqual(["pv", "quiet"]);
  });

  it.each([
    ["sort=size", "sort must be one of net, -net, stale, id"],
    ["limit=0", "limit must be a whole number from 1 to 100000"],
    ["limit=2.5", "limit must be"],
    ["limit=3&limit=4", "limit is given 2 times"],
    ["sorted=net", 'unknown parameter "sorted"'],
  ])("answers ?%s with a 400 naming the parameter", async (query, message) => {
    const res = await get(`/communities/drill1/meters?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(message);
  });

  it("answers 404 for a community without stored meters", async () => {
    const res = await get("/communities/nometers1/meters");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "community nometers1 has no meters yet" });
  });
});

describe("ecwatch meters", () => {
  // After the API's tests: drill1 has pv and house at second 50, quiet stale since second 5.
  it("prints the table sorted by net power, the stale meter marked with its age", async () => {
    const run = await runCli(["meters", "drill1", "--api", pipeline.api.url]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("drill1 · 3 meters, 1 stale · newest reading 2026-11-22T12:00:50Z (data time)");
    expect(lines.slice(2).map((line) => line.split(/\s+/))).toEqual([
      ["pv", "4.25", "kW", "0.30", "kW", "+3.95", "kW", "1s", "0ms"],
      ["quiet", "0.70", "kW", "0.02", "kW", "+0.69", "kW", "1s", "45s", "stale"],
      ["house", "0.05", "kW", "1.15", "kW", "-1.10", "kW", "1s", "0ms"],
    ]);
  });

  it("--stale lists only the stale meter; --csv and --json print the same meters", async () => {
    const stale = await runCli(["meters", "drill1", "--stale", "--api", pipeline.api.url]);
    expect(stale.stdout.trimEnd().split("\n").slice(2).map((line) => line.split(/\s+/)[0])).toEqual(["quiet"]);
    const csv = await runCli(["meters", "drill1", "--csv", "--sort", "id", "--api", pipeline.api.url]);
    expect(csv.stdout.split("\r\n")).toEqual([
      "meterId,genW,conW,netW,measuredAt,cadenceMs,holdMs,stale,ageMs",
      "house,50,1150,-1100,2026-11-22T12:00:50.000Z,1000,31000,false,0",
      "pv,4250,300,3950,2026-11-22T12:00:50.000Z,1000,31000,false,0",
      "quiet,705,20,685,2026-11-22T12:00:05.000Z,1000,31000,true,45000",
      "",
    ]);
    const json = await runCli(["meters", "drill1", "--json", "--stale", "--api", pipeline.api.url]);
    expect(JSON.parse(json.stdout)).toMatchObject({ communityId: "drill1", count: 3, stale: 1, meters: [{ meterId: "quiet", stale: true, ageMs: 45_000 }] });
  });

  it("--watch prints the table again when the community changes, and stops cleanly on Ctrl-C", async () => {
    const watch = new CliProcess(["meters", "drill1", "--watch", "--api", pipeline.api.url]);
    try {
      await watch.waitForStdout(/newest reading 2026-11-22T12:00:50Z[^]*quiet .* 45s  stale/, 15_000);
      await publish("drill1", "pv", 51);
      await publish("drill1", "house", 51);
      // The table again, at the new reading: the stale meter a second older.
      await watch.waitForStdout(/newest reading 2026-11-22T12:00:51Z[^]*quiet .* 46s  stale/, 15_000);
    } finally {
      watch.kill("SIGINT");
    }
    expect((await watch.exited).code).toBe(0);
  });

  it("a community without meters is an error naming it, exit 1", async () => {
    const run = await runCli(["meters", "nometers1", "--api", pipeline.api.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("The API answered 404: community nometers1 has no meters yet.");
  });
});
