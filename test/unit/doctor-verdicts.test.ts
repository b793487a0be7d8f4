import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { formatReport } from "../../src/commands/doctor.js";
import { binaryCheck, compareVersions, degradedDetail, endpointSource, expectRunning, formatBytes, hostPort, natsVersionNote, nodeCheck, portCheck, unreachableCheck, type Check } from "../../src/doctor/verdicts.js";
import { consumerCheck, deadLetterCheck, streamCheck, topologyChecks, type ConsumerView, type StreamView, type DeadLetterView } from "../../src/doctor/topology-verdicts.js";
import { infoField } from "../../src/redis/redis-cache.js";
import { DLQ_SUBJECTS } from "../../src/wire/names.js";
import type { StackState } from "../../src/stack/state-file.js";

const NANOS_PER_DAY = 86_400_000 * 1_000_000;
const goodStream: StreamView = {
  config: { subjects: ["ec.>", "/.ec.>"], max_age: 7 * NANOS_PER_DAY, max_bytes: 1024 ** 3 },
  state: { messages: 42, bytes: 2048 },
};
const stack: StackState = {
  pid: 1234,
  api: "http://127.0.0.1:8000",
  nats: "nats://127.0.0.1:4222",
  redis: "redis://127.0.0.1:38001",
  servers: [],
  startedAt: "2026-01-01T00:00:00Z",
};

describe("versions", () => {
  it("compares version parts as numbers, not as text", () => {
    expect(compareVersions("2.9.10", "2.10.0")).toBeLessThan(0);
    expect(compareVersions("2.10.0", "2.9.10")).toBeGreaterThan(0);
    expect(compareVersions("v20.0.0", "20.0.0")).toBe(0);
  });

  it("accepts Node 20 and fails Node 18 with how to upgrade", () => {
    expect(nodeCheck("20.0.0").status).toBe("ok");
    const old = nodeCheck("18.19.1");
    expect(old.status).toBe("fail");
    expect(old.fix).toContain("nvm install 20");
  });

  it("explains what nats-server 2.9 silently ignores, and nothing for 2.10 or an unknown version", () => {
    expect(natsVersionNote("2.9.10")).toMatch(/multiple filter subjects.*subject transforms.*compression.*per-message TTL/);
    expect(natsVersionNote("2.10.0")).toBeUndefined();
    expect(natsVersionNote(undefined)).toBeUndefined();
  });

  it("an installed nats-server 2.9 is fine, with the note", () => {
    const check = binaryCheck("nats-server", "/usr/sbin/nats-server", "2.9.10", true);
    expect(check.status).toBe("ok");
    expect(check.detail).toContain("silently ignored");
  });
});

describe("server programs", () => {
  it("a missing program that `up` would have to start is a failure with the install command", () => {
    const check = binaryCheck("redis-server", undefined, undefined, true);
    expect(check.status).toBe("fail");
    expect(check.fix).toContain("apt-get install -y redis-server");
  });

  it("a missing program is only a warning when ecwatch is pointed at a server elsewhere", () => {
    expect(binaryCheck("nats-server", undefined, undefined, false).status).toBe("warn");
  });
});

describe("ports", () => {
  it("a free port is ok", () => {
    expect(portCheck("nats", true, undefined).status).toBe("ok");
  });

  it("a port used by the running stack is ok", () => {
    const check = portCheck("nats", false, stack);
    expect(check.status).toBe("ok");
    expect(check.detail).toContain("pid 1234");
  });

  it("a port used by something else is a warning saying `up` picks another port", () => {
    const check = portCheck("redis", false, stack);
    expect(check.status).toBe("warn");
    expect(check.detail).toContain("pick a free port");
  });

  it("a busy API port tells to pass --port", () => {
    const check = portCheck("api", false, undefined);
    expect(check.status).toBe("warn");
    expect(check.fix).toContain("--port");
  });
});

describe("reachability", () => {
  it("says where each URL came from: flag, then env, then the running stack", () => {
    expect(endpointSource("nats", "nats://h:1", { NATS_URL: "nats://e:2" }, stack)).toBe("flag");
    expect(endpointSource("nats", undefined, { NATS_URL: "nats://e:2" }, stack)).toBe("env");
    expect(endpointSource("api", undefined, { NATS_URL: "nats://e:2" }, stack)).toBe("stack");
    expect(endpointSource("redis", undefined, {}, undefined)).toBe("default");
  });

  it("expects servers only when pointed at, run by a stack, or partly up", () => {
    expect(expectRunning(["default", "default", "default"], false)).toBe(false);
    expect(expectRunning(["default", "env", "default"], false)).toBe(true);
    expect(expectRunning(["stack", "stack", "stack"], false)).toBe(true);
    expect(expectRunning(["default", "default", "default"], true)).toBe(true);
  });

  it("on a fresh machine an unreachable server is a warning that suggests `ecwatch up`", () => {
    const check = unreachableCheck("nats", { url: "nats://127.0.0.1:4222", source: "default" }, false, "connection refused");
    expect(check).toMatchObject({ status: "warn", fix: "Start the stack with `ecwatch up`." });
  });

  it("an unreachable server the user pointed at fails, with the command that starts it there", () => {
    const check = unreachableCheck("nats", { url: "nats://127.0.0.1:14222", source: "flag" }, true, "connection refused");
    expect(check.status).toBe("fail");
    expect(check.fix).toBe("Run `nats-server -js -a 127.0.0.1 -p 14222`, or pass the right `--nats <url>`.");
  });

  it("an unreachable server from the environment names the variable to correct", () => {
    const check = unreachableCheck("redis", { url: "redis://10.0.0.5:6380", source: "env" }, true, "");
    expect(check.fix).toBe("Run `redis-server --bind 10.0.0.5 --port 6380` on 10.0.0.5, or correct REDIS_URL.");
  });

  it("an unreachable server of a running stack says to restart the stack", () => {
    const check = unreachableCheck("api", { url: stack.api, source: "stack" }, true, "");
    expect(check.status).toBe("fail");
    expect(check.fix).toContain("run `ecwatch up` again");
  });

  it("never prints the credentials of a URL", () => {
    const check = unreachableCheck("redis", { url: "redis://user:s3cret@127.0.0.1:6379", source: "flag" }, true, "");
    expect(JSON.stringify(check)).not.toContain("s3cret");
  });

  it("reads host and port, with the scheme's default port", () => {
    expect(hostPort("nats://a:1@127.0.0.1:4223,nats://other:4222", 4222)).toEqual({ host: "127.0.0.1", port: 4223 });
    expect(hostPort("redis://cache.local", 6379)).toEqual({ host: "cache.local", port: 6379 });
    expect(hostPort("http://api.local", 8000)).toEqual({ host: "api.local", port: 80 });
    expect(hostPort("not a url", 4222)).toBeUndefined();
  });
});

describe("JetStream resources", () => {
  it("a stream with both reading subjects and retention limits is ok", () => {
    const check = streamCheck(goodStream);
    expect(check.status).toBe("ok");
    expect(check.detail).toContain("keeps 7d / 1 GiB");
  });

  it("a stream without retention limits is a warning", () => {
    const check = streamCheck({ ...goodStream, config: { ...goodStream.config, max_age: 0, max_bytes: -1 } });
    expect(check.status).toBe("warn");
    expect(check.detail).toContain("no age or size limit");
  });

  it("a stream with only an age limit still warns about its size", () => {
    const check = streamCheck({ ...goodStream, config: { ...goodStream.config, max_bytes: -1 } });
    expect(check.status).toBe("warn");
    expect(check.detail).toContain("no size limit");
  });

  it("a stream holding other subjects than everything under ec. fails (the two reading levels of an ecwatch before issue 18 among them)", () => {
    expect(streamCheck({ ...goodStream, config: { ...goodStream.config, subjects: ["ec.*.net", "ec.*.meter.*"] } }).status).toBe("fail");
    expect(streamCheck({ ...goodStream, config: { ...goodStream.config, subjects: ["ec.*.net"] } }).status).toBe("fail");
  });

  it("the order of the stream's subjects does not matter", () => {
    expect(streamCheck({ ...goodStream, config: { ...goodStream.config, subjects: ["/.ec.>", "ec.>"] } }).status).toBe("ok");
  });

  const pull = (pending = 0, awaiting = 0): ConsumerView => ({ num_pending: pending, num_ack_pending: awaiting, config: {} });
  const allConsumers = (strays = pull()): Record<string, ConsumerView> => ({
    ...Object.fromEntries(Array.from({ length: 8 }, (_, p) => [`agg-p${p}`, pull(p === 3 ? 120 : 0, p === 5 ? 7 : 0)])),
    "agg-strays": strays,
  });

  it("the partitions' pull consumers are ok and show their lag together", () => {
    const check = consumerCheck(allConsumers());
    expect(check.status).toBe("ok");
    expect(check.detail).toBe("8 partitions; lag 120, awaiting ack 7");
  });

  it("readings waiting on agg-strays are a warning naming the missing mapping", () => {
    const check = consumerCheck(allConsumers(pull(40, 2)));
    expect(check.status).toBe("warn");
    expect(check.detail).toContain("42 readings stored unpartitioned");
    expect(check.fix).toContain("mappings");
  });

  it("a missing consumer is a warning naming it", () => {
    const { "agg-p4": _gone, ...consumers } = allConsumers();
    const check = consumerCheck(consumers);
    expect(check.status).toBe("warn");
    expect(check.detail).toBe("agg-p4 missing");
  });

  it("a push consumer is a warning saying the aggregator replaces it", () => {
    const consumers = { ...allConsumers(), "agg-p2": { ...pull(), config: { deliver_subject: "_INBOX.x" } }, "agg-strays": { ...pull(), config: { deliver_subject: "_INBOX.y" } } };
    const check = consumerCheck(consumers);
    expect(check.status).toBe("warn");
    expect(check.detail).toBe("agg-p2, agg-strays: push instead of pull");
    expect(check.fix).toContain("pull consumers");
  });

  it("the dead letters are counted by kind; those not on a reading subject are a warning that points at the MQTT page", () => {
    const dlq = (subjects: Record<string, number>): DeadLetterView => ({
      config: { subjects: [...DLQ_SUBJECTS] },
      state: { messages: Object.values(subjects).reduce((sum, n) => sum + n, 0), subjects },
    });
    expect(deadLetterCheck(dlq({ "ecdlq.reading": 2 }))).toEqual({ name: "stream EC_DLQ", status: "ok", detail: "2 dead letters: 0 not on a reading subject, 2 not a valid reading", counts: { subject: 0, reading: 2 } });
    const edge = deadLetterCheck(dlq({ "ecdlq.subject": 4, "ecdlq.reading": 1 }));
    expect(edge).toMatchObject({ status: "warn", counts: { subject: 4, reading: 1 } });
    expect(edge.detail).toContain("4 not on a reading subject");
    expect(edge.fix).toContain("docs/mqtt.md");
  });

  it("dead letters on the subject of an ecwatch before issue 18 are a warning that the aggregator fixes", () => {
    const check = deadLetterCheck({ config: { subjects: ["ec.dlq"] }, state: { messages: 3 } });
    expect(check).toMatchObject({ status: "warn", detail: expect.stringContaining('holds ["ec.dlq"]') as string, fix: expect.stringContaining("ecwatch aggregate") as string });
  });

  it("a fresh server gives one line, not one per missing resource", () => {
    const checks = topologyChecks({ stream: undefined, consumers: {}, latest: undefined, state: undefined, dlq: undefined, foreign: [] });
    expect(checks).toHaveLength(1);
    expect(checks[0]?.status).toBe("warn");
  });

  it("a partly created setup lists each resource, skipping the consumer of a missing stream", () => {
    const checks = topologyChecks({ stream: undefined, consumers: {}, latest: { state: { messages: 3 } }, state: undefined, dlq: undefined, foreign: [] });
    expect(checks.map((check) => [check.name, check.status])).toEqual([
      ["stream EC_STREAM", "warn"],
      ["KV ec_latest", "ok"],
      ["KV ec_agg_state", "warn"],
      ["stream EC_DLQ", "warn"],
    ]);
  });
});

describe("formatting", () => {
  it("formats bytes with binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(1024 ** 3)).toBe("1 GiB");
  });

  it("names the upstream connections a degraded API reports down", () => {
    expect(degradedDetail('{"status":"degraded","nats":true,"redis":false}')).toBe("its Redis connection is down");
    expect(degradedDetail('{"status":"degraded","nats":false,"redis":false}')).toBe("its NATS and Redis connections are down");
    expect(degradedDetail("Service Unavailable")).toBe("Service Unavailable");
  });

  it("reads a field of Redis INFO", () => {
    expect(infoField("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n", "redis_version")).toBe("7.0.15");
    expect(infoField("# Server\r\n", "redis_version")).toBeUndefined();
  });

  const plain = new Chalk({ level: 0 });
  const checks: Check[] = [
    { name: "node", status: "ok", detail: "v20.11.0", fix: "never shown for an ok line" },
    { name: "NATS", status: "fail", detail: "cannot reach nats://127.0.0.1:4222", fix: "Run `nats-server -js`." },
    { name: "port 8000", status: "warn", detail: "in use" },
  ];

  it("prints one aligned line per check with the fix indented under a failing line", () => {
    expect(formatReport(checks, plain).split("\n")).toEqual([
      "✔ node       v20.11.0",
      "✖ NATS       cannot reach nats://127.0.0.1:4222",
      "             → Run `nats-server -js`.",
      "! port 8000  in use",
      "",
      "1 problem, 1 warning",
      "",
    ]);
  });

  it("says all checks passed when none warns or fails", () => {
    expect(formatReport([checks[0]!], plain)).toContain("all checks passed");
  });
});
