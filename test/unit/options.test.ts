import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { communityId, duration, faults, integer, oneOf, speed, timestamp, url } from "../../src/cli/options.js";
import { NO_FAULTS } from "../../src/sim/faults.js";

function rejection(parse: (value: string) => unknown, value: string): InvalidArgumentError {
  try {
    parse(value);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw new Error(`expected InvalidArgumentError for ${JSON.stringify(value)}, got ${String(err)}`);
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
}

describe("integer", () => {
  const parse = integer(1, 100);

  it("reads whole numbers within the range, the bounds included", () => {
    expect(parse("1")).toBe(1);
    expect(parse("42")).toBe(42);
    expect(parse("100")).toBe(100);
  });

  it("has no upper bound by default beyond safe integers", () => {
    expect(integer(0)("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(rejection(integer(0), "9007199254740993").message).toBe(`expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.`);
  });

  it.each(["0", "101", "-5", "1.5", "abc", "", "1e2", "0x10", "5abc"])("rejects %j with InvalidArgumentError", (value) => {
    expect(rejection(parse, value).message).toBe("expected a whole number from 1 to 100.");
  });

  it("accepts negative numbers when the range allows them", () => {
    expect(integer(-10, 10)("-3")).toBe(-3);
  });
});

describe("duration", () => {
  it("reads durations into milliseconds", () => {
    expect(duration()("500ms")).toBe(500);
    expect(duration()("5m")).toBe(300_000);
  });

  it.each(["5", "fast", "-1s", "0ms"])("rejects %j with InvalidArgumentError", (value) => {
    expect(rejection(duration(), value).message).toBe("expected a duration like 500ms, 2s, 5m, 1h or 1d.");
  });

  it("rejects a duration below the minimum", () => {
    expect(duration(1_000)("1s")).toBe(1_000);
    expect(rejection(duration(1_000), "999ms")).toBeInstanceOf(InvalidArgumentError);
  });
});

describe("url", () => {
  const nats = url(["nats", "tls"]);

  it("accepts a URL with an allowed scheme and returns it unchanged", () => {
    expect(nats("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
    expect(nats("tls://user:pw@example.com:4222")).toBe("tls://user:pw@example.com:4222");
  });

  it("accepts a comma-separated list of URLs", () => {
    expect(nats("nats://a:4222,nats://b:4222")).toBe("nats://a:4222,nats://b:4222");
  });

  it("rejects text that is not a URL, with an example of the first scheme", () => {
    expect(rejection(nats, "127.0.0.1:4222 x").message).toBe("expected a URL like nats://127.0.0.1:port.");
    expect(rejection(nats, "not a url").message).toBe("expected a URL like nats://127.0.0.1:port.");
  });

  it("rejects a URL with another scheme, naming the allowed ones", () => {
    expect(rejection(nats, "redis://127.0.0.1:6379").message).toBe("expected a nats or tls URL.");
  });

  it("rejects a list when any one URL has another scheme", () => {
    expect(rejection(nats, "nats://a:4222,http://b:80")).toBeInstanceOf(InvalidArgumentError);
  });
});

describe("communityId", () => {
  it("accepts a valid id", () => {
    expect(communityId("community1")).toBe("community1");
  });

  it.each([
    ["", "the community id is required."],
    ["a.b", "the community id must match [A-Za-z0-9_-]{1,64}."],
    ["c*", "the community id must match [A-Za-z0-9_-]{1,64}."],
    ["x".repeat(65), "the community id must match [A-Za-z0-9_-]{1,64}."],
  ])("rejects %j with InvalidArgumentError", (value, message) => {
    expect(rejection(communityId, value).message).toBe(message);
  });
});

describe("oneOf", () => {
  const level = oneOf(["meter", "community"] as const);

  it("accepts one of the values", () => {
    expect(level("community")).toBe("community");
  });

  it.each(["Meter", "all", ""])("rejects %j, listing the values", (value) => {
    expect(rejection(level, value).message).toBe("expected one of meter, community.");
  });
});

describe("timestamp", () => {
  it("reads an ISO-8601 time with a zone into ms since the epoch", () => {
    expect(timestamp("2026-06-21T00:00:00Z")).toBe(Date.UTC(2026, 5, 21));
    expect(timestamp("2026-06-21T02:00:00+02:00")).toBe(Date.UTC(2026, 5, 21));
    expect(timestamp("2026-06-21T00:00:00.250Z")).toBe(Date.UTC(2026, 5, 21) + 250);
  });

  it.each(["2026-06-21T00:00:00", "2026-06-21", "now", "", "2026-02-30T00:00:00Z", "1750464000000"])("rejects %j with InvalidArgumentError", (value) => {
    expect(rejection(timestamp, value).message).toBe("expected an ISO-8601 time with a zone, e.g. 2026-06-21T00:00:00Z.");
  });
});

describe("speed", () => {
  it("reads a factor above 0", () => {
    expect(speed("60")).toBe(60);
    expect(speed("1")).toBe(1);
    expect(speed("0.5")).toBe(0.5);
    expect(speed(".25")).toBe(0.25);
    expect(speed("1000000000")).toBe(1e9);
  });

  it("reads max as Infinity", () => {
    expect(speed("max")).toBe(Number.POSITIVE_INFINITY);
  });

  it.each(["0", "0.0", "-1", "-0.5", "abc", "", "Infinity", "1e3", "1000000001", "MAX", " 60"])("rejects %j with InvalidArgumentError", (value) => {
    expect(rejection(speed, value).message).toBe("expected a factor above 0 (e.g. 60) or max.");
  });
});

describe("faults", () => {
  it("reads a fault spec", () => {
    expect(faults("dropout=0.01,skew=2s")).toEqual({ ...NO_FAULTS, dropout: 0.01, skewMs: 2_000 });
  });

  it.each([
    ["dropout=2", 'dropout must be a probability from 0 to 1, not "2".'],
    ["lag=0.1", 'unknown fault "lag"; known: dropout, duplicate, reorder, malformed, offline, skew.'],
    ["skew=2", 'skew must be a duration like 2s, not "2".'],
    ["reorder", '"reorder" is not name=value.'],
  ])("rejects %j with InvalidArgumentError naming the bad part", (value, message) => {
    expect(rejection(faults, value).message).toBe(message);
  });
});
