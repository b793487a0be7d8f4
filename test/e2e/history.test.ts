import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { energyDayKey } from "../../src/wire/names.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { MINUTES_PER_DAY, encodeDay } from "../../src/energy/day-record.js";
import { type Energy, MINUTE_MS } from "../../src/energy/meter-energy.js";
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";
import { segmentsOf } from "../../src/wire/archive-layout.js";
import { runCli } from "../helpers/cli.js";
import { archiveDirOf, usePipeline } from "../helpers/stack.js";

/**
 * `ecwatch history` against a real API, over a day record written straight into KV (issue 11),
 * and `--meter` over an archived meter's segments (issue 23).
 */

const pipeline = usePipeline();
let bus: Bus;
const DAY = Date.UTC(2026, 0, 10);

beforeAll(async () => {
  bus = await openBus(pipeline.stack.natsUrl, "history-e2e");
  // Every minute: 1,200 W exported by one meter, 600 W imported by another.
  const minute: Energy = { genWms: 1_200 * MINUTE_MS, conWms: 600 * MINUTE_MS, importWms: 600 * MINUTE_MS, exportWms: 1_200 * MINUTE_MS };
  const minutes = new Map(Array.from({ length: MINUTES_PER_DAY }, (_, i) => [DAY + i * MINUTE_MS, minute] as const));
  await bus.energy.put(energyDayKey("cli1", DAY), encodeDay(DAY, minutes));
  // meter7 of cli1, archived: 15-minute gateway values, 2,000 W generated and 800 W consumed on average, stamped 00:15 … 07:00.
  const segments = await ParquetSegments.open(archiveDirOf(pipeline.stack));
  try {
    const readings = Array.from({ length: 28 }, (_, i) => ({
      communityId: "cli1",
      meterId: "meter7",
      state: { genW: 2_000, conW: 800, measuredAtMs: DAY + (i + 1) * 15 * MINUTE_MS, seq: i + 1, intervalMs: 15 * MINUTE_MS, averaged: true },
      streamSeq: i + 1,
    }));
    for (const segment of segmentsOf(0, readings, "e2e")) await segments.write(segment);
  } finally {
    segments.close();
  }
});

afterAll(async () => {
  await bus?.close();
});

const range = ["--from", "2026-01-10T00:00:00Z", "--to", "2026-01-10T06:00:00Z"];

describe("ecwatch history", () => {
  it("--json prints the API's buckets", async () => {
    const run = await runCli(["history", "cli1", ...range, "--step", "1h", "--json", "--api", pipeline.api.url]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const buckets = JSON.parse(run.stdout) as Array<{ start: string; genWh: number; conWh: number; sharedWh: number; selfConsumption: number }>;
    expect(buckets).toHaveLength(6);
    expect(buckets[0]).toMatchObject({ start: "2026-01-10T00:00:00.000Z", genWh: 1_200, conWh: 600, sharedWh: 600, selfSufficiency: 1, selfConsumption: 0.5 });
  });

  it("prints a table, a chart and the totals, without colours under NO_COLOR", async () => {
    const run = await runCli(["history", "cli1", ...range, "--step", "1h", "--tz", "Europe/Berlin", "--api", pipeline.api.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("cli1 · 6 buckets of 1h · 2026-01-10 01:00 – 2026-01-10 07:00 (Europe/Berlin)");
    expect(run.stdout).toMatch(/^2026-01-10 01:00 +1200\.0 Wh/m);
    expect(run.stdout).toContain("kWh per bucket: ─ generation  ─ consumption");
    expect(run.stdout).toContain("self-sufficiency 100.0 % · self-consumption 50.0 %");
    expect(run.stdout).not.toContain("\x1b[");
  });

  it("--meter prints one meter's table, chart and totals, integrated from its archived readings", async () => {
    const run = await runCli(["history", "cli1", "--meter", "meter7", ...range, "--step", "1h", "--api", pipeline.api.url]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("cli1 · meter meter7 · 6 buckets of 1h · 2026-01-10 00:00 – 2026-01-10 06:00 (UTC)");
    expect(run.stdout).toMatch(/^2026-01-10 00:00 +2000\.0 Wh +800\.0 Wh/m);
    expect(run.stdout).toContain("kWh per bucket: ─ generation  ─ consumption");
    expect(run.stdout).toContain("total  generation 12.00 kWh · consumption 4800.0 Wh");
    const json = await runCli(["history", "cli1", "--meter", "meter7", ...range, "--step", "1h", "--json", "--api", pipeline.api.url]);
    expect((JSON.parse(json.stdout) as Array<{ genWh: number }>).map((b) => b.genWh)).toEqual([2_000, 2_000, 2_000, 2_000, 2_000, 2_000]);
    const csv = await runCli(["history", "cli1", "--meter", "meter7", ...range, "--step", "1h", "--csv", "--api", pipeline.api.url]);
    expect(csv.stdout.split("\r\n")[1]).toMatch(/^2026-01-10T00:00:00\.000Z,2026-01-10T01:00:00\.000Z,2000,800,0,1200,/);
  });

  it("--meter of a meter the archive does not hold is the API's 404 in one sentence, exit 1; a bad id is exit 2", async () => {
    const unknown = await runCli(["history", "cli1", "--meter", "nope", "--api", pipeline.api.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("The API answered 404: meter nope of community cli1 has no reading in the archive.");
    const bad = await runCli(["history", "cli1", "--meter", "a.b", "--api", pipeline.api.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("the meter id must match");
  });

  it("--csv prints CSV; a parameter the API refuses is one sentence and exit 1", async () => {
    const csv = await runCli(["history", "cli1", ...range, "--step", "1h", "--csv", "--api", pipeline.api.url]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\r\n")).toHaveLength(8);
    const refused = await runCli(["history", "cli1", "--since", "30d", "--step", "1m", "--api", pipeline.api.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("The API answered 400: step 1m over from…to gives up to 43200 buckets");
  });
});
