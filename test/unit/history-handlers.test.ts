import { describe, expect, it } from "vitest";
import { HistoryStore } from "../../src/energy/history-store.js";
import { MINUTES_PER_DAY } from "../../src/energy/day-record.js";
import { MINUTE_MS } from "../../src/energy/meter-energy.js";
import { useFakeApi } from "../helpers/api-fakes.js";

/**
 * The query checks of GET /communities/{id}/history and /kpis (issue 11), over a HistoryStore of
 * no day records: moved here from test/integration/history-api.test.ts, which needed real
 * servers for none of it (issue 16).
 */
const startApi = useFakeApi();

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;
const DAY1 = Date.UTC(2026, 0, 10);
const DAY2 = DAY1 + DAY_MS;
const iso = (ms: number) => new Date(ms).toISOString();

async function get(path: string): Promise<Response> {
  const { url } = await startApi({ history: new HistoryStore({ get: async () => null }) });
  return fetch(`${url}${path}`);
}

describe("GET /communities/{id}/history", () => {
  it.each([
    ["step=2m", "step"],
    ["from=yesterday", "from"],
    ["to=2026-13-01T00:00:00Z", "to"],
    [`from=${iso(DAY2)}&to=${iso(DAY1)}`, "to"],
    ["tz=Mars/Olympus_Mons", "tz"],
    ["from=-30d&step=1m", "step 1m"],
    ["from=-400d&step=1d", "366 days"],
    ["stepp=1h", "stepp"],
    ["step=1h&step=1d", "step is given 2 times"],
    ["from=", "from is empty"],
  ])("refuses ?%s with a 400 naming %s", async (query, named) => {
    const res = await get(`/communities/hist1/history?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(named);
  });

  it("is a 404 in an API without energy history", async () => {
    const { url } = await startApi();
    expect((await fetch(`${url}/communities/hist1/history`)).status).toBe(404);
    expect((await fetch(`${url}/communities/hist1/kpis`)).status).toBe(404);
  });
});

describe("GET /communities/{id}/kpis", () => {
  it.each([
    ["period=month", "period"],
    ["tz=Berlin", "tz"],
    ["from=-1d", "from"],
  ])("refuses ?%s with a 400 naming %s", async (query, named) => {
    const res = await get(`/communities/kpi1/kpis?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(named);
  });
});
