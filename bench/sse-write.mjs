// API CPU per delivered SSE event, with 1,000 clients on loopback: a chunked response (node's
// default) against a close-delimited one (what `ecwatch serve` sends), both written straight to
// the responses; and `ecwatch`: the same close-delimited responses fed by the API's own fan-out
// (SseHub's change-feed callback, an SseClient per response, the metrics observer of `serve`),
// so its excess over `close-delimited` is what ecwatch adds per client. The server runs in a child
// process of its own, so its CPU time is only the fan-out and writing; the clients parse here.
// Usage: npm run bench:sse-write   Prints a table and writes bench/results/sse-write.json.
import { fork } from "node:child_process";
import { createServer, request } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatEvent, SseClient } from "../dist/api/sse.js";
import { SseHub } from "../dist/api/sse-hub.js";
import { apiMetrics } from "../dist/prometheus/api-metrics.js";

const CLIENTS = 1_000;
const EVENTS = 300;
const ROUNDS = 3;

const MODES = ["chunked", "close-delimited", "ecwatch"];

/** The API's fan-out without a NATS server: the hub's change-feed callback is called here, as the subscription would. */
function apiFanOut() {
  let onChange;
  const feed = { subscribe: (_, callback) => ((onChange = callback), { ready: Promise.resolve(), unsubscribe: () => undefined }) };
  const hub = new SseHub(feed);
  const metrics = apiMetrics({ sseClients: () => hub.clientCount() });
  return {
    add: (res) => void hub.join("community1", new SseClient(res, undefined, metrics.observer.onSseEvent)),
    publish: (aggregate) => {
      const json = JSON.stringify(aggregate);
      onChange(json);
    },
  };
}

if (process.argv[2] === "server") {
  const mode = process.argv[3];
  const closeDelimited = mode !== "chunked";
  const fanOut = mode === "ecwatch" ? apiFanOut() : undefined;
  const clients = [];
  const server = createServer((_, res) => {
    if (closeDelimited) res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { "content-type": "text/event-stream", connection: closeDelimited ? "close" : "keep-alive" });
    clients.push(res);
    fanOut?.add(res);
    if (clients.length === CLIENTS) broadcast();
  });
  // A backlog for all the clients at once: past node's default (511) a connection may be refused.
  server.listen({ port: 0, host: "127.0.0.1", backlog: CLIENTS }, () => process.send({ port: server.address().port }));
  function broadcast() {
    const before = process.cpuUsage();
    let version = 0;
    const timer = setInterval(() => {
      version += 1;
      const aggregate = { communityId: "community1", genW: 1234.5, conW: 2345.6, netW: -1111.1, meters: 20, stale: 0, measuredAt: new Date().toISOString(), aggregatedAt: new Date().toISOString(), version, epoch: 1 };
      if (fanOut) fanOut.publish(aggregate);
      else {
        const event = formatEvent(aggregate);
        for (const res of clients) res.write(event);
      }
      if (version === EVENTS) {
        clearInterval(timer);
        const used = process.cpuUsage(before);
        process.send({ usPerEvent: (used.user + used.system) / (EVENTS * CLIENTS) });
      }
    }, 20);
  }
} else {
  const measure = async (mode) => {
    const server = fork(fileURLToPath(import.meta.url), ["server", mode]);
    const { port } = await new Promise((resolve) => server.once("message", resolve));
    let measured = false;
    const failed = (err) => {
      // Once measured, the server is killed and every client's connection resets.
      if (measured) return;
      console.error(`bench:sse-write: a client could not connect (${err.message}); the server would wait for it forever.`);
      server.kill();
      process.exit(1);
    };
    for (let i = 0; i < CLIENTS; i += 1) request({ port, host: "127.0.0.1", headers: { accept: "text/event-stream" } }, (res) => res.resume()).on("error", failed).end();
    const { usPerEvent } = await new Promise((resolve) => server.once("message", resolve));
    measured = true;
    server.kill();
    return usPerEvent;
  };
  const runs = Object.fromEntries(MODES.map((mode) => [mode, []]));
  for (let round = 0; round < ROUNDS; round += 1) for (const mode of Object.keys(runs)) runs[mode].push(await measure(mode));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const result = Object.fromEntries(Object.entries(runs).map(([mode, values]) => [mode, { medianUsPerEvent: Number(median(values).toFixed(2)), runs: values.map((v) => Number(v.toFixed(2))) }]));
  for (const [mode, { medianUsPerEvent, runs: values }] of Object.entries(result)) console.log(`${mode.padEnd(16)} ${medianUsPerEvent.toFixed(2)} µs API CPU per delivered event (runs ${values.join(", ")})`);
  const saving = 1 - result["close-delimited"].medianUsPerEvent / result.chunked.medianUsPerEvent;
  const fanOutCost = result.ecwatch.medianUsPerEvent - result["close-delimited"].medianUsPerEvent;
  console.log(`close-delimited saves ${(saving * 100).toFixed(0)} %; ecwatch's fan-out adds ${fanOutCost.toFixed(2)} µs per delivered event (${CLIENTS} clients, ${EVENTS} events each)`);
  mkdirSync(new URL("results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("results/sse-write.json", import.meta.url), `${JSON.stringify({ clients: CLIENTS, events: EVENTS, ...result, saving: Number(saving.toFixed(3)), fanOutUsPerEvent: Number(fanOutCost.toFixed(2)) }, null, 2)}\n`);
  process.exit(0);
}
