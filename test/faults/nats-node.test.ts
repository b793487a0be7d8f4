import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LATEST_BUCKET, STATE_BUCKET, partitionConsumer, partitionOf, partitionStream } from "../../src/wire/names.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { DEFAULT_RETENTION, ensureTopology } from "../../src/nats/topology.js";
import { clusterReplicas } from "../../src/nats/connect.js";
import { type LocalServer, startRedis } from "../../src/stack/local-server.js";
import { CLUSTER_NAME, type NatsCluster, startNatsCluster } from "../../src/stack/nats-cluster.js";
import { freePort } from "../../src/stack/ports.js";
import { type AggregationService, type ApiService, startAggregation, startApi } from "../../src/app/services.js";
import { STALE_AFTER_MS, count, dose, getCommunity, servedTruth, underLoad } from "../helpers/faults.js";
import { eventually } from "../helpers/stack.js";

/**
 * A node of a 3-node JetStream cluster killed (SIGKILL) and restarted under load: the node that
 * leads the most of what the load goes through (its partitions' streams and consumers, the KV
 * buckets), and that every client of the pipeline is connected to. The aggregator and the API run
 * in this process (startAggregation, startApi): the fault is nats-server's, the services run the
 * same code as `ecwatch aggregate` and `serve`, and this way they need no build and report their
 * errors to the test.
 */

const SHAPE = { communities: 4, meters: 100, rate: 2_000 };
const KILLS = dose(1, 3);
/** Load before each kill, and after each restart once the node has caught up. */
const BEFORE_KILL_MS = dose(3_000, 8_000);
const AFTER_RESTART_MS = dose(2_000, 5_000);

const COMMUNITIES = Array.from({ length: SHAPE.communities }, (_, i) => `community${i + 1}`);
/** The replicated groups the load goes through: each has a leader on one node. */
const GROUPS: ReadonlyArray<{ readonly name: string; readonly stream: string; readonly consumer?: string }> = [
  ...[...new Set(COMMUNITIES.map((id) => partitionOf(id)))].flatMap((p) => [
    { name: partitionStream(p), stream: partitionStream(p) },
    { name: partitionConsumer(p), stream: partitionStream(p), consumer: partitionConsumer(p) },
  ]),
  ...[LATEST_BUCKET, STATE_BUCKET].map((bucket) => ({ name: `KV_${bucket}`, stream: `KV_${bucket}` })),
];

let dir: string;
let cluster: NatsCluster | undefined;
let redis: LocalServer | undefined;
/** The test's own view of the cluster (leaders, replicas), on all nodes' URLs. */
let observer: Bus | undefined;
let aggregation: AggregationService | undefined;
let api: ApiService | undefined;
let firstVictim: number;
const aggregatorErrors: string[] = [];

type Group = (typeof GROUPS)[number];

/** Where a group's leader and replicas are. */
async function placement(group: Group): Promise<{ leader?: string; replicas?: ReadonlyArray<{ current: boolean }> } | undefined> {
  const info = group.consumer ? await observer!.jsm.consumers.info(group.stream, group.consumer) : await observer!.jsm.streams.info(group.stream);
  return info.cluster;
}

/** Server name → the groups it leads now. */
async function leaders(): Promise<Map<string, string[]>> {
  const led = new Map<string, string[]>();
  for (const group of GROUPS) {
    const leader = (await placement(group))?.leader;
    if (!leader) throw new Error(`${group.name} has no leader`);
    led.set(leader, [...(led.get(leader) ?? []), group.name]);
  }
  return led;
}

const serverName = (index: number): string => `${CLUSTER_NAME}-${index + 1}`;

/** Node `index` (default: the node leading the most groups) and the groups it leads. */
async function mostLeading(index?: number): Promise<{ index: number; groups: string[] }> {
  const led = await eventually(leaders, 30_000, "a leader for every group");
  if (index !== undefined) return { index, groups: led.get(serverName(index)) ?? [] };
  const [name, groups] = [...led].sort(([, a], [, b]) => b.length - a.length)[0]!;
  return { index: Number(name.slice(`${CLUSTER_NAME}-`.length)) - 1, groups };
}

/** Once every group has a leader and every other replica (the restarted node's among them) is current. */
async function caughtUp(): Promise<true | undefined> {
  for (const group of GROUPS) {
    const { leader, replicas = [] } = (await placement(group)) ?? {};
    if (!leader || replicas.length !== 2 || !replicas.every((replica) => replica.current)) return undefined;
  }
  return true;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-nats-node-"));
  cluster = await startNatsCluster({ dataDir: join(dir, "nats"), size: 3 });
  redis = await startRedis({ dataDir: join(dir, "redis"), preferredPort: await freePort() });
  // The buckets, streams and consumers first (as the aggregator will find them), to see where their leaders are.
  observer = await openBus(cluster.url, "test-nats-node-observer");
  await ensureTopology(observer.jsm, DEFAULT_RETENTION, clusterReplicas(observer.nc));
  firstVictim = (await mostLeading()).index;
  // Every client gets only that node's URL and learns the others from it (INFO connect_urls):
  // all of them are on the node that is killed first, and must move by themselves.
  const seed = cluster.nodes[firstVictim]!.url;
  aggregation = await startAggregation(seed, redis.url, { staleAfterMs: STALE_AFTER_MS, onError: (err) => void aggregatorErrors.push(String(err)) });
  api = await startApi(seed, redis.url, "127.0.0.1", 0);
}, 90_000);

afterAll(async () => {
  await api?.stop().catch(() => undefined);
  await aggregation?.stop().catch(() => undefined);
  await observer?.close().catch(() => undefined);
  await cluster?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it(`a NATS node killed ${KILLS}× (SIGKILL) and restarted under ${count(SHAPE.rate)} readings/s: clients reconnect by themselves, nothing is lost, the totals are exact`, { timeout: dose(100_000, 300_000) }, async () => {
  const apiUrl = api!.url;
  const seed = cluster!.nodes[firstVictim]!.url;
  const kills: string[] = [];
  const movedMs: number[] = [];
  const { result } = await underLoad(seed, SHAPE, async () => {
    await eventually(async () => ((await Promise.all(COMMUNITIES.map((id) => getCommunity(apiUrl, id)))).every((s) => s.status === 200) ? true : undefined), 30_000, "every community served");
    for (let kill = 1; kill <= KILLS; kill += 1) {
      await sleep(BEFORE_KILL_MS);
      // First the clients' node; later ones, the node that leads the most then.
      const victim = await mostLeading(kill === 1 ? firstVictim : undefined);
      kills.push(`node ${victim.index + 1} of 3 (leader of ${victim.groups.join(", ")}${kill === 1 ? "; every client's server" : ""})`);

      const killedAt = Date.now();
      cluster!.nodes[victim.index]!.kill();
      // Moved: the API's own connection answers, and every community is served with a reading
      // measured after the kill (data time runs behind the wall clock at speed 1), so the
      // publisher, the aggregator and the API carried on through the other nodes. A consumer whose
      // leader died is pulled from again within ~10–25 s (PULL_EXPIRES_MS in partition-worker.ts).
      await eventually(
        async () => {
          const health = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(3_000) });
          if (health.status !== 200) return undefined;
          const served = await Promise.all(COMMUNITIES.map((id) => getCommunity(apiUrl, id)));
          return served.every((s) => s.aggregate !== undefined && Date.parse(s.aggregate.measuredAt) > killedAt) ? true : undefined;
        },
        45_000,
        "the clients to move to the other nodes",
      );
      movedMs.push(Date.now() - killedAt);

      await cluster!.restartNode(victim.index);
      await eventually(caughtUp, 30_000, `node ${victim.index + 1} to catch up after its restart`);
      await sleep(AFTER_RESTART_MS);
    }
  });

  expect(result.acked).toBe(result.sent);
  // What the aggregator had received but not acknowledged comes back after the consumers' ack wait (10 s).
  const served = await servedTruth(apiUrl, result.truth, 60_000);
  expect(served.size).toBe(SHAPE.communities);
  console.log(
    `killed nats-server ${kills.join(", then ")} under ${count(SHAPE.rate)} readings/s (${SHAPE.communities} communities × ${SHAPE.meters} meters): ` +
      `${count(result.acked)} readings, ${result.sent - result.acked} lost, clients reconnected and aggregating again within ${(Math.max(...movedMs) / 1000).toFixed(1)} s, ` +
      `totals exact${aggregatorErrors.length ? ` (the aggregator retried through ${count(aggregatorErrors.length)} error${aggregatorErrors.length === 1 ? "" : "s"})` : ""}`,
  );
});
