import { describe, expect, it } from "vitest";
import { keyAction, logLine, wearEmuLines } from "../../src/tui/wear-emu-view.js";
import { DEFAULT_ENERGY, energyReport } from "../../src/wear-emu/energy-model.js";
import type { RelaySnapshot } from "../../src/wear-emu/live-relay.js";
import type { RelayLogEntry } from "../../src/wear-emu/relay-log.js";

const T = Date.UTC(2026, 10, 22, 12);
const entry = (fields: Partial<RelayLogEntry>): RelayLogEntry => ({
  atMs: T,
  what: "urgent",
  path: "/net_energy",
  netW: 2_104,
  wakeup: undefined,
  bytes: 0,
  dueMs: undefined,
  unchanged: false,
  count: 1,
  looking: false,
  ...fields,
});
const snapshot = (fields: Partial<RelaySnapshot>): RelaySnapshot => ({
  atMs: T + 20_000,
  link: "live",
  looking: false,
  wristRemainingMs: undefined,
  held: undefined,
  truthW: 2_104,
  log: [],
  energy: energyReport({ durationMs: 60_000, wakeups: [], screenOnMs: 0 }, DEFAULT_ENERGY),
  startedAtMs: T,
  ...fields,
});
const options = { communities: ["community1"], policy: "energy-aware", colorMode: "none" as const, keys: true };

describe("the keys of the wear-emu live view", () => {
  it("space raises or lowers the wrist; q and Ctrl-C quit; other keys do nothing", () => {
    expect(keyAction(" ")).toBe("wrist");
    expect(keyAction("q")).toBe("quit");
    expect(keyAction("\u0003")).toBe("quit");
    expect(keyAction("x")).toBeUndefined();
    expect(keyAction("\u001B[A")).toBeUndefined();
  });

  it("the screen lists them when they work, and not when stdin is no terminal", () => {
    expect(wearEmuLines(snapshot({}), options).at(-1)).toBe("keys: space raise / lower the wrist · q or Ctrl-C quit");
    expect(wearEmuLines(snapshot({}), { ...options, keys: false }).join("\n")).not.toContain("keys:");
  });
});

describe("the watch on the live view", () => {
  it("with the wrist down the screen is dark, and says what the watch holds anyway", () => {
    const lines = wearEmuLines(snapshot({ held: { netW: 1_500, measuredAtMs: T, receivedAtMs: T + 5_000 } }), options);
    expect(lines).toContain("wrist down — watch screen off (space raises it)");
    expect(lines.join("\n")).toContain("(screen off)");
    expect(lines.join("\n")).not.toMatch(/[\u2801-\u28FF]/);
    expect(lines).toContain("watch holds +1.50 kW · measured 20s ago · arrived 15s ago   API now +2.10 kW");
  });

  it("with the wrist raised the face shows the value the watch holds, and how long the glance lasts", () => {
    const lines = wearEmuLines(snapshot({ looking: true, wristRemainingMs: 6_200, held: { netW: -3_450, measuredAtMs: T - 70_000, receivedAtMs: T + 19_000 } }), options);
    expect(lines).toContain("wrist raised — watch screen ON, 7s left (space lowers it)");
    const text = lines.join("\n");
    expect(text).toMatch(/[\u2801-\u28FF]{3}/);
    expect(text).toContain("3.45");
    expect(text).toContain("watch holds -3.45 kW · measured 1m 30s ago · arrived 1s ago (stale: older than the watch's minute)");
  });

  it("says so when the watch holds nothing yet", () => {
    expect(wearEmuLines(snapshot({}), options)).toContain("watch holds nothing yet   API now +2.10 kW");
  });
});

describe("the Data Layer log lines", () => {
  it("say what the policy did: urgent with bytes and wake-up, batched until when, held, unchanged", () => {
    expect(logLine(entry({ wakeup: 3, bytes: 62 }))).toBe("12:00:00  urgent  /net_energy +2.10 kW → 62 B, wake-up 3");
    expect(logLine(entry({ what: "batched", dueMs: T + 300_000 }))).toBe("12:00:00  batched /net_energy +2.10 kW → waits for the batch at 12:05:00");
    expect(logLine(entry({ what: "held", count: 4 }))).toBe("12:00:00  held    /net_energy +2.10 kW → not sent (4 updates; screen off: not worth a wake-up)");
    expect(logLine(entry({ unchanged: true }))).toBe("12:00:00  urgent  /net_energy +2.10 kW → unchanged, nothing sent");
    expect(logLine(entry({ what: "batch", wakeup: 4, bytes: 62, atMs: T + 300_000 }))).toBe("12:05:00  batch   /net_energy +2.10 kW → 62 B, wake-up 4");
    expect(logLine(entry({ what: "batched" }))).toBe("12:00:00  batched /net_energy +2.10 kW → waits for the watch");
  });
});

describe("a held run seen while looking", () => {
  it("says the face would show no change yet, or the update was coalesced", () => {
    expect(logLine(entry({ what: "held", looking: true }))).toBe("12:00:00  held    /net_energy +2.10 kW → not sent (1 update; no change the face would show yet, or coalesced)");
  });
});
