import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DLQ_STREAM, LATEST_BUCKET, READING_STREAMS, STATE_BUCKET, dedupId, meterReadingSubject, partitionOf, partitionStream, partitionedSubject } from "../../src/wire/names.js";
import { clusterReplicas, connectNats } from "../../src/nats/connect.js";
import { ensureTopology } from "../../src/nats/topology.js";
import { openBus } from "../../src/nats/bus.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { startNats } from "../../src/stack/local-server.js";
import { type NatsCluster, startNatsCluster } from "../../src/stack/nats-cluster.js";
import { eventually } from "../helpers/stack.js";

/** A 3-node JetStream cluster on loopback (issue 9): R3 streams and buckets, and a node lost under load. */

let dir: string;
let cluster: NatsCluster;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-cluster-"));
  cluster = await startNatsCluster({ dataDir: dir, size: 3 });
}, 45_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a single nats-server", () => {
  it("partitions readings through the mappings of its config file, and gets one replica", async () => {
    const single = await startNats({ dataDir: join(dir, "single") });
    const nc = await connectNats(single.url, "test-single");
    try {
      expect(readFileSync(join(dir, "single", "nats.conf"), "utf8")).toMatch(/^mappings \{/);
      expect(clusterReplicas(nc)).toBe(1);
      const subject = meterReadingSubject("community1", "m1");
      const received = new Promise<string>((resolve) => nc.subscribe("ecp.>", { max: 1, callback: (_, msg) => resolve(msg.subject) }));
      await nc.flush();
      nc.publish(subject, "{}");
      expect(await received).toBe(partitionedSubject(subject));
    } finally {
      await nc.close();
      await single.stop();
    }
  });
});

/** The stream that stores the kill test's readings: that of community cluster1's partition. */
const TARGET = partitionStream(partitionOf("cluster1"));

describe("a 3-node cluster", () => {
  it("gives clients all three URLs; the streams and both KV buckets get 3 replicas", async () => {
    const urls = cluster.url.split(",");
    expect(urls).toHaveLength(3);
    expect(new Set(urls).size).toBe(3);
    const bus = await openBus(cluster.url, "test-cluster-topology");
    try {
      expect(clusterReplicas(bus.nc)).toBe(3);
      await ensureTopology(bus.jsm, undefined, clusterReplicas(bus.nc));
      for (const name of [...READING_STREAMS, DLQ_STREAM, `KV_${LATEST_BUCKET}`, `KV_${STATE_BUCKET}`]) {
        expect((await bus.jsm.streams.info(name)).config.num_replicas, name).toBe(3);
      }
    } finally {
      await bus.close();
    }
  });

  it("a node killed with SIGKILL and restarted: the publisher reconnects by itself and every reading is stored exactly once", async () => {
    const nc = await connectNats(cluster.url, "test-cluster-publisher");
    const jsm = await jetstreamManager(nc);
    let reconnects = 0;
    void (async () => {
      for await (const status of nc.status()) if (status.type === "reconnect") reconnects += 1;
    })();
    try {
      await ensureTopology(jsm, undefined, clusterReplicas(nc));
      // The worst node to lose: the publisher's server that also leads the stream of the readings' partition.
      const victim = cluster.nodes.findIndex((node) => node.port === Number(nc.info!.port));
      const victimName = nc.info!.server_name;
      await leadOn(jsm, nc, victimName);
      const before = (await jsm.streams.info(TARGET)).state;

      const sink = new JetStreamPublisher(nc);
      let published = 0;
      let failed = 0;
      const publishFor = async (ms: number): Promise<void> => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          for (let i = 0; i < 4; i += 1, published += 1) {
            const meter = `m${published % 20}`;
            sink.publish(
              { subject: meterReadingSubject("cluster1", meter), payload: JSON.stringify({ communityId: "cluster1", meterId: meter, seq: published }), dedupId: dedupId("cluster1", meter, published) },
              (_, err) => void (err && (failed += 1)),
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const started = Date.now();
      await publishFor(1_500);
      cluster.nodes[victim]!.kill();
      await Promise.all([publishFor(1_500), eventually(async () => (reconnects > 0 ? true : undefined), 20_000, "the publisher to reconnect")]);
      await cluster.restartNode(victim);
      await publishFor(1_500);
      const seconds = (Date.now() - started) / 1_000;
      await eventually(async () => (sink.inFlight === 0 ? true : undefined), 60_000, "every reading to be acknowledged or given up");

      const after = (await jsm.streams.info(TARGET)).state;
      const stored = after.messages - before.messages;
      const report = sink.report();
      console.log(
        `killed node ${victim + 1} of 3 (${victimName}: ${TARGET}'s leader, the publisher's server) under ${Math.round(published / seconds)} readings/s: ` +
          `published ${published}, stored ${stored}, ${published - stored} lost, ${report.duplicates} duplicate sends dropped, ${report.retried} resent, ${reconnects} reconnect(s)`,
      );
      expect(reconnects).toBeGreaterThan(0);
      expect(nc.info!.server_name).not.toBe(victimName);
      expect(failed).toBe(0);
      expect(report.acked).toBe(published);
      expect(stored).toBe(published);
      expect(after.last_seq - before.last_seq).toBe(published);
      // The restarted node catches up and is a current replica again.
      await eventually(async () => {
        const replicas = (await jsm.streams.info(TARGET)).cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((replica) => replica.current) ? true : undefined;
      }, 20_000, "the restarted node to catch up");
    } finally {
      await nc.close();
    }
  }, 100_000);
});

/** Steps the leader of TARGET down until `serverName` leads it (each step-down elects one of the other replicas). */
async function leadOn(jsm: JetStreamManager, nc: NatsConnection, serverName: string): Promise<void> {
  await eventually(
    async () => {
      const leader = (await jsm.streams.info(TARGET)).cluster?.leader;
      if (leader === serverName) return true;
      if (leader) await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${TARGET}`, undefined, { timeout: 5_000 });
      return undefined;
    },
    30_000,
    `${serverName} to lead ${TARGET}`,
  );
}
