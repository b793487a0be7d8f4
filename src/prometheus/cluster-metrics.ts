import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from "prom-client";

/**
 * One /metrics for all the workers of `serve --workers` (issue 21). A scrape lands on one
 * worker, which asks the primary; the primary collects the registry of every worker that
 * serves (one still starting has served nothing, and would not answer yet) and merges them
 * with prom-client's AggregatorRegistry.aggregate (counters and histograms summed, gauges as
 * each declares: summed, averaged or the first), and answers. The primary's own process is not
 * in it: it serves no request (the services it runs, `up`'s aggregator, are).
 *
 * prom-client's own clusterMetrics() asks every forked worker, and waits 5 s for one that has
 * not started yet (a replacement): hence this small protocol of our own around its aggregate().
 */

/** worker → primary: the whole cluster's metrics, please. */
const ASK = "ecwatch:metrics-ask";
/** primary → worker: the text. */
const ANSWER = "ecwatch:metrics-answer";
/** primary → worker: your registry, please. */
const COLLECT = "ecwatch:metrics-collect";
/** worker → primary: its registry as JSON. */
const COLLECTED = "ecwatch:metrics-collected";

type Message =
  | { readonly type: typeof ASK; readonly id: number }
  | { readonly type: typeof ANSWER; readonly id: number; readonly text?: string; readonly error?: string }
  | { readonly type: typeof COLLECT; readonly id: number }
  | { readonly type: typeof COLLECTED; readonly id: number; readonly metrics: MetricObjectWithValues<MetricValue<string>>[] };

/** How long one side waits for the other. */
const TIMEOUT_MS = 5_000;

/** Sends `message` and resolves with the first reply `match` accepts on `channel`, or rejects after TIMEOUT_MS. */
function request<T>(send: () => void, channel: NodeJS.EventEmitter, match: (message: Message | null) => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.off("message", onMessage);
      reject(new Error(`${what} did not answer within ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
    const onMessage = (message: Message | null): void => {
      const found = match(message);
      if (found === undefined) return;
      clearTimeout(timer);
      channel.off("message", onMessage);
      resolve(found);
    };
    channel.on("message", onMessage);
    send();
  });
}

let nextId = 0;

/**
 * In the primary: answers the workers' asks with the metrics of `members` (the workers serving
 * now) and `own` (services running in the primary: `up`'s aggregator). Returns the function that
 * stops answering.
 */
export function answerClusterMetrics(members: () => readonly Worker[], own: readonly Registry[] = []): () => void {
  const collect = async (): Promise<string> => {
    const id = nextId++;
    const registries = await Promise.all(
      members().map((worker) =>
        request(
          () => worker.send({ type: COLLECT, id } satisfies Message),
          worker,
          (message) => (message?.type === COLLECTED && message.id === id ? message.metrics : undefined),
          `API worker ${worker.process.pid}`,
        ),
      ),
    );
    const owned = await Promise.all(own.map((registry) => registry.getMetricsAsJSON()));
    return AggregatorRegistry.aggregate([...registries, ...owned]).metrics();
  };
  const onMessage = (worker: Worker, message: Message | null): void => {
    if (message?.type !== ASK) return;
    const reply = (answer: { text?: string; error?: string }): void => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer } satisfies Message);
    };
    collect().then(
      (text) => reply({ text }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  };
  cluster.on("message", onMessage);
  return () => cluster.off("message", onMessage);
}

/**
 * In a worker: hands `local` (its exposition) to the primary when asked, and returns what its
 * /metrics serves: every serving worker's metrics, through the primary.
 */
export function clusterMetricsSource(local: Registry): { readonly contentType: string; metrics(): Promise<string> } {
  process.on("message", (message: Message | null) => {
    if (message?.type !== COLLECT) return;
    void local.getMetricsAsJSON().then((metrics) => process.send?.({ type: COLLECTED, id: message.id, metrics } satisfies Message));
  });
  return {
    contentType: local.contentType,
    metrics: async () => {
      const id = nextId++;
      const answer = await request(
        () => process.send?.({ type: ASK, id } satisfies Message),
        process,
        (message) => (message?.type === ANSWER && message.id === id ? message : undefined),
        "the primary process",
      );
      if (answer.text === undefined) throw new Error(`collecting the workers' metrics failed: ${answer.error}`);
      return answer.text;
    },
  };
}
