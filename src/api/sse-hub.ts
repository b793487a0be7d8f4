import { type AggregatePosition, aggregateFromJson, supersedes } from "../domain/aggregate.js";
import type { ChangeFeed, ChangeSubscription } from "./ports.js";
import { formatEvent, type SseClient } from "./sse.js";

interface Topic {
  readonly subscription: ChangeSubscription;
  readonly clients: Set<SseClient>;
  /** The newest aggregate fanned out: only one that supersedes it goes to the clients. */
  newest: AggregatePosition | undefined;
}

/**
 * Fans the change feed out to SSE clients: one subscription per community, shared
 * by all of its clients, opened with the first and closed with the last. Versions only go
 * forward: an aggregate that does not supersede the newest one (a late message, a slow or stale
 * aggregator) is dropped; a reset is followed because it brings a higher epoch (issue 18).
 */
export class SseHub {
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly feed: ChangeFeed) {}

  /**
   * Adds a client and resolves once the subscription is live at the server, so a current
   * value read after this cannot miss a change. The client is in the set at once, so a
   * `leave` during the wait removes it.
   */
  async join(communityId: string, client: SseClient): Promise<void> {
    let topic = this.topics.get(communityId);
    if (!topic) {
      const clients = new Set<SseClient>();
      const created: Topic = {
        clients,
        newest: undefined,
        subscription: this.feed.subscribe(communityId, (json) => {
          const aggregate = aggregateFromJson(json);
          if (!aggregate || !supersedes(aggregate, created.newest)) return;
          created.newest = aggregate;
          // One event text for all of the community's clients.
          const text = formatEvent(aggregate, json);
          for (const c of clients) c.offer(aggregate, text);
        }),
      };
      topic = created;
      this.topics.set(communityId, topic);
    }
    topic.clients.add(client);
    await topic.subscription.ready;
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
