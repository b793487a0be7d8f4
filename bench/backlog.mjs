// A backlog of meter readings for the drain benchmarks (aggregator-drain, archive-ingest):
// published with core NATS before anything consumes them, so that only draining is timed.
import { readingsStored } from "../dist/nats/inspect.js";
import { meterReadingSubject } from "../dist/wire/names.js";

/** The data time of a backlog's first round of readings. */
export const BACKLOG_START_MS = 1.7e12;

/**
 * Publishes `readings` readings in rounds — every meter of every community once a round, the
 * communities interleaved, each round `stepMs` of data time after the one before — and resolves
 * once nats-server has stored them all (in the partition streams, EC_STREAM_P<n>).
 */
export async function fillBacklog(nc, jsm, { readings, communities, meters, stepMs }) {
  for (let i = 0; i < readings; i += 1) {
    const communityId = `community${(i % communities) + 1}`;
    const meterId = `m${Math.floor(i / communities) % meters}`;
    const seq = Math.floor(i / (communities * meters));
    const reading = { meterId, communityId, genW: i % 5_000, conW: 100, measuredAt: new Date(BACKLOG_START_MS + seq * stepMs).toISOString(), seq };
    nc.publish(meterReadingSubject(communityId, meterId), JSON.stringify(reading));
    if (i % 5_000 === 0) await nc.flush();
  }
  while ((await readingsStored(jsm)) < readings) await new Promise((r) => setTimeout(r, 100));
}
