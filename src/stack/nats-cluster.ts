import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { clusterReplicas, connectNats } from "../nats/connect.js";
import { EcwatchError, errorMessage } from "../errors.js";
import { type LocalServer, type NatsServerOptions, startNats } from "./local-server.js";
import { freePort, preferredOrFreePort } from "./ports.js";

/** A JetStream cluster of nats-servers on loopback that this process started (issue 9). */
export interface NatsCluster {
  /** The client URLs of all nodes, comma-separated (as --nats and NATS_URL take them). */
  readonly url: string;
  /** The MQTT listener of the first node, when asked for one. */
  readonly mqttUrl?: string;
  /** The nodes, in order (restartNode replaces one). */
  readonly nodes: readonly LocalServer[];
  /** Starts node `index` again, on its ports and data dir, after it was stopped or killed. */
  restartNode(index: number): Promise<LocalServer>;
  /** Stops every node. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Each node keeps its data and log in `<dataDir>/node-<n>`. */
  readonly dataDir: string;
  /** Number of nodes. */
  readonly size: number;
  /** Client port of the first node when free, the next ports for the others; free ports otherwise. Default: free ports. */
  readonly preferredPort?: number;
  /** Open an MQTT listener on the first node: on this port when free, another free port otherwise. */
  readonly mqttPreferredPort?: number;
  /** How long to wait for the cluster's JetStream (after a restart, every stream and consumer elects its leader). Default 60 s. */
  readonly readyTimeoutMs?: number;
}

export const CLUSTER_NAME = "ecwatch";
/** A stream created and deleted to learn that the cluster's JetStream places replicated streams. */
const PROBE_STREAM = "ECWATCH_CLUSTER_PROBE";
const PROBE_SUBJECT = "ecwatch.cluster.probe";

/** `count` loopback ports, distinct from each other and from `taken`: the preferred ones when free. */
async function distinctPorts(count: number, preferred: number | undefined, taken: Set<number>): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    let port = preferred === undefined ? await freePort() : await preferredOrFreePort(preferred + i);
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports.push(port);
  }
  return ports;
}

/**
 * Starts a `size`-node JetStream cluster on loopback: each node with its own stable name and
 * data dir, routes to all the others. Resolves once every node has its routes and the cluster
 * places a stream with as many replicas as ecwatch gives its own (a JetStream leader exists and
 * enough nodes joined it).
 */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  const taken = new Set<number>();
  const clientPorts = await distinctPorts(options.size, options.preferredPort, taken);
  const routePorts = await distinctPorts(options.size, undefined, taken);
  // Chosen once, like the others, so that a restart of the first node takes it again.
  const [mqttPort] = options.mqttPreferredPort === undefined ? [] : await distinctPorts(1, options.mqttPreferredPort, taken);
  const nodeOptions = clientPorts.map(
    (port, i): NatsServerOptions => ({
      dataDir: join(options.dataDir, `node-${i + 1}`),
      preferredPort: port,
      strictPort: true,
      serverName: `${CLUSTER_NAME}-${i + 1}`,
      cluster: { name: CLUSTER_NAME, port: routePorts[i]!, peerPorts: routePorts.filter((_, j) => j !== i) },
      ...(i === 0 && mqttPort !== undefined && { mqttPreferredPort: mqttPort }),
    }),
  );
  const started = await Promise.allSettled(nodeOptions.map((node) => startNats(node)));
  const nodes = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const stop = async (): Promise<void> => void (await Promise.all(nodes.map((node) => node.stop())));
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const url = nodes.map((node) => node.url).join(",");
  try {
    await waitForJetStream(url, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    ...(nodes[0]!.mqttUrl && { mqttUrl: nodes[0]!.mqttUrl }),
    get nodes() {
      return [...nodes];
    },
    restartNode: async (index) => {
      const node = nodes[index];
      if (!node) throw new RangeError(`no node ${index} in a cluster of ${nodes.length}`);
      // A no-op for a killed node, once it is gone: its ports are free only then.
      await node.stop();
      nodes[index] = await startNats(nodeOptions[index]!);
      return nodes[index];
    },
    stop,
  };
}

/** Whether every stream and consumer has a leader: after a restart, each group elects its own, one by one. */
async function everyGroupLed(jsm: JetStreamManager): Promise<boolean> {
  for await (const name of jsm.streams.names()) {
    const stream = await jsm.streams.info(name);
    if (!stream.cluster?.leader) return false;
    let led = 0;
    for await (const consumer of jsm.consumers.list(name)) if (consumer.cluster?.leader) led += 1;
    if (led < stream.state.consumer_count) return false;
  }
  return true;
}

/**
 * Polls until the cluster creates (and deletes) a stream of the replicas ecwatch gives its own,
 * and every existing stream and consumer has a leader (until then, requests to them time out),
 * or fails after `timeoutMs`.
 */
async function waitForJetStream(url: string, timeoutMs: number): Promise<void> {
  // A readiness check of the processes stack/ starts, like waiting for a port: part of
  // starting the cluster, not a use of the bus, so it connects here rather than through
  // app/ (issue 16). The connection lives only until the cluster has formed.
  const nc = await connectNats(url, "ecwatch-cluster-probe");
  // Every node lists the whole cluster by now (startNats waits for its routes).
  const replicas = clusterReplicas(nc);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2_000 });
    while (Date.now() < deadline) {
      try {
        await jsm.streams.add({ name: PROBE_STREAM, subjects: [PROBE_SUBJECT], num_replicas: replicas, storage: StorageType.Memory });
        await jsm.streams.delete(PROBE_STREAM);
        if (await everyGroupLed(jsm)) return;
        lastError = new Error("a stream or consumer has no leader yet");
      } catch (err) {
        lastError = err;
      }
      await sleep(250);
    }
  } finally {
    await nc.close();
  }
  throw new EcwatchError("SERVER_START_FAILED", `The nats-server cluster at ${url} offered no JetStream within ${timeoutMs} ms (${errorMessage(lastError)}).`, {
    hint: "See the nodes' logs (nats.log in each node's data dir).",
  });
}
