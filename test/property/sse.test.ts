import { once } from "node:events";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HEARTBEAT, RECONNECT_HINT, forEachSseBlock, formatEvent } from "../../src/api/sse.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { anyString, stringOf } from "./arbitraries.js";
import { checkAsyncProperty, checkProperty } from "./property.js";

/**
 * One block read the way the WHATWG spec reads an event stream (as EventSource does): lines end
 * at CRLF, LF or CR; `field: value` with one leading space dropped; `data` lines joined with LF.
 */
function interpret(block: string): { id: string | undefined; data: string | undefined; comments: number } {
  let id: string | undefined;
  const data: string[] = [];
  let comments = 0;
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === "") throw new Error(`a blank line inside a block: ${JSON.stringify(block)}`);
    if (line.startsWith(":")) {
      comments += 1;
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  return { id, data: data.length ? data.join("\n") : undefined, comments };
}

/** Feeds `bytes` to forEachSseBlock in chunks cut at `cuts` (byte offsets), as a socket may deliver them. */
async function blocksOf(bytes: Buffer, cuts: readonly number[] = []): Promise<string[]> {
  const res = new PassThrough();
  const blocks: string[] = [];
  forEachSseBlock(res, (block) => blocks.push(block));
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    res.write(bytes.subarray(from, cut));
    from = cut;
  }
  res.end(bytes.subarray(from));
  await once(res, "end");
  return blocks;
}

/** The text as it arrives after UTF-8 encoding and decoding. */
const utf8 = (text: string): string => Buffer.from(text, "utf8").toString("utf8");

const EPOCH = 1_795_354_800_000;

const aggregateOf = (version: number, communityId = "community1"): Aggregate => ({
  communityId,
  genW: 1,
  conW: 2,
  netW: -1,
  meters: 1,
  stale: 0,
  measuredAt: "2026-11-22T12:00:00.000Z",
  aggregatedAt: "2026-11-22T12:00:00.001Z",
  version,
  epoch: EPOCH,
});

/** JSON as it may arrive on the change feed (`ecagg.<id>` is core NATS: anyone may publish it), line breaks between tokens included. */
const feedJson = (): fc.Arbitrary<string> =>
  fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(undefined, 1, "\t", "\n", "\r\n", "\r", "\n\n")).map(([value, indent]) => {
    const text = JSON.stringify(value, null, indent as string | number | undefined);
    return typeof indent === "string" && indent.includes("\r") ? text.replaceAll("\n", indent) : text;
  });

describe("formatEvent → forEachSseBlock", () => {
  it("any data and id survive formatting and parsing, as one event", async () => {
    await checkAsyncProperty(
      "SSE: any data/id survives format → parse",
      fc.asyncProperty(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.double()), fc.oneof(anyString(120), feedJson()), async (version, data) => {
        const text = formatEvent(aggregateOf(version), data);
        const blocks = await blocksOf(Buffer.from(text, "utf8"));
        expect(blocks).toHaveLength(1);
        const event = interpret(blocks[0]!);
        expect(event.id).toBe(`${EPOCH}:${version}`);
        // SSE carries lines of UTF-8: a CR or CRLF inside the data arrives as LF (which JSON reads
        // the same), a lone surrogate (which no decoded message holds) as U+FFFD.
        expect(event.data).toBe(utf8(data).replace(/\r\n|\r/g, "\n"));
        // And nothing else: no second event, no field smuggled in by the data.
        expect(text.endsWith("\n\n")).toBe(true);
        expect(text.slice(0, -2)).not.toMatch(/\r|\n\n/);
      }),
      1_000,
    );
  });

  it("JSON from the change feed reaches the client as the same JSON value", async () => {
    await checkAsyncProperty(
      "SSE: change-feed JSON survives as the same value",
      fc.asyncProperty(feedJson(), fc.nat(), async (json, version) => {
        const [block] = await blocksOf(Buffer.from(formatEvent(aggregateOf(version), json)));
        expect(JSON.parse(interpret(block!).data!)).toEqual(JSON.parse(json));
      }),
      2_000,
    );
  });

  it("an aggregate serialised by formatEvent itself is sent verbatim, whatever its strings", () => {
    checkProperty(
      "SSE: serialised aggregates are sent verbatim",
      fc.property(anyString(80), fc.nat(), (communityId, version) => {
        const aggregate = aggregateOf(version, communityId);
        expect(formatEvent(aggregate)).toBe(`id: ${EPOCH}:${version}\ndata: ${JSON.stringify(aggregate)}\n\n`);
      }),
      3_000,
    );
  });

  it("a stream split anywhere into chunks, even inside a character, parses to the same blocks", async () => {
    const stream = fc.array(serverWrite(), { minLength: 1, maxLength: 8 }).chain((pieces) => {
      const bytes = Buffer.from(pieces.join(""), "utf8");
      return fc.tuple(fc.constant(pieces), fc.constant(bytes), fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }));
    });
    await checkAsyncProperty(
      "SSE: blocks split at any byte parse the same",
      fc.asyncProperty(stream, async ([pieces, bytes, cuts]) => {
        const whole = await blocksOf(bytes);
        // The keep-alive and retry lines are lines of the next event's block, never blocks of their own.
        const expected: string[] = [];
        let lead = "";
        for (const piece of pieces) {
          if (piece.endsWith("\n\n")) {
            expected.push(utf8(lead + piece.slice(0, -2)));
            lead = "";
          } else lead += piece;
        }
        expect(whole).toEqual(expected);
        expect(await blocksOf(bytes, cuts)).toEqual(whole);
        // Byte by byte too, the worst a socket can do.
        if (bytes.length < 400) expect(await blocksOf(bytes, Array.from({ length: bytes.length }, (_, i) => i))).toEqual(whole);
      }),
      1_000,
    );
  });
});

/**
 * A client that dispatches a message at every blank line, with whatever data it has, as
 * `@microsoft/fetch-event-source` does (issue 18): lines end at CRLF, LF or CR; a comment line
 * (`:` first) is skipped; `retry` is taken at once.
 */
function dispatchAtEveryBlankLine(text: string): Array<{ id: string | undefined; data: string; retry: number | undefined }> {
  const messages: Array<{ id: string | undefined; data: string; retry: number | undefined }> = [];
  let id: string | undefined;
  let data: string[] = [];
  let retry: number | undefined;
  for (const line of text.split(/\r\n|\r|\n/).slice(0, -1)) {
    if (line === "") {
      messages.push({ id, data: data.join("\n"), retry });
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "id") id = value;
    else if (field === "retry") retry = Number(value);
  }
  return messages;
}

describe("the API's writes, read by a client that dispatches at every blank line", () => {
  it("every message it dispatches is one of the events written, with its data and id, in order: none empty", () => {
    checkProperty(
      "SSE: no data-less block in any sequence of the API's writes",
      fc.property(fc.array(serverWrite(), { maxLength: 12 }), (pieces) => {
        const text = RECONNECT_HINT + pieces.join("");
        const events = pieces.filter((piece) => piece.endsWith("\n\n")).map((piece) => interpret(piece.slice(0, -2)));
        const messages = dispatchAtEveryBlankLine(text);
        expect(messages.map((m) => ({ id: m.id, data: m.data }))).toEqual(events.map((e) => ({ id: e.id, data: e.data })));
        // `retry` reached the client with the first event (or before it, for a client that takes it at once).
        if (messages.length) expect(messages[0]!.retry).toBe(1000);
      }),
      2_000,
    );
  });
});

/** One write of the API to an SSE response after its connect line: an event, or a keep-alive. */
function serverWrite(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.nat(), fc.oneof(anyString(60), feedJson())).map(([version, data]) => formatEvent(aggregateOf(version), data)),
    fc.constant(HEARTBEAT),
    fc.constant(RECONNECT_HINT),
    fc.tuple(fc.nat(), stringOf(["ä", "€", "😀", "\u2028", "\u202e", "a"], 0, 20)).map(([version, text]) => formatEvent(aggregateOf(version), JSON.stringify({ text }))),
  );
}
