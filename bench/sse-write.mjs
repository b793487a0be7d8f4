// API CPU per delivered SSE event: a chunked response (node's default) against a
// close-delimited one (what `ecwatch serve` sends), with 1,000 clients on loopback. The server
// runs in a child process of its own, so its CPU time is only the writing; the clients parse here.
// Usage: npm run bench:sse-write   Prints a table and writes bench/results/sse-write.json.
import { fork } from "node:child_process";
import { createServer, request } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatEvent } from "../dist/api/sse.js";

const CLIENTS = 1_000;
const EVENTS = 300;
const ROUNDS = 3;

if (process.argv[2] === "server") {
  const closeDelimited = process.argv[3] === "close-delimited";
  const clients = [];
  const server = createServer((_, res) => {
    if (closeDelimited) res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { "content-type": "text/event-stream", connection: closeDelimited ? "close" : "keep-alive" });
    clients.push(res);
    if (clients.length === CLIENTS) broadcast();
  });
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
  function broadcast() {
    const before = process.cpuUsage();
    let version = 0;
    const timer = setInterval(() => {
      version += 1;
      const aggregate = { communityId: "community1", genW: 1234.5, conW: 2345.6, netW: -1111.1, meters: 20, stale: 0, measuredAt: new Date().toISOString(), aggregatedAt: new Date().toISOString(), version };
      const event = formatEvent(aggregate);
      for (const res of clients) res.write(event);
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
    for (let i = 0; i < CLIENTS; i += 1) request({ port, host: "127.0.0.1", headers: { accept: "text/event-stream" } }, (res) => res.resume()).on("error", () => undefined).end();
    const { usPerEvent } = await new Promise((resolve) => server.once("message", resolve));
    server.kill();
    return usPerEvent;
  };
  const runs = { chunked: [], "close-delimited": [] };
  for (let round = 0; round < ROUNDS; round += 1) for (const mode of Object.keys(runs)) runs[mode].push(await measure(mode));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const result = Object.fromEntries(Object.entries(runs).map(([mode, values]) => [mode, { medianUsPerEvent: Number(median(values).toFixed(2)), runs: values.map((v) => Number(v.toFixed(2))) }]));
  for (const [mode, { medianUsPerEvent, runs: values }] of Object.entries(result)) console.log(`${mode.padEnd(16)} ${medianUsPerEvent.toFixed(2)} µs API CPU per delivered event (runs ${values.join(", ")})`);
  const saving = 1 - result["close-delimited"].medianUsPerEvent / result.chunked.medianUsPerEvent;
  console.log(`close-delimited saves ${(saving * 100).toFixed(0)} % (${CLIENTS} clients, ${EVENTS} events each)`);
  mkdirSync(new URL("results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("results/sse-write.json", import.meta.url), `${JSON.stringify({ clients: CLIENTS, events: EVENTS, ...result, saving: Number(saving.toFixed(3)) }, null, 2)}\n`);
  process.exit(0);
}
