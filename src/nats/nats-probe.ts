import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type ConsumerInfo, type JetStreamAccountStats, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "./connect.js";
import { foreignConsumers } from "./inspect.js";
import type { ForeignConsumer } from "../wire/foreign-consumers.js";
import type { NatsSecurity } from "./nats-auth.js";

/**
 * A look at a NATS server for `ecwatch doctor` (its port `BusProbe`, doctor/probes.ts): the
 * server's version and what JetStream holds, missing resources as undefined. It only reads.
 */
export class NatsProbe {
  private constructor(private readonly nc: NatsConnection) {}

  /** Rejects as connectNats does (an EcwatchError whose cause says why). */
  static async connect(url: string, name: string, security?: NatsSecurity): Promise<NatsProbe> {
    return new NatsProbe(await connectNats(url, name, security));
  }

  /** The version the server introduced itself with. */
  get serverVersion(): string | undefined {
    return this.nc.info?.version;
  }

  /** Rejects when the server has no JetStream. */
  async jetStream(): Promise<JetStreamProbe> {
    return new JetStreamProbe(await jetstreamManager(this.nc));
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** JetStream's account, streams and consumers, read through one manager. */
export class JetStreamProbe {
  constructor(private readonly jsm: JetStreamManager) {}

  account(): Promise<JetStreamAccountStats> {
    return this.jsm.getAccountInfo();
  }

  /** undefined when the stream does not exist. With `subjectsFilter`, `state.subjects` counts the messages per subject matching it. */
  async stream(name: string, subjectsFilter?: string): Promise<StreamInfo | undefined> {
    try {
      return await this.jsm.streams.info(name, subjectsFilter === undefined ? undefined : { subjects_filter: subjectsFilter });
    } catch (err) {
      if (isNotFound(err, JetStreamApiCodes.StreamNotFound)) return undefined;
      throw err;
    }
  }

  foreignConsumers(): Promise<ForeignConsumer[]> {
    return foreignConsumers(this.jsm);
  }

  /** undefined when the consumer does not exist, or its stream does not (a partition stream not created yet). */
  async consumer(stream: string, name: string): Promise<ConsumerInfo | undefined> {
    try {
      return await this.jsm.consumers.info(stream, name);
    } catch (err) {
      if (isNotFound(err, JetStreamApiCodes.ConsumerNotFound) || isNotFound(err, JetStreamApiCodes.StreamNotFound)) return undefined;
      throw err;
    }
  }
}
