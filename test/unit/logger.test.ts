import { describe, expect, it } from "vitest";
import { createLogger, type LogStream, type LoggerOptions } from "../../src/cli/logger.js";

/** A stream that keeps what is written; `isTTY` decides the default format. */
function capture(isTTY: boolean): { stream: LogStream; lines: () => string[] } {
  let text = "";
  const stream: LogStream = { isTTY, write: (chunk: string) => ((text += chunk), true) };
  return { stream, lines: () => text.split("\n").filter(Boolean) };
}

const at = (options: Partial<LoggerOptions> & { isTTY?: boolean } = {}) => {
  const { stream, lines } = capture(options.isTTY ?? false);
  const log = createLogger({ now: () => new Date("2026-11-22T12:00:00.000Z"), env: { NO_COLOR: "1" }, ...options, stream });
  return { log, lines };
};

describe("createLogger", () => {
  it("writes JSON lines with time, level and message when the stream is not a terminal", () => {
    const { log, lines } = at();
    log.info("aggregating", { partitions: 8 });
    log.warn("cache write failed", { err: new Error("ECONNREFUSED") });
    expect(lines().map((line) => JSON.parse(line))).toEqual([
      { time: "2026-11-22T12:00:00.000Z", level: "info", msg: "aggregating", partitions: 8 },
      { time: "2026-11-22T12:00:00.000Z", level: "warn", msg: "cache write failed", err: "ECONNREFUSED" },
    ]);
  });

  it("writes readable lines on a terminal: info as the commands printed it, warnings prefixed", () => {
    const { log, lines } = at({ isTTY: true });
    log.info("created stream EC_STREAM");
    log.warn("Redis is away (retrying)");
    log.error("request failed", { status: 503 });
    expect(lines()).toEqual(["created stream EC_STREAM", "warning Redis is away (retrying)", "error request failed status=503"]);
  });

  it("drops records below its level", () => {
    const { log, lines } = at({ level: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(lines().map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(["warn", "error"]);
    expect([log.enabled("debug"), log.enabled("info"), log.enabled("warn")]).toEqual([false, false, true]);
  });

  it("writes debug records at level debug", () => {
    const { log, lines } = at({ level: "debug" });
    log.debug("stats", { readings: 3 });
    expect(JSON.parse(lines()[0]!)).toMatchObject({ level: "debug", msg: "stats", readings: 3 });
  });

  it("never writes the credentials of a URL, in the message or in a field, in either format", () => {
    for (const isTTY of [false, true]) {
      const { log, lines } = at({ isTTY });
      log.info("aggregating nats://app:s3cr@t@10.0.0.5:4222 → redis://:hunter2@10.0.0.6:6379");
      log.warn("could not connect", { url: "rediss://user:pa55@cache:6380/0", err: new Error("connect to nats://u:p@h:4222 failed") });
      const text = lines().join("\n");
      for (const secret of ["s3cr", "hunter2", "pa55", "u:p@"]) expect(text).not.toContain(secret);
      expect(text).toContain("nats://***@10.0.0.5:4222");
      expect(text).toContain("redis://***@10.0.0.6:6379");
      expect(text).toContain("rediss://***@cache:6380/0");
    }
  });

  it("does not let a field overwrite time, level or msg", () => {
    const { log, lines } = at();
    log.info("real", { msg: "fake", level: "error", time: "then" });
    expect(JSON.parse(lines()[0]!)).toEqual({ time: "2026-11-22T12:00:00.000Z", level: "info", msg: "real" });
  });
});
