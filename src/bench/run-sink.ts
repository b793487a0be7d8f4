import type { ReadingSink } from "../wire/reading-sink.js";

/** Where a bench run publishes: a sink of its own, closed when the run ends. */
export interface RunSink extends ReadingSink {
  close(): void;
}

/**
 * Opens the sink of one run. app/ passes the JetStream publisher on the bench's connection
 * (the simulator's own, so the figures are those of `ecwatch sim`); bench never builds it (issue 16).
 */
export type OpenRunSink = () => RunSink;
