import { EventSource } from "eventsource";
import { aggregateFromJson } from "../domain/aggregate.js";
import { backoffMs } from "./format.js";
/**
 * Follows a community's SSE stream, reconnecting with back-off and resuming with
 * Last-Event-ID. Status is reported as data; a 4xx other than 404/429 is final.
 */
export function followCommunity(apiUrl, communityId, onAggregate, onStatus) {
    const url = new URL(`communities/${encodeURIComponent(communityId)}/stream`, apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`).toString();
    let lastEventId;
    let source;
    let timer;
    let attempt = 0;
    let closed = false;
    const open = () => {
        onStatus({ state: "connecting", url });
        const es = new EventSource(url, {
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) } }),
        });
        source = es;
        es.onopen = () => {
            attempt = 0;
            onStatus({ state: "live" });
        };
        es.onmessage = (event) => {
            lastEventId = event.lastEventId || lastEventId;
            const aggregate = aggregateFromJson(event.data);
            if (aggregate)
                onAggregate(aggregate);
        };
        es.onerror = (event) => {
            es.close();
            if (closed)
                return;
            const code = event.code;
            const reason = event.message ?? (code ? `HTTP ${code}` : "connection lost");
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
