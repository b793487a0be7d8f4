import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { type HttpMethod, OPENAPI } from "../../src/api/openapi.js";
import { ROUTES } from "../../src/api/routes.js";
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";
import { segmentsOf } from "../../src/wire/archive-layout.js";
import { archiveDirOf, eventually, usePipeline } from "../helpers/stack.js";

/**
 * The OpenAPI document against the running API (issue 10): every operation answers its
 * documented statuses with bodies that validate against the document's schemas, and the server
 * answers no path or method the document lacks.
 */

const pipeline = usePipeline();

const DOC_ID = "openapi.json";
const ajv = new Ajv2020({ strict: true, allErrors: true });
// The document's own keywords: Ajv neither validates nor walks them, but resolves `$ref`s into them.
ajv.addVocabulary(["openapi", "info", "tags", "paths", "components"]);
ajv.addSchema(OPENAPI, DOC_ID);

const METHODS: readonly HttpMethod[] = ["get", "post", "put", "patch", "delete"];
const COMMUNITY = "openapi1";

interface DocResponse {
  readonly headers?: Record<string, { readonly schema: object }>;
  readonly content?: Record<string, { readonly schema: object }>;
}

/** A JSON pointer token (RFC 6901). */
const token = (key: string): string => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** The documented response of an operation for a status, `$ref`s resolved, with its pointer; undefined when not listed. */
function documented(path: string, method: HttpMethod, status: number): { response: DocResponse; pointer: string } | undefined {
  const operation = (OPENAPI.paths as Record<string, Partial<Record<HttpMethod, { responses: Record<string, unknown> }>>>)[path]?.[method];
  const entry = operation?.responses[String(status)] as DocResponse | { $ref: string } | undefined;
  if (!entry) return undefined;
  if ("$ref" in entry) {
    const name = entry.$ref.replace("#/components/responses/", "");
    return { response: (OPENAPI.components.responses as Record<string, DocResponse>)[name]!, pointer: `#/components/responses/${token(name)}` };
  }
  return { response: entry, pointer: `#/paths/${token(path)}/${method}/responses/${status}` };
}

/** Checks a response against the document: listed status, listed content type, body valid against its schema, listed headers valid. */
async function expectDocumented(path: string, method: HttpMethod, res: Response, body?: string): Promise<void> {
  const found = documented(path, method, res.status);
  expect(found, `${method.toUpperCase()} ${path} answered ${res.status}, which the document does not list`).toBeDefined();
  const { response, pointer } = found!;
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  expect(Object.keys(response.content ?? {}), `content type of ${method.toUpperCase()} ${path} ${res.status}`).toContain(type);
  const text = body ?? (await res.text());
  const value: unknown = type === "application/json" ? JSON.parse(text) : text;
  const validate = ajv.compile({ $ref: `${DOC_ID}${pointer}/content/${token(type)}/schema` });
  expect(validate(value) ? [] : validate.errors, `${method.toUpperCase()} ${path} ${res.status}: ${text.slice(0, 300)}`).toEqual([]);
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const validateHeader = ajv.compile(header.schema);
    expect(validateHeader(res.headers.get(name)), `header ${name} of ${method.toUpperCase()} ${path} ${res.status}`).toBe(true);
  }
}

const METER = "meter1";
/** `/communities/{communityId}` → `/communities/openapi1`; a meter's path with meter1. */
const concrete = (path: string, id = COMMUNITY, meterId = METER): string => path.replace("{communityId}", id).replace("{meterId}", meterId);

interface Case {
  readonly path: string;
  readonly method: HttpMethod;
  readonly status: number;
  readonly url: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

const reading = { communityId: COMMUNITY, genW: 1200, conW: 300, measuredAt: "2026-11-22T12:00:00Z" };
const CASES: readonly Case[] = [
  { path: "/communities", method: "get", status: 200, url: "/communities" },
  { path: "/communities", method: "post", status: 200, url: "/communities", body: JSON.stringify(reading) },
  { path: "/communities", method: "post", status: 400, url: "/communities", body: "{not json" },
  { path: "/communities", method: "post", status: 400, url: "/communities", body: JSON.stringify({ ...reading, genW: -1 }) },
  { path: "/communities", method: "post", status: 413, url: "/communities", body: JSON.stringify({ ...reading, padding: "x".repeat(100_000) }) },
  { path: "/communities/{communityId}", method: "get", status: 200, url: concrete("/communities/{communityId}") },
  { path: "/communities/{communityId}", method: "get", status: 400, url: concrete("/communities/{communityId}", "a.b") },
  { path: "/communities/{communityId}", method: "get", status: 404, url: concrete("/communities/{communityId}", "nodatayet") },
  { path: "/communities/{communityId}/stream", method: "get", status: 400, url: concrete("/communities/{communityId}/stream", "a*") },
  { path: "/communities/{communityId}/history", method: "get", status: 200, url: concrete("/communities/{communityId}/history?from=-2d&step=1h&tz=Europe/Berlin") },
  { path: "/communities/{communityId}/history", method: "get", status: 200, url: concrete("/communities/{communityId}/history"), headers: { accept: "text/csv" } },
  { path: "/communities/{communityId}/history", method: "get", status: 400, url: concrete("/communities/{communityId}/history?step=2m") },
  { path: "/communities/{communityId}/history", method: "get", status: 400, url: concrete("/communities/{communityId}/history", "a.b") },
  { path: "/communities/{communityId}/kpis", method: "get", status: 200, url: concrete("/communities/{communityId}/kpis?period=7d") },
  { path: "/communities/{communityId}/kpis", method: "get", status: 200, url: concrete("/communities/{communityId}/kpis"), headers: { accept: "text/csv" } },
  { path: "/communities/{communityId}/kpis", method: "get", status: 400, url: concrete("/communities/{communityId}/kpis?tz=Mars/Olympus") },
  { path: "/communities/{communityId}/meters", method: "get", status: 200, url: concrete("/communities/{communityId}/meters?sort=stale&limit=5") },
  { path: "/communities/{communityId}/meters", method: "get", status: 400, url: concrete("/communities/{communityId}/meters?limit=none") },
  { path: "/communities/{communityId}/meters", method: "get", status: 404, url: concrete("/communities/{communityId}/meters", "nodatayet") },
  { path: "/communities/{communityId}/meters/{meterId}/history", method: "get", status: 200, url: concrete("/communities/{communityId}/meters/{meterId}/history?from=2026-11-22T11:00:00Z&to=2026-11-22T13:00:00Z") },
  { path: "/communities/{communityId}/meters/{meterId}/history", method: "get", status: 200, url: concrete("/communities/{communityId}/meters/{meterId}/history?from=-2d"), headers: { accept: "text/csv" } },
  { path: "/communities/{communityId}/meters/{meterId}/history", method: "get", status: 400, url: concrete("/communities/{communityId}/meters/{meterId}/history", COMMUNITY, "a.b") },
  { path: "/communities/{communityId}/meters/{meterId}/history", method: "get", status: 404, url: concrete("/communities/{communityId}/meters/{meterId}/history", COMMUNITY, "nosuchmeter") },
  { path: "/healthz", method: "get", status: 200, url: "/healthz" },
  { path: "/readyz", method: "get", status: 200, url: "/readyz" },
  { path: "/metrics", method: "get", status: 200, url: "/metrics" },
  { path: "/openapi.json", method: "get", status: 200, url: "/openapi.json" },
];
/** Answered with Redis stopped (the last describe). */
const OUTAGE_CASES: readonly Case[] = [
  { path: "/healthz", method: "get", status: 503, url: "/healthz" },
  { path: "/readyz", method: "get", status: 503, url: "/readyz" },
];
/** The SSE stream's 200, checked by reading its first event. */
const STREAM_CASE = { path: "/communities/{communityId}/stream", method: "get", status: 200 } as const;
/**
 * Documented responses no test here provokes: a 503 of these needs NATS down under a running
 * API (Redis down does not do it: the API reads NATS KV instead).
 */
// 503s need NATS down; 401 and 429 need a token and a spent rate limit, which api-access.test.ts provokes; a meter's
// history is a 503 from an API without an archive, which meter-history-api.test.ts starts.
const NOT_PROVOKED = [
  "get /communities 503",
  "post /communities 503",
  "get /communities/{communityId} 503",
  "get /communities/{communityId}/history 503",
  "get /communities/{communityId}/kpis 503",
  "get /communities/{communityId}/meters 503",
  "get /communities/{communityId}/meters/{meterId}/history 503",
  "post /communities 401",
  "post /communities 429",
];

const request = (c: Case): Promise<Response> =>
  fetch(`${pipeline.api.url}${c.url}`, { method: c.method.toUpperCase(), body: c.body, headers: { ...(c.body ? { "content-type": "application/json" } : {}), ...c.headers }, signal: AbortSignal.timeout(10_000) });

beforeAll(async () => {
  // An archived meter, for the 200s of its history: readings every minute 11:30–12:30, as the archiver writes them.
  const segments = await ParquetSegments.open(archiveDirOf(pipeline.stack));
  try {
    const start = Date.parse("2026-11-22T11:30:00Z");
    const readings = Array.from({ length: 60 }, (_, i) => ({ communityId: COMMUNITY, meterId: METER, state: { genW: 1_200, conW: 300, measuredAtMs: start + i * 60_000, seq: i + 1 }, streamSeq: i + 1 }));
    for (const segment of segmentsOf(0, readings, "openapi")) await segments.write(segment);
  } finally {
    segments.close();
  }
  // A community with data, for the 200s of GET /communities/{communityId} and its stream.
  const res = await fetch(`${pipeline.api.url}/communities`, { method: "POST", body: JSON.stringify(reading) });
  expect(res.status).toBe(200);
  await eventually(async () => ((await fetch(`${pipeline.api.url}/communities/${COMMUNITY}`)).status === 200 ? true : undefined), 15_000, `${COMMUNITY} to have data`);
});

describe("the OpenAPI document", () => {
  it("lists exactly the router's routes and methods", () => {
    const documentedRoutes = Object.fromEntries(Object.entries(OPENAPI.paths).map(([path, item]) => [path, METHODS.filter((m) => m in item).map((m) => m.toUpperCase())]));
    expect(documentedRoutes).toEqual(Object.fromEntries(Object.entries(ROUTES).map(([path, methods]) => [path, [...methods]])));
  });

  it("is served at /openapi.json as it is in the source", async () => {
    const res = await fetch(`${pipeline.api.url}/openapi.json`);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(OPENAPI)));
  });

  it("has a case here for every documented response, but those that need NATS down", () => {
    const covered = new Set([...CASES, ...OUTAGE_CASES, STREAM_CASE].map((c) => `${c.method} ${c.path} ${c.status}`));
    const all = Object.entries(OPENAPI.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { responses: object }>).flatMap(([method, operation]) => Object.keys(operation.responses).map((status) => `${method} ${path} ${status}`)),
    );
    expect(all.filter((response) => !covered.has(response) && !NOT_PROVOKED.includes(response))).toEqual([]);
    expect(NOT_PROVOKED.every((response) => all.includes(response))).toBe(true);
  });
});

describe("the API answers as documented", () => {
  it.each(CASES.map((c) => [`${c.method.toUpperCase()} ${c.url.slice(0, 60)} → ${c.status}`, c] as const))("%s", async (_name, c) => {
    const res = await request(c);
    expect(res.status).toBe(c.status);
    await expectDocumented(c.path, c.method, res);
  });

  it(`GET ${concrete(STREAM_CASE.path)} → 200: an event stream whose events are Aggregates`, async () => {
    const abort = new AbortController();
    const res = await fetch(`${pipeline.api.url}${concrete(STREAM_CASE.path)}`, { signal: abort.signal });
    try {
      expect(res.status).toBe(200);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!/^data: .*\n\n/m.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await expectDocumented(STREAM_CASE.path, STREAM_CASE.method, res, text);
      const data = /^data: (.*)$/m.exec(text)?.[1];
      const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/Aggregate`)!;
      expect(validate(JSON.parse(data ?? "null")) ? [] : validate.errors).toEqual([]);
    } finally {
      abort.abort();
    }
  });

  it.each(Object.entries(ROUTES))("%s answers any other method with 405 and an Allow header of its methods", async (path, methods) => {
    for (const method of METHODS.filter((m) => !(methods as readonly string[]).includes(m.toUpperCase()))) {
      const res = await fetch(`${pipeline.api.url}${concrete(path)}`, { method: method.toUpperCase() });
      expect(res.status, `${method.toUpperCase()} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(methods.join(", "));
      const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/Error`)!;
      expect(validate(await res.json())).toBe(true);
    }
  });

  it.each(["/", "/nope", "/communities/openapi1/nope", "/communities/openapi1/stream/more", "/communities/openapi1/history/more", "/communities/openapi1/meters/more", "/communities/openapi1/meters/meter1", "/communities/openapi1/meters/meter1/history/more", "/communities/openapi1/energy", "/healthz/more", "/metrics/more", "/openapi.json/more", "/openapi"])(
    "%s, which the document lacks, is a 404 for every method",
    async (path) => {
      for (const method of METHODS) {
        const res = await fetch(`${pipeline.api.url}${path}`, { method: method.toUpperCase() });
        expect(res.status, `${method.toUpperCase()} ${path}`).toBe(404);
        const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/Error`)!;
        expect(validate(await res.json())).toBe(true);
      }
    },
  );
});

describe("with Redis down", () => {
  it("/healthz and /readyz answer 503 as documented, /readyz naming Redis, and 200 again once it is back", async () => {
    await pipeline.stack.restartRedis(async () => {
      for (const c of OUTAGE_CASES) {
        const res = await eventually(async () => {
          const answer = await request(c);
          return answer.status === c.status ? answer : undefined;
        }, 10_000, `${c.url} to answer ${c.status}`);
        const text = await res.text();
        await expectDocumented(c.path, c.method, res, text);
        if (c.path === "/readyz") expect(JSON.parse(text)).toMatchObject({ status: "not ready", nats: true, redis: false, down: ["redis"], error: "not ready: redis is down" });
      }
    });
    await eventually(async () => ((await fetch(`${pipeline.api.url}/readyz`)).status === 200 ? true : undefined), 15_000, "/readyz to answer 200 again");
  });
});
