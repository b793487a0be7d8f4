import { afterAll, beforeAll, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { type ApiService, startApi } from "../../src/app/services.js";
import { SseReader } from "../helpers/sse.js";
import { eventually, usePipeline } from "../helpers/stack.js";

// Two `ecwatch serve` instances on the same stack, as behind a load balancer.
const pipeline = usePipeline();
let second: ApiService;

beforeAll(async () => {
  second = await startApi(pipeline.stack.natsUrl, pipeline.stack.redisUrl, "127.0.0.1", 0);
});

afterAll(async () => {
  await second?.stop();
});

const post = (apiUrl: string, genW: number, second: number) =>
  fetch(`${apiUrl}/communities/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ communityId: "lb1", genW, conW: 100, measuredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, second)).toISOString() }),
  });

const get = async (apiUrl: string): Promise<Aggregate | undefined> => {
  const res = await fetch(`${apiUrl}/communities/lb1`);
  return res.ok ? ((await res.json()) as Aggregate) : undefined;
};

it("serve the same data, take writes on either, and honour each other's SSE ids (the aggregate's epoch and version)", async () => {
  const [a, b] = [pipeline.api.url, second.url];
  expect((await post(b, 1_000, 1)).status).toBe(200);
  const first = await eventually(async () => {
    const [fromA, fromB] = await Promise.all([get(a), get(b)]);
    return fromA?.genW === 1_000 && fromB?.genW === 1_000 ? fromA : undefined;
  });
  expect(await get(b)).toEqual(first);

  // A client follows instance A, then (its connection moved by the balancer) resumes on B with A's last id.
  const onA = await SseReader.open(`${a}/communities/lb1/stream`);
  const current = await onA.waitFor(() => true);
  expect(current.id).toBe(`${first.epoch}:${first.version}`);
  await post(a, 2_000, 2);
  const next = await onA.waitFor((event) => event.id === `${first.epoch}:${first.version + 1}`);
  onA.stop();

  const onB = await SseReader.open(`${b}/communities/lb1/stream`, { "last-event-id": next.id! });
  try {
    await post(b, 3_000, 3);
    const resumed = await onB.waitFor(() => true);
    // Nothing repeated: the first event B sends is the one after the id A gave.
    expect(resumed.id).toBe(`${first.epoch}:${first.version + 2}`);
    expect(JSON.parse(resumed.data)).toMatchObject({ genW: 3_000, version: first.version + 2 });
  } finally {
    onB.stop();
  }
});
