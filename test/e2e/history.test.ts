import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { energyDayKey } from "../../src/wire/names.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { MINUTES_PER_DAY, encodeDay } from "../../src/energy/day-record.js";
import { type Energy, MINUTE_MS } from "../../src/energy/meter-energy.js";
import { runCli } from "../helpers/cli.js";
import { usePipeline } from "../helpers/stack.js";

/** `ecwatch history` against a real API, over a day record written straight into KV (issue 11). */

const pipeline = usePipeline();
let bus: Bus;
const DAY = Date.UTC(2026, 0, 10);

beforeAll(async () => {
  bus = await openBus(pipeline.stack.natsUrl, "history-e2e");
  // Every minute: 1,200 W exported by one meter, 600 W imported by another.
  const minute: Energy = { genWms: 1_200 * MINUTE_MS, conWms: 600 * MINUTE_MS, importWms: 600 * MINUTE_MS, exportWms: 1_200 * MINUTE_MS };
  const minutes = new Map(Array.from({ length: MINUTES_PER_DAY }, (_, i) => [DAY + i * MINUTE_MS, minute] as const));
  await bus.energy.put(energyDayKey("cli1", DAY), encodeDay(DAY, minutes));
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

  it("--csv prints CSV; a parameter the API refuses is one sentence and exit 1", async () => {
    const csv = await runCli(["history", "cli1", ...range, "--step", "1h", "--csv", "--api", pipeline.api.url]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\r\n")).toHaveLength(8);
    const refused = await runCli(["history", "cli1", "--since", "30d", "--step", "1m", "--api", pipeline.api.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("The API answered 400: step 1m over from…to gives up to 43200 buckets");
  });
});
