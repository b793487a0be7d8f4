import { describe, expect, it } from "vitest";
import { adbServerPort, parseDeviceList } from "../../src/adb/adb-client.js";
import {
  broadcastArgs,
  broadcastCommand,
  broadcastSucceeded,
  DEFAULT_BROADCAST_TARGET,
  parseReceiver,
  parseWatchMessage,
  parseWatchTarget,
  shellQuote,
} from "../../src/wear-emu/bridge-protocol.js";
import type { WatchDelivery } from "../../src/wear-emu/data-layer.js";

const delivery: WatchDelivery = { atMs: 0, kind: "data", path: "/net_energy", bytes: 60, urgent: true, data: { netEnergy: -1234, measuredAt: 1_700_000_000_000 } };

describe("shell quoting", () => {
  it("leaves safe words alone and single-quotes everything else", () => {
    expect(shellQuote("com.example.energy/.presentation.WearEmuReceiver")).toBe("com.example.energy/.presentation.WearEmuReceiver");
    expect(shellQuote('{"a": 1}')).toBe(`'{"a": 1}'`);
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("$(reboot)")).toBe("'$(reboot)'");
  });

  it("writes a single quote as '\\''", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("the broadcast of a delivery", () => {
  it("is the prototype app's explicit broadcast, with the DataMap as JSON", () => {
    expect(broadcastCommand(DEFAULT_BROADCAST_TARGET, delivery, 7)).toBe(
      `am broadcast -a com.example.energy.DATA_ITEM -n com.example.energy/.presentation.WearEmuReceiver --es path /net_energy --es data '{"netEnergy":-1234,"measuredAt":1700000000000}' --ez urgent true --el seq 7`,
    );
  });

  it("targets the package instead of a class for a receiver registered at run time", () => {
    expect(broadcastArgs({ ...DEFAULT_BROADCAST_TARGET, receiver: "" }, delivery, 1).slice(4, 6)).toEqual(["-p", "com.example.energy"]);
  });

  it("carries a message's payload as its data", () => {
    const message: WatchDelivery = { atMs: 0, kind: "message", path: "/net_energy", bytes: 20, urgent: true, payload: new TextEncoder().encode('{"netEnergy":5}') };
    expect(broadcastArgs(DEFAULT_BROADCAST_TARGET, message, 2)).toContain('{"netEnergy":5}');
  });

  it("is successful when am printed Broadcast completed", () => {
    expect(broadcastSucceeded("Broadcasting: Intent { act=x }\nBroadcast completed: result=0\n")).toBe(true);
    expect(broadcastSucceeded("/system/bin/sh: am: inaccessible or not found\n")).toBe(false);
  });
});

describe("messages from the watch", () => {
  const parse = (line: string) => parseWatchMessage(line, "/request_latest_energy");

  it("open, close and a request, with or without a community", () => {
    expect(parse('{"path":"/app_opened"}')).toEqual({ kind: "opened" });
    expect(parse('{"path":"/app_closed","data":null}')).toEqual({ kind: "closed" });
    expect(parse('{"path":"/request_latest_energy"}')).toEqual({ kind: "request" });
    expect(parse('{"path":"/request_latest_energy","data":{"community":"c2"}}')).toEqual({ kind: "request", community: "c2" });
  });

  it("a bad line is named, not thrown", () => {
    expect(parse("hello")).toEqual({ error: "not JSON" });
    expect(parse("[1]")).toEqual({ error: "not a JSON object" });
    expect(parse('{"data":1}')).toEqual({ error: 'no "path" string' });
    expect(parse('{"path":"/reboot"}')).toEqual({ error: 'unknown path "/reboot"' });
    expect(parse('{"path":"/request_latest_energy","data":{"community":3}}')).toHaveProperty("error");
  });
});

describe("flags", () => {
  it("--watch takes emulated, adb or adb:<serial>", () => {
    expect(parseWatchTarget("emulated")).toEqual({ kind: "emulated" });
    expect(parseWatchTarget("adb")).toEqual({ kind: "adb", serial: undefined });
    expect(parseWatchTarget("adb:127.0.0.1:5555")).toEqual({ kind: "adb", serial: "127.0.0.1:5555" });
    expect(() => parseWatchTarget("adb:")).toThrow(/adb:<serial>/);
    expect(() => parseWatchTarget("adb:a b")).toThrow(/adb:<serial>/);
    expect(() => parseWatchTarget("usb")).toThrow(/adb:<serial>/);
  });

  it("--receiver takes a class in the package, a full class name, or empty", () => {
    expect(parseReceiver(".presentation.WearEmuReceiver")).toBe(".presentation.WearEmuReceiver");
    expect(parseReceiver("com.other.Receiver")).toBe("com.other.Receiver");
    expect(parseReceiver("")).toBe("");
    expect(() => parseReceiver("not a class")).toThrow(/expected a class/);
  });
});

describe("the adb client's pure parts", () => {
  it("reads host:devices lines", () => {
    expect(parseDeviceList("emulator-5554\tdevice\n127.0.0.1:5555\toffline\n")).toEqual([
      { serial: "emulator-5554", state: "device" },
      { serial: "127.0.0.1:5555", state: "offline" },
    ]);
    expect(parseDeviceList("")).toEqual([]);
  });

  it("finds the server port like adb: explicit, then ANDROID_ADB_SERVER_PORT, then 5037", () => {
    expect(adbServerPort(6000, { ANDROID_ADB_SERVER_PORT: "7000" })).toBe(6000);
    expect(adbServerPort(undefined, { ANDROID_ADB_SERVER_PORT: "7000" })).toBe(7000);
    expect(adbServerPort(undefined, { ANDROID_ADB_SERVER_PORT: "nope" })).toBe(5037);
    expect(adbServerPort(undefined, {})).toBe(5037);
  });
});
