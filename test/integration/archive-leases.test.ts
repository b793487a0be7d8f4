/**
 * Several archivers on one stream (issue 22): they share the 8 partitions through leases of
 * their own (`ec_archive_state`), each writing only its own segments, and the union of their
 * segments holds every valid reading exactly once — also when one of them is killed (kill -9)
 * mid-run and the other takes its partitions over.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ARCHIVE_LEASE_KEYS } from "../../src/archive/archiver.js";
import { type ArchiveService, startArchiving } from "../../src/app/archive.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { parseHolder } from "../../src/leases/lease.js";
import { ARCHIVE_STATE_BUCKET, PARTITIONS } from "../../src/wire/names.js";
import { partitionLeaseKey } from "../../src/aggregator/lease.js";
import { HOUR, archived, archivedRows, queryArchive, simulate, validReadingsOfStreams } from "../helpers/archive-run.js";
import { CliProcess } from "../helpers/cli.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

const START = Date.UTC(2026, 5, 21, 6);
/** community1…community8 fall into all 8 partitions. */
const RUN = { communities: 8, meters: 4, hours: 3, startMs: START };
const ALL = Array.from({ length: PARTITIONS }, (_, p) => p);

let stack: TestStack;
let bus: Bus;
let dir: string;

beforeEach(async () => {
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-archive-leases");
  dir = mkdtempSync(join(tmpdir(), "ecwatch-archive-leases-"));
});

afterEach(async () => {
  await bus?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Who holds each partition's archive lease, by partition (read from the bucket itself). */
async function leaseHolders(): Promise<Array<string | undefined>> {
  const kv = await new Kvm(bus.js).open(ARCHIVE_STATE_BUCKET);
  return Promise.all(
    ALL.map(async (p) => {
      const entry = await kv.get(ARCHIVE_LEASE_KEYS.unitKey(p));
      return entry?.operation === "PUT" ? parseHolder(entry.string())?.id : undefined;
    }),
  );
}

/** Per segment file: its partition (from its name), the archiver that wrote it (its tag), and its readings' stream sequences. */
async function segmentRows(): Promise<Array<{ partition: number; archiver: string; seq: number }>> {
  const rows = await queryArchive(
    dir,
    `SELECT regexp_extract(filename, '/p([0-9]+)-[0-9]+-[0-9]+-([0-9a-z]+)-[0-9a-z]+\\.parquet$', 1) AS partition,
            regexp_extract(filename, '/p([0-9]+)-[0-9]+-[0-9]+-([0-9a-z]+)-[0-9a-z]+\\.parquet$', 2) AS archiver,
            stream_seq AS seq
     FROM read_parquet('${join(dir, "*", "*", "*.parquet")}', filename = true, hive_partitioning = true)`,
  );
  return rows.map((row) => ({ partition: Number(row.partition), archiver: String(row.archiver), seq: Number(row.seq) }));
}

/** The union of the segments holds every valid reading once: no loss, and no stream sequence twice in a partition. */
async function expectExactUnion(): Promise<number> {
  const expected = await validReadingsOfStreams(bus);
  expect(await archivedRows(dir)).toEqual(expected);
  const rows = await segmentRows();
  const seqs = rows.map(({ partition, seq }) => `${partition}/${seq}`);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(new Set(rows.map(({ partition }) => partition))).toEqual(new Set(ALL));
  return expected.length;
}

describe("two archivers on one stream", () => {
  it("share the 8 partitions, each holding some and none both, and their segments together hold every valid reading once", { timeout: 180_000 }, async () => {
    const services: ArchiveService[] = [];
    try {
      for (let i = 0; i < 2; i += 1) services.push(await startArchiving(stack.natsUrl, dir, { flushMs: 300, onError: (err) => console.error("archiver", err) }));
      const [a, b] = services.map((service) => service.archiver);
      await eventually(async () => (a!.partitions.length === PARTITIONS / 2 && b!.partitions.length === PARTITIONS / 2 ? true : undefined), 20_000, "the partitions to be shared");
      expect([...a!.partitions, ...b!.partitions].sort()).toEqual(ALL);
      const holders = await leaseHolders();
      for (const p of ALL) expect(holders[p]).toBe(a!.partitions.includes(p) ? a!.id : b!.id);
      // Their leases are their own: the aggregators' keys live in another bucket.
      expect(await bus.state.get(partitionLeaseKey(0))).toBeNull();

      await simulate(stack.natsUrl, { ...RUN, speed: (RUN.hours * HOUR) / 8_000 });
      await archived(bus, 60_000);
      expect(a!.stats.archived).toBeGreaterThan(0);
      expect(b!.stats.archived).toBeGreaterThan(0);
      // Each wrote the segments of its own partitions only, named with its id.
      const byArchiver = new Map<string, Set<number>>();
      for (const { partition, archiver } of await segmentRows()) byArchiver.set(archiver, (byArchiver.get(archiver) ?? new Set()).add(partition));
      expect([...byArchiver.get(a!.id)!].sort()).toEqual(a!.partitions);
      expect([...byArchiver.get(b!.id)!].sort()).toEqual(b!.partitions);
    } finally {
      await Promise.all(services.map((service) => service.stop()));
    }
    const readings = await expectExactUnion();
    console.log(`${readings} readings archived exactly once by two archivers (${services.map((s) => `${s.archiver.id}: ${s.archiver.stats.archived}`).join(", ")})`);
  });

  it("when one is killed (kill -9) mid-run, the other takes its partitions over and the union stays exact", { timeout: 240_000 }, async () => {
    const survivor = await startArchiving(stack.natsUrl, dir, { flushMs: 300, leaseTtlMs: 3_000, onError: (err) => console.error("archiver", err) });
    const victim = new CliProcess(["archive", "--nats", stack.natsUrl, "--dir", dir, "--flush-every", "300ms"]);
    try {
      const [, victimId] = (await victim.waitForStderr(/as archiver ([0-9a-f]+),/)) as RegExpMatchArray;
      // The survivor gives half up at its next rebalance, the victim takes it at its own.
      const victimPartitions = await eventually(
        async () => {
          const held = (await leaseHolders()).flatMap((id, p) => (id === victimId ? [p] : []));
          return held.length === PARTITIONS / 2 && survivor.archiver.partitions.length === PARTITIONS / 2 ? held : undefined;
        },
        20_000,
        "the partitions to be shared",
      );
      expect(victimPartitions.some((p) => survivor.archiver.partitions.includes(p))).toBe(false);

      const running = simulate(stack.natsUrl, { ...RUN, speed: (RUN.hours * HOUR) / 12_000 });
      // Mid-run: once the victim has written segments of its own.
      await eventually(async () => ((await segmentRows()).some(({ archiver }) => archiver === victimId) ? true : undefined), 60_000, "the victim's first segments");
      victim.kill("SIGKILL");
      await victim.exited;
      await eventually(async () => (survivor.archiver.partitions.length === PARTITIONS ? true : undefined), 30_000, "the survivor to take the victim's partitions");
      expect((await leaseHolders()).every((id) => id === survivor.archiver.id)).toBe(true);
      await running;
      // What the victim had not acknowledged comes again after the consumer's ack wait (30 s).
      await archived(bus, 120_000);
      const rows = await segmentRows();
      expect(rows.some(({ archiver, partition }) => archiver === survivor.archiver.id && victimPartitions.includes(partition))).toBe(true);
    } finally {
      victim.kill("SIGKILL");
      await survivor.stop();
    }
    const readings = await expectExactUnion();
    console.log(`${readings} readings archived exactly once; the second archiver killed (kill -9) mid-run, ${survivor.archiver.stats.alreadyStored} deliveries found already stored`);
  });
});
