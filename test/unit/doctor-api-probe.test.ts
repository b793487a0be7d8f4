import { describe, expect, it } from "vitest";
import { type ApiHealth, probeApi } from "../../src/doctor/probes.js";

/** A hand-written API: answers /healthz as the test says, or rejects as an unreachable one does. */
class FakeApi implements ApiHealth {
  readonly timeouts: number[] = [];
  constructor(private readonly answer: { status: number; body: string } | Error) {}

  healthz(options: { readonly timeoutMs: number }): Promise<{ status: number; body: string }> {
    this.timeouts.push(options.timeoutMs);
    return this.answer instanceof Error ? Promise.reject(this.answer) : Promise.resolve(this.answer);
  }
}

const URL_ = "http://127.0.0.1:8000";

describe("doctor's API probe", () => {
  it("finds a 200 of /healthz reachable and healthy, asking with a 2 s limit", async () => {
    const api = new FakeApi({ status: 200, body: '{"status":"ok"}' });
    expect(await probeApi(URL_, api)).toEqual({ reachable: true, checks: [] });
    expect(api.timeouts).toEqual([2_000]);
  });

  it("names the connection that is down when the API answers 503", async () => {
    const probe = await probeApi(URL_, new FakeApi({ status: 503, body: JSON.stringify({ status: "degraded", nats: true, redis: false }) }));
    expect(probe).toMatchObject({ reachable: true, unhealthy: { name: "API", status: "fail" } });
    expect(probe.reachable && probe.unhealthy?.detail).toBe(`${URL_} is degraded: its Redis connection is down`);
  });

  it("asks whether it is an ecwatch API at all when /healthz answers another status", async () => {
    const probe = await probeApi(URL_, new FakeApi({ status: 404, body: "not found" }));
    expect(probe.reachable && probe.unhealthy?.detail).toBe(`${URL_}/healthz answers 404; is it an ecwatch API?`);
  });

  it("gives the network error's own words as the reason it is unreachable", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { code: "ECONNREFUSED" });
    expect(await probeApi(URL_, new FakeApi(new Error("Cannot reach the API at http://127.0.0.1:8000.", { cause: refused })))).toEqual({
      reachable: false,
      reason: "connect ECONNREFUSED 127.0.0.1:8000",
      failure: "unreachable",
    });
  });
});
