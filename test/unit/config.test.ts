import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveEndpoint } from "../../src/config/connection-settings.js";
import { DEFAULTS } from "../../src/config/defaults.js";
import { resolveArchiveDir } from "../../src/config/archive-dir.js";

const NO_STATE = join(tmpdir(), "ecwatch-unit-no-such-state-dir");
const env = { NATS_URL: "nats://env:4222", REDIS_URL: "redis://env:6379", ECWATCH_API: "http://env:8000" };

const dirs: string[] = [];
/** Stands in for a running `ecwatch up`: the state file only counts while its pid runs ecwatch. */
let fakeUp: ChildProcess;
/** A live process that is not ecwatch, as when the pid of an `up` has been reused. */
let otherProgram: ChildProcess;

beforeAll(async () => {
  fakeUp = spawn("sleep", ["60"], { argv0: "ecwatch", stdio: "ignore" });
  otherProgram = spawn("sleep", ["60"], { stdio: "ignore" });
  await Promise.all(
    [fakeUp, otherProgram].map((child) => new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject))),
  );
});

afterAll(() => {
  fakeUp?.kill();
  otherProgram?.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stateDir(pid: number, extra: { readonly archive?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-unit-state-"));
  dirs.push(dir);
  const state = {
    pid,
    api: "http://state:8000",
    nats: "nats://state:4222",
    redis: "redis://state:6379",
    servers: [],
    startedAt: "2026-11-22T12:00:00.000Z",
    ...extra,
  };
  writeFileSync(join(dir, "state.json"), JSON.stringify(state));
  return dir;
}

describe("resolveEndpoint", () => {
  it("takes the flag over the environment", () => {
    expect(resolveEndpoint("nats", "nats://flag:4222", env, NO_STATE)).toBe("nats://flag:4222");
  });

  it("takes the environment when there is no flag", () => {
    expect(resolveEndpoint("nats", undefined, env, NO_STATE)).toBe("nats://env:4222");
    expect(resolveEndpoint("redis", undefined, env, NO_STATE)).toBe("redis://env:6379");
    expect(resolveEndpoint("api", undefined, env, NO_STATE)).toBe("http://env:8000");
  });

  it("falls back to the defaults without flag, environment or running stack", () => {
    expect(resolveEndpoint("nats", undefined, {}, NO_STATE)).toBe("nats://127.0.0.1:4222");
    expect(resolveEndpoint("redis", undefined, {}, NO_STATE)).toBe("redis://127.0.0.1:6379");
    expect(resolveEndpoint("api", undefined, {}, NO_STATE)).toBe("http://127.0.0.1:8000");
  });

  it("the defaults are the prototype's loopback ports, and MQTT's registered one", () => {
    expect(DEFAULTS).toEqual({ nats: "nats://127.0.0.1:4222", redis: "redis://127.0.0.1:6379", api: "http://127.0.0.1:8000", mqtt: "mqtt://127.0.0.1:1883" });
  });

  it("finds the MQTT listener of a running `up --mqtt`, or takes MQTT_URL", () => {
    expect(resolveEndpoint("mqtt", undefined, { MQTT_URL: "mqtt://env:1883" }, NO_STATE)).toBe("mqtt://env:1883");
    expect(resolveEndpoint("mqtt", undefined, {}, NO_STATE)).toBe("mqtt://127.0.0.1:1883");
  });

  it("does not read another endpoint's variable", () => {
    expect(resolveEndpoint("redis", undefined, { NATS_URL: "nats://env:4222" }, NO_STATE)).toBe("redis://127.0.0.1:6379");
  });

  it("counts an empty variable as unset", () => {
    expect(resolveEndpoint("nats", undefined, { NATS_URL: "" }, NO_STATE)).toBe("nats://127.0.0.1:4222");
  });

  it("takes a running stack's state file after the environment and before the defaults", () => {
    const dir = stateDir(fakeUp.pid!);
    expect(resolveEndpoint("nats", undefined, {}, dir)).toBe("nats://state:4222");
    expect(resolveEndpoint("api", undefined, {}, dir)).toBe("http://state:8000");
    expect(resolveEndpoint("nats", undefined, env, dir)).toBe("nats://env:4222");
    expect(resolveEndpoint("nats", "nats://flag:4222", env, dir)).toBe("nats://flag:4222");
  });

  it("ignores the state file of an up that is no longer running", () => {
    // Above any pid_max Linux allows (2^22), so no process has it.
    const dir = stateDir(2 ** 22 + 12_345);
    expect(resolveEndpoint("nats", undefined, {}, dir)).toBe("nats://127.0.0.1:4222");
  });

  it("ignores a state file whose pid now belongs to another program", () => {
    const dir = stateDir(otherProgram.pid!);
    expect(resolveEndpoint("nats", undefined, {}, dir)).toBe("nats://127.0.0.1:4222");
  });
});

describe("resolveArchiveDir (query, export)", () => {
  it("takes --dir first", () => {
    expect(resolveArchiveDir("/data/archive", stateDir(fakeUp.pid!, { archive: "/srv/up-archive" }))).toBe("/data/archive");
  });

  it("takes the running up's archive without --dir", () => {
    expect(resolveArchiveDir(undefined, stateDir(fakeUp.pid!, { archive: "/srv/up-archive" }))).toBe("/srv/up-archive");
  });

  it("falls back to .ecwatch/archive without a running up, for an up started with --no-archive, and for a state file whose pid is no longer ecwatch", () => {
    expect(resolveArchiveDir(undefined, NO_STATE)).toBe(".ecwatch/archive");
    expect(resolveArchiveDir(undefined, stateDir(fakeUp.pid!))).toBe(".ecwatch/archive");
    expect(resolveArchiveDir(undefined, stateDir(otherProgram.pid!, { archive: "/srv/up-archive" }))).toBe(".ecwatch/archive");
  });
});
