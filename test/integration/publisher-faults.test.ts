import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { ensureTopology } from "../../src/nats/topology.js";
import { READING_STREAMS } from "../../src/wire/names.js";
import { NO_FAULTS } from "../../src/sim/faults.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import type { OutgoingMessage, ReadingSink, SinkDone } from "../../src/wire/reading-sink.js";
import { planSimulation } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { type LocalServer, startNats } from "../../src/stack/local-server.js";
import { isPortFree } from "../../src/stack/ports.js";

const METERS = 2_000;
const READINGS = 20_000;
/** Data time per wall-clock time: 2,000 meters every second of data time → 5,000 readings/s. */
const SPEED = 2.5;
/** The kill strikes as this reading goes out: mid-burst, with readings stored whose acks are on the way and readings not stored yet. */
const KILL_AT = 7_000;
const DOWN_MS = 2_000;

/**
 * A free port below Linux's ephemeral range (32768–60999), where neither freePort() of the other
 * test files nor outgoing connections land while this server is down.
 */
async function portBelowEphemeralRange(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await isPortFree(port)) return port;
  }
}

/** Passes readings on to a sink, telling `onSend` the count as each goes out. */
class Tap implements ReadingSink {
  private sent = 0;

  constructor(
    private readonly sink: ReadingSink,
    private readonly onSend: (count: number) => void,
  ) {}

  publish<M extends OutgoingMessage>(message: M, done: SinkDone<M>): void {
    this.sink.publish(message, done);
    this.onSend(++this.sent);
  }
}

describe("the JetStream publisher when nats-server dies (issue 7)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-publisher-"));
  let nats: LocalServer | undefined;

  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores every reading exactly once through a SIGKILL and a restart, and fails none", async () => {
    // A fixed store dir and port: the restarted server has the stream and its duplicate window, and the client finds it.
    const dataDir = join(dir, "nats");
    nats = await startNats({ dataDir, preferredPort: await portBelowEphemeralRange() });
    const { port } = nats;
    const nc = await connectNats(nats.url, "test-publisher-faults");
    const jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    // The longest a retry may come after the first send must fit in the stream's duplicate window.
    for (const stream of READING_STREAMS) expect((await jsm.streams.info(stream)).config.duplicate_window).toBeGreaterThanOrEqual(nanos(60_000));
    // A reading still stuck fails well before the test's timeout, and the report says why.
    const sink = new JetStreamPublisher(nc, { giveUpAfterMs: 15_000 });

    let inFlightAtKill = 0;
    let killedAt = 0;
    let killed: () => void = () => undefined;
    const kill = new Promise<void>((resolve) => (killed = resolve));
    const tap = new Tap(sink, (count) => {
      if (count !== KILL_AT) return;
      inFlightAtKill = sink.inFlight;
      nats!.kill();
      killedAt = Date.now();
      killed();
    });
    const simulation = planSimulation({
      communities: 20,
      meters: METERS / 20,
      seed: 7,
      level: "meter",
      intervalMs: 1_000,
      startMs: Date.UTC(2026, 5, 21, 10),
      durationMs: (READINGS / METERS) * 1_000,
      faults: NO_FAULTS,
    });
    const simulator = new Simulator(tap, simulation.source, { speed: SPEED, staleAfterMs: 30_000 });
    const started = Date.now();
    const run = simulator.start();

    await kill;
    while (!(await isPortFree(port))) await sleep(20);
    await sleep(killedAt + DOWN_MS - Date.now());
    nats = await startNats({ dataDir, preferredPort: port, strictPort: true });
    const downMs = Date.now() - killedAt;
    await run;
    const seconds = (Date.now() - started) / 1000;

    const report = sink.report();
    expect(report.failed === 0 ? "" : report.lastError).toBe("");
    expect(simulator.stats).toMatchObject({ sent: READINGS, acked: READINGS, errors: 0 });
    expect(report).toMatchObject({ published: READINGS, acked: READINGS, failed: 0 });
    // Readings were on their way when the server died, and went again.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(report.retried).toBeGreaterThan(0);

    // Every reading once: as many messages as readings, each Nats-Msg-Id once, over all reading streams.
    const ids = new Map<string, number>();
    let stored = 0;
    for (const stream of READING_STREAMS) {
      const { messages } = (await jsm.streams.info(stream)).state;
      stored += messages;
      const consumer = await jetstream(nc).consumers.get(stream);
      for (let read = 0; read < messages; ) {
        const batch = await consumer.fetch({ max_messages: 5_000, expires: 2_000 });
        let got = 0;
        for await (const msg of batch) {
          const id = msg.headers?.get("Nats-Msg-Id") ?? "";
          ids.set(id, (ids.get(id) ?? 0) + 1);
          got += 1;
        }
        if (got === 0) break;
        read += got;
      }
    }
    const duplicates = [...ids.values()].filter((n) => n > 1).length;
    console.log(
      `killed nats-server for ${(downMs / 1000).toFixed(1)} s under ${(METERS * SPEED).toLocaleString("en")} readings/s ` +
        `(mid-burst, ${inFlightAtKill} readings awaiting their ack): ${report.acked.toLocaleString("en")} acknowledged in ${seconds.toFixed(1)} s, ` +
        `${stored.toLocaleString("en")} in stream, ${duplicates} duplicates, ${report.retried} retried (${report.duplicates} already stored), ` +
        `${report.failed} failed; errors ${JSON.stringify(report.errors)}`,
    );
    expect(stored).toBe(READINGS);
    expect(ids.size).toBe(READINGS);
    expect(duplicates).toBe(0);
    expect(ids.has("")).toBe(false);
    await nc.close();
  });
});
