import { describe, expect, it, vi } from "vitest";
import type { ApiDependencies } from "../../src/api/server.js";
import { FixedReadiness, useFakeApi } from "../helpers/api-fakes.js";

const startApi = useFakeApi();

/** The API over in-memory fakes of its ports: only readiness matters to /readyz and /healthz. */
async function apiWith(health: { nats: boolean; redis: boolean }, extra: Partial<ApiDependencies> = {}): Promise<string> {
  return (await startApi({ readiness: new FixedReadiness(health), ...extra })).url;
}

const get = async (url: string): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

describe("/readyz", () => {
  it("is 200 when NATS and Redis both answer", async () => {
    const url = await apiWith({ nats: true, redis: true });
    expect(await get(`${url}/readyz`)).toEqual({ status: 200, body: { status: "ready", nats: true, redis: true, down: [] } });
  });

  it.each([
    [{ nats: false, redis: true }, ["nats"], "not ready: nats is down"],
    [{ nats: true, redis: false }, ["redis"], "not ready: redis is down"],
    [{ nats: false, redis: false }, ["nats", "redis"], "not ready: nats and redis are down"],
  ])("is 503 naming what is down (%o)", async (health, down, error) => {
    const url = await apiWith(health);
    expect(await get(`${url}/readyz`)).toEqual({ status: 503, body: { status: "not ready", ...health, down, error } });
    // /healthz keeps its own shape.
    expect(await get(`${url}/healthz`)).toEqual({ status: 503, body: { status: "degraded", ...health } });
  });

  it("/metrics is a 404 when the API was given no metrics", async () => {
    const url = await apiWith({ nats: true, redis: true });
    expect((await get(`${url}/metrics`)).status).toBe(404);
  });

  it("reports each response to the observer with its route template and status", async () => {
    const seen: string[] = [];
    const url = await apiWith({ nats: true, redis: false }, { observer: { onResponse: (method, route, status) => seen.push(`${method} ${route} ${status}`) } });
    await get(`${url}/readyz`);
    await get(`${url}/nowhere`);
    await fetch(`${url}/communities/a.b`, { method: "DELETE" }).then((res) => res.arrayBuffer());
    // Counted as each connection's response closes, which may come just after the client has the body.
    await vi.waitFor(() => expect(seen).toHaveLength(3), { timeout: 5_000 });
    expect(seen).toEqual(["GET /readyz 503", "GET unmatched 404", "DELETE /communities/{communityId} 400"]);
  });
});
