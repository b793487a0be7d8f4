import { describe, expect, it } from "vitest";
import { ARCHIVE_LEASE_KEYS, Archiver, RETRY_DELAY_MS } from "../../src/archive/archiver.js";
import { PARTITIONS, meterReadingSubject } from "../../src/wire/names.js";
import { FakeArchiveSource, FakeSegmentStore, meterReading } from "../helpers/archive-fakes.js";
import { MemoryLeaseStore } from "../helpers/lease-fakes.js";

const P = 3;
const subject = (meterId: string, communityId = "c1"): string => meterReadingSubject(communityId, meterId);

/** A lone archiver (it takes every partition) on its own lease store. */
async function started(segments = new FakeSegmentStore(), source = new FakeArchiveSource(), maxBatch = 1_000) {
  const archiver = await Archiver.start({ source, segments, leases: new MemoryLeaseStore() }, { flushMs: 3_600_000, maxBatch, tag: () => "t" });
  return { archiver, source, segments };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the archiver", () => {
  it("writes one segment per community and UTC day, named for the partition and the stream sequences it holds", async () => {
    const { archiver, source, segments } = await started();
    source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T23:59:59Z", 1));
    source.deliver(P, 2, subject("m1"), meterReading("c1", "m1", "2026-06-22T00:00:00Z", 2));
    source.deliver(P, 3, subject("m9", "c2"), meterReading("c2", "m9", "2026-06-21T12:00:00Z", 7));
    source.deliver(P, 4, subject("m2"), meterReading("c1", "m2", "2026-06-21T10:00:00Z", 1));
    await archiver.flush();
    expect([...segments.files.keys()].sort()).toEqual([
      "community_id=c1/date=2026-06-21/p3-000000000001-000000000004-t.parquet",
      "community_id=c1/date=2026-06-22/p3-000000000002-000000000002-t.parquet",
      "community_id=c2/date=2026-06-21/p3-000000000003-000000000003-t.parquet",
    ]);
    expect(archiver.stats).toMatchObject({ archived: 4, segments: 3, flushes: 1 });
    await archiver.stop();
  });

  it("acknowledges a reading only once the segment holding it is written", async () => {
    const { archiver, source, segments } = await started();
    const msg = source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    segments.hold();
    const flushed = archiver.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(msg.outcomes).toEqual([]);
    segments.release();
    await flushed;
    expect(msg.outcomes).toEqual(["ack"]);
    await archiver.stop();
  });

  it("a reading delivered again after a crash between the write and the ack is acknowledged and not written twice", async () => {
    const segments = new FakeSegmentStore();
    const source = new FakeArchiveSource();
    // The segment is durable, then the process dies before its acks reach the server.
    source.dropAcks = true;
    const crashed = await started(segments, source);
    source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    source.deliver(P, 2, subject("m2"), meterReading("c1", "m2", "2026-06-21T10:00:00Z", 1));
    await crashed.archiver.flush();
    await crashed.archiver.stop();
    source.dropAcks = false;
    // A new archiver is delivered both again, and a new one.
    const restarted = await started(segments, source);
    const again = [1, 2].map((seq) => source.deliver(P, seq, subject(`m${seq}`), meterReading("c1", `m${seq}`, "2026-06-21T10:00:00Z", 1)));
    source.deliver(P, 3, subject("m3"), meterReading("c1", "m3", "2026-06-21T10:00:00Z", 1));
    await restarted.archiver.flush();
    expect(again.map((msg) => msg.outcomes)).toEqual([["ack"], ["ack"]]);
    expect(restarted.archiver.stats).toMatchObject({ alreadyStored: 2, archived: 1 });
    expect(segments.rows()).toEqual(["c1/m1/1", "c1/m2/1", "c1/m3/1"]);
    await restarted.archiver.stop();
  });

  it("a reading delivered again while its segment is being written (its ack wait ran out) is not written twice", async () => {
    const { archiver, source, segments } = await started();
    const first = source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    segments.hold();
    const flushed = archiver.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
    source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    segments.release();
    await flushed;
    await archiver.flush();
    expect(first.outcomes).toEqual(["ack"]);
    expect(segments.rows()).toEqual(["c1/m1/1"]);
    expect(archiver.stats).toMatchObject({ archived: 1 });
    await archiver.stop();
  });

  it("a failed write acknowledges nothing and hands its readings back with a delay; they are written when they come again", async () => {
    const { archiver, source, segments } = await started();
    segments.failNext = 1;
    const errors: unknown[] = [];
    const failing = await Archiver.start({ source, segments, leases: new MemoryLeaseStore() }, { flushMs: 3_600_000, tag: () => "t", onError: (err) => errors.push(err) });
    const msg = source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    await failing.flush();
    expect(msg.outcomes).toEqual([`nak ${RETRY_DELAY_MS}`]);
    expect(errors).toHaveLength(1);
    expect(segments.rows()).toEqual([]);
    const again = source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    await failing.flush();
    expect(again.outcomes).toEqual(["ack"]);
    expect(segments.rows()).toEqual(["c1/m1/1"]);
    await failing.stop();
    await archiver.stop();
  });

  it("a message that is no valid reading is acknowledged and not archived", async () => {
    const { archiver, source, segments } = await started();
    const msg = source.deliver(P, 1, subject("m1"), "{not json");
    const other = source.deliver(P, 2, subject("m1"), meterReading("c1", "m2", "2026-06-21T10:00:00Z", 1));
    await archiver.flush();
    expect(msg.outcomes).toEqual(["ack"]);
    expect(other.outcomes).toEqual(["ack"]);
    expect(archiver.stats).toMatchObject({ invalid: 2, archived: 0 });
    expect(segments.files.size).toBe(0);
    await archiver.stop();
  });

  it("flushes as soon as maxBatch readings wait, without waiting for the timer", async () => {
    const { archiver, source, segments } = await started(undefined, undefined, 3);
    for (let seq = 1; seq <= 3; seq += 1) source.deliver(P, seq, subject("m1"), meterReading("c1", "m1", `2026-06-21T10:00:0${seq}Z`, seq));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(segments.rows()).toEqual(["c1/m1/1", "c1/m1/2", "c1/m1/3"]);
    await archiver.stop();
  });

  it("counts maxBatch per partition: a partition flushes once it holds maxBatch readings, readings spread over partitions wait for the timer", async () => {
    const segments = new FakeSegmentStore();
    const source = new FakeArchiveSource();
    const archiver = await Archiver.start({ source, segments, leases: new MemoryLeaseStore() }, { flushMs: 3_600_000, maxBatch: 3, tag: () => "t" });
    for (const partition of [1, 2]) for (let seq = 1; seq <= 2; seq += 1) source.deliver(partition, seq, subject(`m${partition}`), meterReading("c1", `m${partition}`, `2026-06-21T10:00:0${seq}Z`, seq));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(segments.rows()).toEqual([]);
    source.deliver(2, 3, subject("m2"), meterReading("c1", "m2", "2026-06-21T10:00:03Z", 3));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(segments.rows()).toHaveLength(5);
    await archiver.stop();
  });

  it("stop writes what waits", async () => {
    const { archiver, source, segments } = await started();
    const msg = source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    await archiver.stop();
    expect(msg.outcomes).toEqual(["ack"]);
    expect(segments.rows()).toEqual(["c1/m1/1"]);
  });
});

describe("archivers sharing the partitions", () => {
  it("each holds some of them through its own lease, none both, and writes only its own partitions' segments, named with its id", async () => {
    const source = new FakeArchiveSource();
    const segments = new FakeSegmentStore();
    const leases = new MemoryLeaseStore();
    const a = await Archiver.start({ source, segments, leases }, { id: "aaaa", flushMs: 3_600_000 });
    const b = await Archiver.start({ source, segments, leases }, { id: "bbbb", flushMs: 3_600_000 });
    // a gives up its second half at its next rebalance; b takes it once a has let it go.
    await until(() => a.partitions.length === PARTITIONS / 2 && b.partitions.length === PARTITIONS / 2, "the partitions to be shared");
    expect(a.partitions).toEqual([0, 2, 4, 6]);
    expect(b.partitions).toEqual([1, 3, 5, 7]);
    const holders = Array.from({ length: PARTITIONS }, (_, p) => JSON.parse(leases.entries.get(ARCHIVE_LEASE_KEYS.unitKey(p))!.value).id as string);
    expect(holders).toEqual(["aaaa", "bbbb", "aaaa", "bbbb", "aaaa", "bbbb", "aaaa", "bbbb"]);
    for (let p = 0; p < PARTITIONS; p += 1) source.deliver(p, 1, subject(`m${p}`), meterReading("c1", `m${p}`, "2026-06-21T10:00:00Z", 1));
    await Promise.all([a.flush(), b.flush()]);
    const names = [...segments.files.keys()].map((path) => path.split("/").at(-1)!);
    expect(names.filter((name) => name.includes("-aaaa-")).map((name) => Number(name.slice(1, name.indexOf("-"))))).toEqual([0, 2, 4, 6]);
    expect(names.filter((name) => name.includes("-bbbb-")).map((name) => Number(name.slice(1, name.indexOf("-"))))).toEqual([1, 3, 5, 7]);
    await b.stop();
    // b gave its leases up when it stopped: a takes its partitions at the next rebalance, without waiting for them to lapse.
    await until(() => a.partitions.length === PARTITIONS, "a to take b's partitions");
    expect([...leases.entries.keys()].some((key) => key.includes("bbbb"))).toBe(false);
    await a.stop();
    expect(leases.entries.size).toBe(0);
  });

  it("a partition taken over is checked against the segments its former holder wrote: a reading delivered again is acknowledged, not written twice", async () => {
    const source = new FakeArchiveSource();
    const segments = new FakeSegmentStore();
    const leases = new MemoryLeaseStore();
    const a = await Archiver.start({ source, segments, leases }, { id: "aaaa", flushMs: 3_600_000 });
    const b = await Archiver.start({ source, segments, leases }, { id: "bbbb", flushMs: 3_600_000 });
    await until(() => b.partitions.includes(P), "b to hold the partition");
    // b writes a segment, and its acks never reach the server.
    source.dropAcks = true;
    source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    await b.flush();
    await b.stop();
    source.dropAcks = false;
    await until(() => a.partitions.includes(P), "a to take the partition over");
    const again = source.deliver(P, 1, subject("m1"), meterReading("c1", "m1", "2026-06-21T10:00:00Z", 1));
    source.deliver(P, 2, subject("m2"), meterReading("c1", "m2", "2026-06-21T10:00:00Z", 1));
    await a.flush();
    expect(again.outcomes).toEqual(["ack"]);
    expect(a.stats).toMatchObject({ alreadyStored: 1, archived: 1 });
    expect(segments.rows()).toEqual(["c1/m1/1", "c1/m2/1"]);
    await a.stop();
  });

  it("takes over the partitions of an archiver that died on another host once its leases lapse", async () => {
    const leases = new MemoryLeaseStore();
    // An archiver on another host holds the odd partitions; it stopped renewing 1 s ago, its leases lapse in 300 ms.
    const dead = JSON.stringify({ id: "dead", pid: 1, host: "elsewhere", expiresAt: Date.now() + 300 });
    await leases.create(`${ARCHIVE_LEASE_KEYS.memberPrefix}dead`, dead);
    for (const p of [1, 3, 5, 7]) await leases.create(ARCHIVE_LEASE_KEYS.unitKey(p), dead);
    const archiver = await Archiver.start({ source: new FakeArchiveSource(), segments: new FakeSegmentStore(), leases }, { id: "aaaa", flushMs: 3_600_000 });
    // While the dead one's member key has not lapsed, it counts: this one holds its half, the other half stays held.
    expect(archiver.partitions).toEqual([0, 2, 4, 6]);
    await until(() => archiver.partitions.length === PARTITIONS, "the lapsed leases to be taken over");
    for (const p of [1, 3, 5, 7]) expect(JSON.parse(leases.entries.get(ARCHIVE_LEASE_KEYS.unitKey(p))!.value).id).toBe(archiver.id);
    await archiver.stop();
  });
});
