import { EventSource } from "eventsource";
import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import { backoffMs } from "./format.js";

export type FollowStatus =
  | { readonly state: "connecting"; readonly url: string }
  | { readonly state: "live" }
  | { readonly state: "reconnecting"; readonly inMs: number; readonly reason: string }
  | { readonly state: "failed"; readonly reason: string };

export interface Follower {
  close(): void;
}

/**
 * Follows a community's SSE stream, reconnecting with back-off and resuming with
 * Last-Event-ID. Status is reported as data; a 4xx other than 404/429 is final.
 */
export function followCommunity(
  apiUrl: string,
  communityId: string,
  onAggregate: (aggregate: Aggregate) => void,
  onStatus: (status: FollowStatus) => void,
): Follower {
  const url = new URL(`communities/${encodeURIComponent(communityId)}/stream`, apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`).toString();
  let lastEventId: string | undefined;
  let source: EventSource | undefined;
  let timer: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;

  const open = (): void => {
    onStatus({ state: "connecting", url });
    const es = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) } }),
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
