import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ConnectionSecurity } from "../config/connection-settings.js";
import { JetStreamPublisher, type PublishReport } from "../nats/jetstream-publisher.js";
import { type Bus, openBus } from "../nats/bus.js";
import { clusterReplicas, connectNats } from "../nats/connect.js";
import { ensureTopology, type RetentionOptions } from "../nats/topology.js";
import { foreignConsumers, wipeTopology } from "../nats/inspect.js";
import type { ForeignConsumer } from "../wire/foreign-consumers.js";
import { RedisCache } from "../redis/redis-cache.js";
import { MqttSink } from "../sim/mqtt-sink.js";
import { redactUrl } from "../url.js";
import type { ReadingSink } from "../wire/reading-sink.js";

/**
 * The adapters of every command, opened from resolved settings (config/): NATS connections,
 * the Redis cache, the JetStream publisher and the MQTT sink. Commands and services get them
 * from here and never connect themselves (issue 16).
 */

/** A service's own NATS and Redis connections, with the stream, consumer and buckets in place. */
export interface Connections {
  readonly bus: Bus;
  readonly cache: RedisCache;
  /** What ensureTopology changed (created or updated resources). */
  readonly changes: readonly string[];
  /** The reading streams' consumers that are not ecwatch's, as found before ensureTopology (the aggregator's only; see foreignConsumers). */
  readonly foreignConsumers: readonly ForeignConsumer[];
  close(): Promise<void>;
}

/** Opens both connections and runs `start` on them; closes them again if anything fails. */
export async function withConnections<T>(
  natsUrl: string,
  redisUrl: string,
  name: string,
  /** Given by the aggregator, which owns the stream's settings (see ensureTopology). */
  retention: RetentionOptions | undefined,
  /** Credentials and TLS besides the URLs' own (issue 10). */
  security: ConnectionSecurity | undefined,
  start: (connections: Connections) => Promise<T>,
): Promise<T> {
  const bus = await openBus(natsUrl, name, security?.nats);
  let cache: RedisCache | undefined;
  try {
    cache = await RedisCache.connect(redisUrl, security?.redis);
    const opened = cache;
    // Looked at first: ensureTopology removes the prototype's consumer when the aggregator adopts EC_STREAM.
    const foreign = retention ? await foreignConsumers(bus.jsm) : [];
    const changes = await ensureTopology(bus.jsm, retention, clusterReplicas(bus.nc));
    return await start({ bus, cache: opened, changes, foreignConsumers: foreign, close: async () => void (await Promise.all([bus.close(), opened.close()])) });
  } catch (err) {
    await Promise.all([bus.close().catch(() => undefined), cache?.close()]);
    throw err;
  }
}

/** Deletes the reading streams (EC_STREAM and its partitions), EC_DLQ, both KV buckets and every cached aggregate (`reset`, `up --fresh`). */
export async function wipeEverything(natsUrl: string, redisUrl: string, security?: ConnectionSecurity): Promise<{ cacheKeys: number }> {
  const nc = await connectNats(natsUrl, "ecwatch-reset", security?.nats);
  try {
    await wipeTopology(await jetstreamManager(nc));
  } finally {
    await nc.drain().catch(() => undefined);
  }
  const cache = await RedisCache.connect(redisUrl, security?.redis);
  try {
    return { cacheKeys: await cache.wipe() };
  } finally {
    await cache.close();
  }
}

/** A NATS connection of its own, named `name` in the server's connection list. */
export function openNats(natsUrl: string, name: string, security?: ConnectionSecurity): Promise<NatsConnection> {
  return connectNats(natsUrl, name, security?.nats);
}

/** Ensures the streams, consumers and buckets, with as many replicas as `nc`'s cluster allows; returns the manager. */
export async function ensureReadingTopology(nc: NatsConnection): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  await ensureTopology(jsm, undefined, clusterReplicas(nc));
  return jsm;
}

/** Where readings go, and how to tell what happened to them. */
export interface ReadingTransport {
  readonly sink: ReadingSink;
  /** Where they go, without credentials. */
  readonly target: string;
  report(): PublishReport | undefined;
  close(): Promise<void>;
}

/** The JetStream publisher on a connection of its own; with `ensure`, the stream and consumer are ensured first. */
export async function openJetStreamTransport(natsUrl: string, security: ConnectionSecurity | undefined, options: { readonly ensure: boolean }): Promise<ReadingTransport> {
  const nc = await openNats(natsUrl, "ecwatch-sim", security);
  if (options.ensure) {
    try {
      await ensureReadingTopology(nc);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }
  const sink = new JetStreamPublisher(nc);
  return { sink, target: redactUrl(natsUrl), report: () => sink.report(), close: async () => void (await nc.drain().catch(() => undefined)) };
}

/** The simulator's JetStream publisher on a connection already open (bench opens one per run). */
export function jetStreamPublisherOn(nc: NatsConnection): JetStreamPublisher {
  return new JetStreamPublisher(nc);
}

/** MQTT QoS 1, as a meter device publishes. */
export async function openMqttTransport(mqttUrl: string, clientId: string): Promise<ReadingTransport> {
  const sink = await MqttSink.connect(mqttUrl, clientId);
  return { sink, target: redactUrl(mqttUrl), report: () => undefined, close: () => sink.close() };
}
