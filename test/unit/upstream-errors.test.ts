import { JetStreamApiError } from "@nats-io/jetstream";
import { errors } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { pingReadiness } from "../../src/api/readiness.js";
import { EcwatchError, UpstreamError } from "../../src/errors.js";
import { isNatsFailure, NatsError, natsCall } from "../../src/nats/nats-errors.js";
import { RedisError, redisCall } from "../../src/redis/redis-errors.js";

describe("NATS failures by type", () => {
  it.each([
    ["a closed connection", new errors.ClosedConnectionError()],
    ["a timeout", new errors.TimeoutError()],
    ["a lost connection", new errors.ConnectionError("connection refused")],
    ["a request without responders", new errors.RequestError("no responders", { cause: new errors.NoRespondersError("$JS.API.INFO") })],
    ["a JetStream API error", new JetStreamApiError({ code: 503, err_code: 10077, description: "insufficient resources" })],
    ["an error caused by one", new Error("jetstream is not enabled", { cause: new errors.RequestError("no responders") })],
  ])("%s is NATS's", (_what, err) => {
    expect(isNatsFailure(err)).toBe(true);
  });

  it.each([
    ["a wrong argument", new errors.InvalidArgumentError("bad subject")],
    ["a plain error that mentions NATS", new Error("nats connection timeout")],
    ["no error at all", "timeout"],
  ])("%s is not", (_what, err) => {
    expect(isNatsFailure(err)).toBe(false);
  });

  it("natsCall rethrows NATS's failures as a NatsError with the same message and the cause, anything else as it is", async () => {
    const timeout = new errors.TimeoutError();
    const failed = await natsCall(Promise.reject(timeout)).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(NatsError);
    expect(failed).toBeInstanceOf(UpstreamError);
    expect(failed).toMatchObject({ message: timeout.message, cause: timeout, upstream: "nats", code: "NATS_FAILED" });
    const bug = new TypeError("x is undefined");
    expect(await natsCall(Promise.reject(bug)).catch((err: unknown) => err)).toBe(bug);
  });
});

describe("Redis failures", () => {
  it("redisCall rethrows any failure of a command as a RedisError, an UpstreamError and an EcwatchError", async () => {
    const closed = new Error("Connection is closed.");
    const failed = await redisCall(Promise.reject(closed)).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(RedisError);
    expect(failed).toBeInstanceOf(UpstreamError);
    expect(failed).toBeInstanceOf(EcwatchError);
    expect(failed).toMatchObject({ message: "Connection is closed.", cause: closed, upstream: "redis", code: "REDIS_FAILED" });
    expect(await redisCall(Promise.resolve("PONG"))).toBe("PONG");
  });
});

describe("pingReadiness", () => {
  it("counts an upstream that fails or does not answer in time as down", async () => {
    const readiness = pingReadiness({ nats: { ping: () => new Promise(() => undefined) }, redis: { ping: async () => "PONG" } }, 50);
    expect(await readiness.upstreams()).toEqual({ nats: false, redis: true });
    const failing = pingReadiness({ nats: { ping: async () => undefined }, redis: { ping: () => Promise.reject(new Error("down")) } }, 50);
    expect(await failing.upstreams()).toEqual({ nats: true, redis: false });
  });
});
