import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { changeFeedSubject } from "../bus/names.js";
import { aggregateFromJson } from "../domain/aggregate.js";
import type { SseClient } from "./sse.js";

/**
 * Fans the change feed out to SSE clients: one NATS subscription per community, shared
 * by all of its clients, opened with the first and closed with the last.
 */
export class SseHub {
  private readonly topics = new Map<string, { subscription: Subscription; clients: Set<SseClient> }>();

  constructor(private readonly nc: NatsConnection) {}

  /** Adds a client; the subscription exists before this returns, so no change is missed. */
  async join(communityId: string, client: SseClient): Promise<void> {
    let topic = this.topics.get(communityId);
    if (!topic) {
      const clients = new Set<SseClient>();
      const subscription = this.nc.subscribe(changeFeedSubject(communityId), {
        callback: (err, msg) => {
          if (err) return;
          const json = msg.string();
          const aggregate = aggregateFromJson(json);
          if (!aggregate) return;
          for (const c of clients) c.offer(aggregate, json);
        },
      });
      topic = { subscription, clients };
      this.topics.set(communityId, topic);
      // The server must know the interest before the caller reads the current value.
      await this.nc.flush();
    }
    topic.clients.add(client);
  }

  leave(communityId: string, client: SseClient): void {
    const topic = this.topics.get(communityId);
    if (!topic) return;
    topic.clients.delete(client);
    if (topic.clients.size === 0) {
      topic.subscription.unsubscribe();
      this.topics.delete(communityId);
    }
  }

  clientCount(): number {
    let count = 0;
    for (const topic of this.topics.values()) count += topic.clients.size;
    return count;
  }

  forEachClient(visit: (client: SseClient) => void): void {
    for (const topic of this.topics.values()) topic.clients.forEach(visit);
  }
}
