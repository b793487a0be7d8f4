import { EventSource } from "eventsource";
import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import type { FollowStatus } from "../domain/follow-status.js";

export interface Follower {
  close(): void;
}

/** Delay before reconnect attempt `attempt` (1, 2, …): doubling from 500 ms up to 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Follows an SSE stream of aggregates at `url`, reconnecting with back-off and resuming with
 * Last-Event-ID. Status is reported as data; a 4xx other than 404/429 is final. `headers` go
 * with every request (e.g. Authorization).
 */
export function followStream(
  url: string,
  headers: Readonly<Record<string, string>>,
  onAggregate: (aggregate: Aggregate) => void,
  onStatus: (status: FollowStatus) => void,
): Follower {
  let lastEventId: string | undefined;
  let source: EventSource | undefined;
  let timer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;

  const open = (): void => {
    onStatus({ state: "connecting", url });
    const es = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, ...headers, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) } }),
    });
    source = es;
    es.onopen = () => {
      attempt = 0;
      onStatus({ state: "live" });
    };
    es.onmessage = (event) => {
      lastEventId = event.lastEventId || lastEventId;
      const aggregate = aggregateFromJson(event.data);
      if (aggregate) onAggregate(aggregate);
    };
    es.onerror = (event) => {
      es.close();
      if (closed) return;
      const code = (event as { code?: number }).code;
      const reason = (event as { message?: string }).message ?? (code ? `HTTP ${code}` : "connection lost");
      if (code !== undefined && code >= 400 && code < 500 && code !== 404 && code !== 429) {
        onStatus({ state: "failed", reason });
        return;
      }
      attempt += 1;
      const inMs = backoffMs(attempt);
      onStatus({ state: "reconnecting", inMs, reason });
      timer = setTimeout(open, inMs);
    };
  };
  open();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
