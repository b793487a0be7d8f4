import { describe, expect, it } from "vitest";
import {
  DATA_LAYER_ERRORS,
  DataLayer,
  DataLayerError,
  MAX_DATA_ITEM_BYTES,
  encodeDataMap,
} from "../../src/wear-emu/data-layer.js";

const MIN = 60_000;
const URGENT = { urgent: true } as const;
const LAZY = { urgent: false } as const;
const energy = (netEnergy: number, measuredAt = 1_000) => ({ netEnergy, measuredAt });

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("encodeDataMap", () => {
  it("gives the same bytes regardless of key order", () => {
    expect(encodeDataMap({ a: 1, b: "x", c: true })).toEqual(encodeDataMap({ c: true, b: "x", a: 1 }));
  });

  it("tells a string from a number of the same digits", () => {
    expect(encodeDataMap({ a: "1" })).not.toEqual(encodeDataMap({ a: 1 }));
  });

  it("refuses a non-finite number rather than encoding it like another value", () => {
    expect(() => encodeDataMap({ a: Number.NaN })).toThrow(RangeError);
  });
});

describe("DataLayer: changed bytes only", () => {
  it("an identical put fires no onDataChanged and reaches nothing", () => {
    const dl = new DataLayer();
    expect(dl.putDataItem(0, "/net_energy", energy(500), URGENT)).toBe(true);
    expect(dl.putDataItem(1_000, "/net_energy", { measuredAt: 1_000, netEnergy: 500 }, URGENT)).toBe(false);
    expect(dl.drain(1_000)).toHaveLength(1);
    expect(dl.stats).toMatchObject({ wakeups: 1, dataItems: 1, unchangedPuts: 1 });
  });

  it("the prototype's forced-unique time field makes every put reach the watch", () => {
    const dl = new DataLayer();
    for (let t = 0; t < 5_000; t += 1_000) {
      expect(dl.putDataItem(t, "/net_energy", { ...energy(500), time: t }, URGENT)).toBe(true);
    }
    expect(dl.drain(5_000).map((d) => d.atMs)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
    expect(dl.stats).toMatchObject({ wakeups: 5, dataItems: 5, unchangedPuts: 0 });
  });
});

describe("DataLayer: batching", () => {
  it("non-urgent items wait batchDelayMs and then arrive together in one wake-up", () => {
    const dl = new DataLayer({ batchDelayMs: 15 * MIN });
    dl.putDataItem(0, "/net_energy", energy(100), LAZY);
    dl.putDataItem(5 * MIN, "/tile", { label: "PV" }, LAZY);
    expect(dl.nextDueMs()).toBe(15 * MIN);
    expect(dl.drain(15 * MIN - 1)).toEqual([]);
    const delivered = dl.drain(15 * MIN);
    expect(delivered.map((d) => [d.path, d.atMs])).toEqual([
      ["/net_energy", 15 * MIN],
      ["/tile", 15 * MIN],
    ]);
    expect(dl.stats.wakeups).toBe(1);
    expect(dl.nextDueMs()).toBeUndefined();
  });

  it("a batch that fell due between calls is delivered at its due time", () => {
    const dl = new DataLayer({ batchDelayMs: 10 * MIN });
    dl.putDataItem(0, "/net_energy", energy(100), LAZY);
    dl.putDataItem(25 * MIN, "/net_energy", energy(200), LAZY);
    expect(dl.drain(25 * MIN).map((d) => [d.atMs, d.data?.netEnergy])).toEqual([[10 * MIN, 100]]);
    expect(dl.nextDueMs()).toBe(35 * MIN);
  });

  it("the default delay is the platform's 30 minutes", () => {
    const dl = new DataLayer();
    dl.putDataItem(0, "/net_energy", energy(100), LAZY);
    expect(dl.nextDueMs()).toBe(30 * MIN);
  });

  it("waiting items go early with the next urgent delivery, in the same wake-up", () => {
    const dl = new DataLayer({ batchDelayMs: 30 * MIN });
    dl.putDataItem(0, "/tile", { label: "PV" }, LAZY);
    dl.putDataItem(2 * MIN, "/net_energy", energy(-300), URGENT);
    const delivered = dl.drain(2 * MIN);
    expect(delivered.map((d) => [d.path, d.atMs, d.urgent])).toEqual([
      ["/tile", 2 * MIN, false],
      ["/net_energy", 2 * MIN, true],
    ]);
    expect(dl.stats.wakeups).toBe(1);
    expect(dl.nextDueMs()).toBeUndefined();
  });

  it("an unchanged item still waiting for its batch goes at once when put again as urgent", () => {
    const dl = new DataLayer({ batchDelayMs: 30 * MIN });
    dl.putDataItem(0, "/net_energy", energy(500), LAZY);
    expect(dl.putDataItem(MIN, "/net_energy", energy(500), URGENT)).toBe(false);
    expect(dl.drain(MIN).map((d) => [d.path, d.atMs, d.urgent])).toEqual([["/net_energy", MIN, true]]);
    expect(dl.stats).toMatchObject({ wakeups: 1, dataItems: 1, unchangedPuts: 1 });
  });

  it("an item replaced before its delivery arrives only in its newest form", () => {
    const dl = new DataLayer({ batchDelayMs: 10 * MIN });
    dl.putDataItem(0, "/net_energy", energy(100), LAZY);
    dl.putDataItem(MIN, "/net_energy", energy(200), LAZY);
    dl.putDataItem(2 * MIN, "/net_energy", energy(300), LAZY);
    expect(dl.nextDueMs()).toBe(10 * MIN); // the replacement keeps the first wait's start
    const delivered = dl.drain(10 * MIN);
    expect(delivered.map((d) => d.data?.netEnergy)).toEqual([300]);
    expect(dl.stats.dataItems).toBe(1);
  });

  it("a replacement back to what the watch already has delivers nothing", () => {
    const dl = new DataLayer({ batchDelayMs: 10 * MIN });
    dl.putDataItem(0, "/net_energy", energy(100), URGENT);
    dl.putDataItem(MIN, "/net_energy", energy(200), LAZY);
    expect(dl.putDataItem(2 * MIN, "/net_energy", energy(100), LAZY)).toBe(true);
    expect(dl.drain(20 * MIN).map((d) => d.atMs)).toEqual([0]);
    expect(dl.stats).toMatchObject({ wakeups: 1, dataItems: 1 });
  });
});

describe("DataLayer: connection", () => {
  it("a message to a disconnected watch fails with 4000 TARGET_NODE_NOT_CONNECTED", () => {
    const dl = new DataLayer();
    dl.setWatchConnected(0, false);
    const err = caught(() => dl.sendMessage(1, "/latest_energy", new Uint8Array([1])));
    expect(err).toBeInstanceOf(DataLayerError);
    expect((err as DataLayerError).code).toBe(DATA_LAYER_ERRORS.TARGET_NODE_NOT_CONNECTED);
    expect((err as DataLayerError).message).toContain("TARGET_NODE_NOT_CONNECTED");
    expect(dl.stats.messages).toBe(0);
  });

  it("a message to a connected watch is delivered at once", () => {
    const dl = new DataLayer();
    dl.sendMessage(7, "/latest_energy", new Uint8Array([1, 2, 3]));
    const [delivery] = dl.drain(7);
    expect(delivery).toMatchObject({ atMs: 7, kind: "message", path: "/latest_energy", bytes: 3 + 14 });
    expect(Array.from(delivery?.payload ?? [])).toEqual([1, 2, 3]);
  });

  it("data items wait while the watch is disconnected and arrive in one delivery on reconnect", () => {
    const dl = new DataLayer({ batchDelayMs: MIN });
    dl.setWatchConnected(0, false);
    expect(dl.watchConnected).toBe(false);
    dl.putDataItem(1_000, "/net_energy", energy(100), URGENT);
    dl.putDataItem(2_000, "/tile", { label: "PV" }, LAZY);
    expect(dl.nextDueMs()).toBeUndefined();
    expect(dl.drain(10 * MIN)).toEqual([]); // long past the batch delay: still waiting
    dl.setWatchConnected(10 * MIN, true);
    const delivered = dl.drain(10 * MIN);
    expect(delivered.map((d) => [d.path, d.atMs])).toEqual([
      ["/net_energy", 10 * MIN],
      ["/tile", 10 * MIN],
    ]);
    expect(dl.stats.wakeups).toBe(1);
  });

  it("a batch due before a disconnect is delivered before it", () => {
    const dl = new DataLayer({ batchDelayMs: MIN });
    dl.putDataItem(0, "/net_energy", energy(100), LAZY);
    dl.setWatchConnected(5 * MIN, false);
    expect(dl.drain(5 * MIN).map((d) => d.atMs)).toEqual([MIN]);
  });
});

describe("DataLayer: validation", () => {
  it("an item one byte over 100 KB fails with 4003 DATA_ITEM_TOO_LARGE", () => {
    const dl = new DataLayer();
    const overhead = encodeDataMap({ blob: "" }).length;
    const blob = "x".repeat(MAX_DATA_ITEM_BYTES - overhead + 1);
    const err = caught(() => dl.putDataItem(0, "/big", { blob }, URGENT));
    expect(err).toBeInstanceOf(DataLayerError);
    expect((err as DataLayerError).code).toBe(DATA_LAYER_ERRORS.DATA_ITEM_TOO_LARGE);
    expect((err as DataLayerError).message).toContain("DATA_ITEM_TOO_LARGE");
    expect(dl.drain(0)).toEqual([]);
  });

  it("an item of exactly 100 KB is accepted", () => {
    const dl = new DataLayer();
    const overhead = encodeDataMap({ blob: "" }).length;
    expect(dl.putDataItem(0, "/big", { blob: "x".repeat(MAX_DATA_ITEM_BYTES - overhead) }, URGENT)).toBe(true);
  });

  it("a path that does not start with / is rejected, naming the path", () => {
    const dl = new DataLayer();
    expect(() => dl.putDataItem(0, "net_energy", energy(1), URGENT)).toThrow(/"net_energy"/);
    expect(() => dl.sendMessage(0, "ping", new Uint8Array())).toThrow(RangeError);
  });

  it("time going backwards is refused", () => {
    const dl = new DataLayer();
    dl.putDataItem(10, "/a", { v: 1 }, URGENT);
    expect(() => dl.drain(9)).toThrow(RangeError);
  });
});

describe("DataLayer: wake-ups and bytes", () => {
  it("counts one wake-up per distinct delivery time and the bytes of map plus path", () => {
    const dl = new DataLayer({ batchDelayMs: MIN });
    const item = energy(100);
    const itemBytes = encodeDataMap(item).length + "/net_energy".length;
    dl.putDataItem(0, "/net_energy", item, URGENT);
    dl.sendMessage(0, "/ack", new Uint8Array(4)); // same instant: same wake-up
    dl.putDataItem(10_000, "/tile", { label: "PV" }, LAZY);
    dl.drain(2 * MIN);
    const tileBytes = encodeDataMap({ label: "PV" }).length + "/tile".length;
    expect(dl.stats).toEqual({
      wakeups: 2,
      bytes: itemBytes + (4 + "/ack".length) + tileBytes,
      dataItems: 2,
      messages: 1,
      unchangedPuts: 0,
    });
  });

  it("a batch whose every item is already on the watch costs no wake-up", () => {
    const dl = new DataLayer({ batchDelayMs: MIN });
    dl.putDataItem(0, "/a", { v: 1 }, URGENT);
    dl.putDataItem(1_000, "/a", { v: 2 }, LAZY);
    dl.putDataItem(2_000, "/a", { v: 1 }, LAZY);
    dl.drain(5 * MIN);
    expect(dl.stats.wakeups).toBe(1);
  });
});
