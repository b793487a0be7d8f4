import mqtt, { type MqttClient } from "mqtt";
import { mqttTopicOf } from "../wire/names.js";
import { EcwatchError, errorMessage } from "../errors.js";
import { redactUrl } from "../url.js";
import type { OutgoingMessage, ReadingSink, SinkDone } from "../wire/reading-sink.js";

/**
 * Readings published as a meter device publishes them: MQTT QoS 1 on `ec/<community>/meter/<meter>`
 * with the same JSON, to nats-server's MQTT listener, which puts them on the reading subjects
 * of EC_STREAM. A reading counts once the server's PUBACK arrives; while the connection is
 * down, mqtt.js keeps unacknowledged messages and sends them again on reconnect.
 * MQTT has no de-duplication id: a message sent twice is stored twice, and the aggregator's
 * per-meter `seq` makes the second copy change nothing.
 */
export class MqttSink implements ReadingSink {
  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, clientId: string): Promise<MqttSink> {
    try {
      const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 500, connectTimeout: 5_000 });
      return new MqttSink(client);
    } catch (err) {
      throw new EcwatchError("MQTT_UNREACHABLE", `Cannot connect to MQTT at ${redactUrl(url)} (${errorMessage(err)}).`, {
        hint: "Start the stack with `ecwatch up --mqtt`, or pass --mqtt <url> of a broker that forwards to NATS.",
        cause: err,
      });
    }
  }

  publish<M extends OutgoingMessage>(message: M, done: SinkDone<M>): void {
    this.client.publish(mqttTopicOf(message.subject), message.payload, { qos: 1 }, (err) => done(message, err ?? undefined));
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
