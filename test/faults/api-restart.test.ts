import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { LATEST_BUCKET, latestKey } from "../../src/wire/names.js";
import { formatKw } from "../../src/cli/output.js";
import { type Aggregate, aggregateFromJson } from "../../src/domain/aggregate.js";
import { freePort } from "../../src/stack/ports.js";
import { type AggregationService, startAggregation } from "../../src/app/services.js";
import { BIN, CliProcess } from "../helpers/cli.js";
import { count, dose, equalsTruth, getCommunity, STALE_AFTER_MS, servedTruth, underLoad } from "../helpers/faults.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";
import { TmuxSession } from "../helpers/tmux.js";

const SHAPE = { communities: 3, meters: 200, rate: 3_000 };
/** API restarts; the last one comes after the load, so that the clients can only learn the final value on connect. */
const ROUNDS = dose(2, 6);
const COMMUNITY = "community1";

let stack: TestStack;
let aggregation: AggregationService;

beforeAll(async () => {
  stack = await startTestStack();
  aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: STALE_AFTER_MS });
});

afterAll(async () => {
  await aggregation?.stop();
  await stack?.stop();
});

/** `ecwatch serve` on `port`, once it listens. */
async function serve(port: number): Promise<CliProcess> {
  const api = new CliProcess(["serve", "--workers", "1", "--port", String(port), "--nats", stack.natsUrl, "--redis", stack.redisUrl]);
  await api.waitForStderr(/^serving http/m).catch((err: unknown) => {
    api.kill("SIGKILL");
    throw err;
  });
  return api;
}

/** The community's aggregate in NATS KV, where the aggregator stores it whether or not an API runs. */
async function storedAggregate(communityId: string): Promise<Aggregate | undefined> {
  const nc = await connectNats(stack.natsUrl, "faults-kv");
  try {
    const entry = await (await new Kvm(nc).open(LATEST_BUCKET)).get(latestKey(communityId));
    return entry?.operation === "PUT" ? aggregateFromJson(entry.string()) : undefined;
  } finally {
    await nc.close();
  }
}

/** The JSON lines a process printed after the first `from` characters of its stdout. */
const jsonLines = <T>(cli: CliProcess, from = 0): T[] =>
  cli.stdout
    .slice(from)
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as T);

interface RelayLine {
  readonly watchW: number | null;
  readonly truthW: number | null;
  readonly link: string;
}

describe("the API restarted under load", () => {
  it("tail, monitor and wear-emu reconnect by themselves, resume, and show the current value on connect", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let api = await serve(port);
    const clients: CliProcess[] = [];
    let terminal: TmuxSession | undefined;
    try {
      const { value: final, result } = await underLoad(stack.natsUrl, SHAPE, async (load) => {
        await eventually(async () => ((await getCommunity(url, COMMUNITY)).status === 200 ? true : undefined), 20_000, `${COMMUNITY} to have a value`);
        const tail = new CliProcess(["tail", COMMUNITY, "--json", "--api", url]);
        const relay = new CliProcess(["wear-emu", "--community", COMMUNITY, "--policy", "prototype", "--json", "--api", url]);
        clients.push(tail, relay);
        terminal = TmuxSession.start(`exec env NO_COLOR=1 ${process.execPath} ${BIN} monitor ${COMMUNITY} --api ${url}`, { cwd: stack.dir, width: 100, height: 40 });
        const monitor = terminal;
        await tail.waitForStdout(/^\{.*\}$/m);
        await monitor.waitForScreen(/● live/);
        await relay.waitForStdout(/"link":"live"/);
        const tailVersions = (): number[] => jsonLines<Aggregate>(tail).map((a) => a.version);

        for (let round = 1; round <= ROUNDS; round += 1) {
          const last = round === ROUNDS;
          const shownBefore = tailVersions().at(-1)!;
          // Stopped as a user stops it, or killed as a crash does.
          api.kill(round % 2 === 1 ? "SIGTERM" : "SIGKILL");
          await api.exited;
          await monitor.waitForScreen(/reconnecting/, 15_000);
          if (last) {
            // The load ends while the API is away: its final value can only reach a client on connect.
            const { truth } = await load.stop();
            await eventually(async () => (equalsTruth(await storedAggregate(COMMUNITY), truth[COMMUNITY]) ? true : undefined), 30_000, "the aggregator to store the final value");
          }
          const relayFrom = relay.stdout.length;
          api = await serve(port);
          const current = (await getCommunity(url, COMMUNITY)).aggregate!;

          // Each client is back by itself, at or past the value the API has now.
          await eventually(async () => ((tailVersions().at(-1) ?? 0) >= current.version ? true : undefined), 30_000, "tail to resume");
          expect(tailVersions().at(-1)).toBeGreaterThan(shownBefore);
          await monitor.waitForScreen(/● live/, 30_000);
          await eventually(async () => (jsonLines<RelayLine>(relay, relayFrom).some((line) => line.link === "live") ? true : undefined), 30_000, "wear-emu to relay live again");
          if (last) {
            expect(tailVersions().at(-1)).toBe(current.version);
            await monitor.waitForScreen(new RegExp(`gen ${formatKw(current.genW)} {3}con ${formatKw(current.conW)} {3}(surplus|deficit) ${formatKw(Math.abs(current.netW))}`), 10_000);
            const relayed = await eventually(async () => jsonLines<RelayLine>(relay, relayFrom).find((line) => line.link === "live" && line.truthW === current.netW), 15_000, "wear-emu to show the current value");
            expect(relayed.watchW).toBe(current.netW);
          }
        }
        // One stream each all along: versions only go up, none is shown twice.
        const versions = tailVersions();
        expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
        for (const client of clients) expect(client.running, client.stderr).toBe(true);
        expect(monitor.exitStatus()).toBeUndefined();
        return { version: versions.at(-1)!, lines: versions.length };
      });

      expect(result.sent - result.acked).toBe(0);
      const served = (await servedTruth(url, result.truth)).get(COMMUNITY)!;
      expect(served.aggregate!.version).toBe(final.version);
      console.log(
        `restarted ecwatch serve ${ROUNDS}× (SIGTERM and SIGKILL) under ${count(SHAPE.rate)} readings/s (${SHAPE.communities} communities × ${SHAPE.meters} meters, ${count(result.acked)} readings): ` +
          `tail, monitor and wear-emu reconnected by themselves each time (tail: ${count(final.lines)} versions, none twice), ` +
          `and after the last restart all three showed the final value v${final.version} on connect, equal to GET and to the ground truth; 0 lost`,
      );
    } finally {
      terminal?.kill();
      for (const client of clients) client.kill("SIGKILL");
      api.kill("SIGKILL");
    }
  }, dose(120_000, 400_000));
});
