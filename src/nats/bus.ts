import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { EcwatchError, errorMessage } from "../errors.js";
import { redactUrl } from "../url.js";
import { KV_BUCKETS } from "../wire/names.js";
import { clusterReplicas, connectNats } from "./connect.js";
import type { NatsSecurity } from "./nats-auth.js";
import { retryTimedOut } from "./topology.js";

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly latest: KV;
  readonly state: KV;
  /** Energy per community and UTC day (ENERGY_BUCKET). */
  readonly energy: KV;
  close(): Promise<void>;
}

/** Connects and opens the JetStream contexts and KV buckets (creating them when missing). */
export async function openBus(url: string, name: string, security: NatsSecurity = {}): Promise<Bus> {
  const nc = await connectNats(url, name, security);
  try {
    const jsm = await jetstreamManager(nc).catch((err: unknown) => {
      throw new EcwatchError("JETSTREAM_UNAVAILABLE", `NATS at ${redactUrl(url)} does not offer JetStream.`, {
        hint: "Start nats-server with -js (ecwatch up does), or run `ecwatch doctor`.",
        cause: err,
      });
    });
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const replicas = clusterReplicas(nc);
    const [latest, state, energy] = await Promise.all(KV_BUCKETS.map((bucket) => retryTimedOut(() => kvm.create(bucket, { history: 1, replicas })))).catch(
      (err: unknown) => {
        throw new EcwatchError("KV_UNAVAILABLE", `Cannot open the KV buckets ${KV_BUCKETS.join(", ")}: ${errorMessage(err)}.`, {
          hint: "Check the JetStream limits of the account (`ecwatch doctor`).",
          cause: err,
        });
      },
    );
    return { nc, js, jsm, latest: latest!, state: state!, energy: energy!, close: () => nc.drain() };
  } catch (err) {
    await nc.close();
    throw err;
  }
}
