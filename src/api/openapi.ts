import { MAX_INTERVAL_MS, MAX_WATTS } from "../domain/reading.js";
import { VERSION } from "../version.js";
import { BUCKET_FIELDS } from "../energy/history-query.js";
import { DEFAULT_METER_SORT, MAX_METER_LIMIT, METER_SORTS } from "../energy/meter-list.js";
import type { JsonSchema, OpenApiDocument, Response } from "./openapi-types.js";

/**
 * The API described in OpenAPI 3.1, served at GET /openapi.json. test/integration/openapi.test.ts
 * checks it against the running API: every operation answers as documented, with bodies that
 * validate against these schemas, and the router answers no route the document lacks.
 */

export type { HttpMethod, JsonSchema, OpenApiDocument } from "./openapi-types.js";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const error = (description: string): Response => ({ description, content: json(ref("Error")) });
const ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$";

/** The fields of an energy bucket, as `EnergyBucket` and `Kpis` answer them (BUCKET_FIELDS, in that order). */
const BUCKET_PROPERTIES = {
  start: { type: "string", description: "Start of the bucket (ISO-8601, UTC)" },
  end: { type: "string", description: "End of the bucket, exclusive (ISO-8601, UTC)" },
  genWh: { type: "number", minimum: 0, description: "Generation, Wh" },
  conWh: { type: "number", minimum: 0, description: "Consumption, Wh" },
  importWh: { type: "number", minimum: 0, description: "Σ of the meters' own import max(0, con − gen), Wh" },
  exportWh: { type: "number", minimum: 0, description: "Σ of the meters' own export max(0, gen − con), Wh" },
  sharedWh: { type: "number", minimum: 0, description: "min(Σ export, Σ import), matched per settlement interval and added up, Wh" },
  gridImportWh: { type: "number", minimum: 0, description: "importWh − sharedWh" },
  gridExportWh: { type: "number", minimum: 0, description: "exportWh − sharedWh" },
  selfSufficiency: { anyOf: [{ type: "number", minimum: 0, maximum: 1 }, { type: "null" }], description: "1 − gridImportWh / conWh; null without consumption" },
  selfConsumption: { anyOf: [{ type: "number", minimum: 0, maximum: 1 }, { type: "null" }], description: "1 − gridExportWh / genWh; null without generation" },
  complete: { type: "boolean", description: "Final: the bucket ended before the community's final data time (every meter's readings within their grace are in) and no reading came too late for it" },
  late: { type: "integer", minimum: 0, description: "Readings that came too late to be integrated in their place (beyond their meter's grace); they keep the bucket from being final" },
};

export const OPENAPI = {
  openapi: "3.1.0",
  info: {
    title: "ecwatch API",
    version: VERSION,
    license: { name: "MIT", identifier: "MIT" },
    description:
      "The REST + SSE API of an energy community (`ecwatch serve`): the latest totals of each community, a push stream of their changes, " +
      "and readings posted by the prototype's community-level meters. Every error is a JSON object `{\"error\": \"…\"}`; a method a path " +
      "does not take is a 405 with an `Allow` header, a path not listed here a 404. Reads are open; writes need a bearer token when one is " +
      "configured, and are rate-limited per client address. CORS is off unless `--cors <origin>` is given; then preflights (OPTIONS) are answered for those origins.",
  },
  tags: [
    { name: "communities", description: "Community totals and readings" },
    { name: "energy", description: "Energy history and KPIs per settlement interval (issue 11)" },
    { name: "operations", description: "Health, readiness, metrics and this description" },
  ],
  paths: {
    "/communities": {
      get: {
        operationId: "listCommunities",
        summary: "The latest aggregate of every community, sorted by id",
        tags: ["communities"],
        responses: {
          "200": { description: "Every community with data", content: json({ type: "array", items: ref("Aggregate") }) },
          "503": { $ref: "#/components/responses/UpstreamOrForeign" },
        },
      },
      post: {
        operationId: "postReading",
        summary: "Publish a community-level reading (the prototype's `ec.<id>.net`) to JetStream",
        tags: ["communities"],
        requestBody: { required: true, content: json(ref("CommunityReading")) },
        responses: {
          "200": { description: "Stored in JetStream", content: json(ref("Published")) },
          "400": error("The body is not JSON, or a field is missing or invalid; the message names it"),
          "401": {
            ...error("A token is configured (`--token`, `ECWATCH_TOKEN`; required off loopback) and the request lacks `Authorization: Bearer <token>`, or carries another"),
            headers: { "WWW-Authenticate": { description: "`Bearer`", schema: { type: "string" } } },
          },
          "413": error("The body is larger than the API takes (MAX_BODY_BYTES, 16 KiB)"),
          "429": {
            ...error("More writes from this address than `--rate-limit` allows (default 100/s, burst 200)"),
            headers: { "Retry-After": { description: "Seconds until the next write is taken", schema: { type: "string" } } },
          },
          "503": { $ref: "#/components/responses/Upstream" },
        },
      },
    },
    "/communities/{communityId}": {
      get: {
        operationId: "getCommunity",
        summary: "The latest aggregate of one community (Redis, else NATS KV)",
        tags: ["communities"],
        parameters: [{ $ref: "#/components/parameters/CommunityId" }],
        responses: {
          "200": {
            description: "The community's latest aggregate",
            headers: { "x-ecwatch-source": { description: "Where the value came from", schema: { type: "string", enum: ["redis", "kv"] } } },
            content: json(ref("Aggregate")),
          },
          "400": { $ref: "#/components/responses/BadId" },
          "404": error("The community has no data yet"),
          "503": { $ref: "#/components/responses/UpstreamOrForeign" },
        },
      },
    },
    "/communities/{communityId}/stream": {
      get: {
        operationId: "streamCommunity",
        summary: "Server-sent events: the current aggregate, then each change",
        description:
          "Each event is `id: <epoch>:<version>` (the Aggregate's) and `data: <Aggregate as JSON>`. Versions only go forward: an event is sent only when its epoch is higher, or its epoch equal and its version higher, than the last one the client got, so a late or stale value is never sent after a newer one, and a reset (a new, higher epoch) is followed. " +
          "A client that reconnects with `Last-Event-ID: <epoch>:<version>` gets the current value at once unless it is not newer than that id; an old numeric id `<version>` (APIs before epochs sent it) gets the current value unless that is epoch 0 at that very version; `0`, or an id in neither form, gets the current value. " +
          "Comment lines (`: keep-alive`) every 15 s keep idle connections open; `retry: 1000` (at connect) asks clients to reconnect after a second. " +
          "Neither is a block of its own: both are lines of the next event's block, so every blank line ends an event with data (clients that dispatch at every blank line get events only).",
        tags: ["communities"],
        parameters: [{ $ref: "#/components/parameters/CommunityId" }],
        responses: {
          "200": { description: "An endless event stream; each event's data is an Aggregate", content: { "text/event-stream": { schema: { type: "string" } } } },
          "400": { $ref: "#/components/responses/BadId" },
        },
      },
    },
    "/communities/{communityId}/history": {
      get: {
        operationId: "getHistory",
        summary: "A community's energy and KPIs per bucket of data time (issue 11)",
        description:
          "Buckets of `step` covering [from, to), widened to whole buckets, in order; buckets without data are left out. Minutes and quarter hours " +
          "are aligned to UTC, hours and days to `tz`. At most 10,080 buckets (7 days of minutes, 105 days of quarter hours) and 366 days per request. " +
          "JSON, or CSV (a header line, then one line per bucket, empty fields for null) with `Accept: text/csv`.",
        tags: ["energy"],
        parameters: [{ $ref: "#/components/parameters/CommunityId" }, { $ref: "#/components/parameters/From" }, { $ref: "#/components/parameters/To" }, { $ref: "#/components/parameters/Step" }, { $ref: "#/components/parameters/Tz" }],
        responses: {
          "200": {
            description: "The buckets with data, oldest first",
            content: { ...json({ type: "array", items: ref("EnergyBucket") }), "text/csv": { schema: { type: "string" } } },
          },
          "400": error("The id, or a parameter (from, to, step, tz; an unknown or repeated one; too many buckets) is invalid; the message names it"),
          "503": { $ref: "#/components/responses/Upstream" },
        },
      },
    },
    "/communities/{communityId}/kpis": {
      get: {
        operationId: "getKpis",
        summary: "A community's energy and KPIs over today, the last 24 hours or the last 7 days (issue 11)",
        description:
          "`today`: since midnight in `tz`; `24h` and `7d`: the last 96 or 672 settlement intervals (15 minutes, UTC-aligned), the current one included. " +
          "A community without data gets zeros and null fractions. JSON, or CSV with `Accept: text/csv`.",
        tags: ["energy"],
        parameters: [{ $ref: "#/components/parameters/CommunityId" }, { $ref: "#/components/parameters/Period" }, { $ref: "#/components/parameters/Tz" }],
        responses: {
          "200": { description: "The period's energy and KPIs", content: { ...json(ref("Kpis")), "text/csv": { schema: { type: "string" } } } },
          "400": error("The id, or a parameter (period, tz; an unknown or repeated one) is invalid; the message names it"),
          "503": { $ref: "#/components/responses/Upstream" },
        },
      },
    },
    "/communities/{communityId}/meters": {
      get: {
        operationId: "listMeters",
        summary: "Each meter of a community: its newest reading, its cadence, and whether it is stale (issue 23)",
        description:
          "Read from the per-meter state the aggregator stores (NATS KV `ec_agg_state`), which it writes at most every 100 ms per partition: the list lags the live " +
          "aggregate by about that much. Staleness follows the rule of the totals: a meter is stale when its newest reading no longer holds (its cadence plus half a " +
          "cadence, at least `--stale-after`) at the community's newest reading; `ageMs` is that distance in data time. At a quiet moment the non-stale meters sum to " +
          "the community's aggregate to the watt.",
        tags: ["communities"],
        parameters: [{ $ref: "#/components/parameters/CommunityId" }, { $ref: "#/components/parameters/MeterSort" }, { $ref: "#/components/parameters/Limit" }],
        responses: {
          "200": { description: "The community's meters in `sort` order, at most `limit` of them", content: json(ref("MeterList")) },
          "400": error("The id, or a parameter (sort, limit; an unknown or repeated one) is invalid; the message names it"),
          "404": error("The aggregator has stored no meter of the community yet"),
          "503": { $ref: "#/components/responses/Upstream" },
        },
      },
    },
    "/communities/{communityId}/meters/{meterId}/history": {
      get: {
        operationId: "getMeterHistory",
        summary: "One meter's energy per bucket of data time, from the archive of readings (issue 23)",
        description:
          "The meter's archived readings (`ecwatch archive`) integrated by the aggregator's rule of validity, as a one-meter community: the same query, " +
          "buckets and fields as the community's history (`sharedWh` is what the meter's own export and import match within a quarter hour). A bucket is " +
          "`complete` once it ended before the meter's energy is final in the archive: its readings within their grace are in, judged by the community's " +
          "newest archived reading; `late` is always 0 (the archive holds a reading that came late in its place). JSON, or CSV with `Accept: text/csv`.",
        tags: ["energy"],
        parameters: [
          { $ref: "#/components/parameters/CommunityId" },
          { $ref: "#/components/parameters/MeterId" },
          { $ref: "#/components/parameters/From" },
          { $ref: "#/components/parameters/To" },
          { $ref: "#/components/parameters/Step" },
          { $ref: "#/components/parameters/Tz" },
        ],
        responses: {
          "200": {
            description: "The buckets with energy, oldest first",
            content: { ...json({ type: "array", items: ref("EnergyBucket") }), "text/csv": { schema: { type: "string" } } },
          },
          "400": error("An id, or a parameter (from, to, step, tz; an unknown or repeated one; too many buckets) is invalid; the message names it"),
          "404": error("The archive holds no reading of the meter"),
          "503": error("The API has no archive of readings (`serve --archive-dir`), or none exists in its directory yet; the message says how to start one"),
        },
      },
    },
    "/healthz": {
      get: {
        operationId: "health",
        summary: "Whether NATS and Redis answer",
        tags: ["operations"],
        responses: {
          "200": { description: "Both answer", content: json(ref("Health")) },
          "503": { description: "One of them does not", content: json(ref("Health")) },
        },
      },
    },
    "/readyz": {
      get: {
        operationId: "ready",
        summary: "Readiness for traffic: NATS and Redis both answer",
        tags: ["operations"],
        responses: {
          "200": { description: "Ready", content: json(ref("Readiness")) },
          "503": { description: "Not ready; `down` and `error` name what is down", content: json(ref("Readiness")) },
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics of this API instance (text exposition format 0.0.4)",
        tags: ["operations"],
        responses: { "200": { description: "The metrics", content: { "text/plain": { schema: { type: "string" } } } } },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This description",
        tags: ["operations"],
        responses: { "200": { description: "The OpenAPI 3.1 document", content: json({ type: "object", required: ["openapi", "info", "paths"], properties: { openapi: { const: "3.1.0" }, info: { type: "object" }, paths: { type: "object" } } }) } },
      },
    },
  },
  components: {
    parameters: {
      CommunityId: { name: "communityId", in: "path", required: true, schema: { type: "string", pattern: ID_PATTERN }, example: "community1" },
      MeterId: { name: "meterId", in: "path", required: true, schema: { type: "string", pattern: ID_PATTERN }, description: "`_community` for the prototype's community-level readings", example: "meter017" },
      From: { name: "from", in: "query", required: false, description: "Start of data time: ISO-8601 with a zone, relative to now (`-24h`, `-90m`, `-7d`) or `now`; default `-24h`", schema: { type: "string" }, example: "-24h" },
      To: { name: "to", in: "query", required: false, description: "End of data time (exclusive), as `from`; default `now`", schema: { type: "string" }, example: "now" },
      Step: { name: "step", in: "query", required: false, description: "Bucket size; default `15m` (the settlement interval)", schema: { enum: ["1m", "15m", "1h", "1d"] } },
      Period: { name: "period", in: "query", required: false, description: "Default `today`", schema: { enum: ["today", "24h", "7d"] } },
      MeterSort: {
        name: "sort",
        in: "query",
        required: false,
        description: `\`net\`: importers first (lowest net power); \`-net\`: exporters first; \`stale\`: stale meters first, longest silent first; \`id\`. Ties by id. Default \`${DEFAULT_METER_SORT}\``,
        schema: { enum: [...METER_SORTS] },
      },
      Limit: { name: "limit", in: "query", required: false, description: `At most this many meters (after sorting); default ${MAX_METER_LIMIT}`, schema: { type: "integer", minimum: 1, maximum: MAX_METER_LIMIT } },
      Tz: { name: "tz", in: "query", required: false, description: "IANA time zone of hours and days (and of `today`); default `UTC`", schema: { type: "string" }, example: "Europe/Berlin" },
    },
    responses: {
      BadId: error("The community id does not match [A-Za-z0-9_-]{1,64}"),
      Upstream: error("NATS or Redis failed"),
      UpstreamOrForeign: {
        ...error("NATS or Redis failed; or the stored value was written by another writer, not ecwatch's aggregator (e.g. the prototype's aggregator running beside it), and is restored within seconds"),
        headers: { "retry-after": { description: "1 when another writer's value was found: ask again then", schema: { type: "integer" } } },
      },
    },
    schemas: {
      Aggregate: {
        type: "object",
        description: "A community's totals, as stored in Redis and KV and pushed on the change feed",
        required: ["communityId", "genW", "conW", "netW", "meters", "stale", "measuredAt", "aggregatedAt", "version", "epoch"],
        additionalProperties: false,
        properties: {
          communityId: { type: "string" },
          genW: { type: "number", description: "Generation, W" },
          conW: { type: "number", description: "Consumption, W" },
          netW: { type: "number", description: "genW − conW: positive = surplus (export), negative = deficit (import)" },
          meters: { type: "integer", minimum: 0, description: "Meters included in the totals" },
          stale: { type: "integer", minimum: 0, description: "Meters left out because their newest reading is too old" },
          measuredAt: { type: "string", description: "Data time of the newest included reading (ISO-8601; empty for values of the reference prototype)" },
          aggregatedAt: { type: "string", description: "Wall-clock time the aggregate was computed (ISO-8601)" },
          version: { type: "integer", minimum: 0, description: "Increases with every change of the community, within its epoch; the SSE event id is `<epoch>:<version>`" },
          epoch: {
            type: "integer",
            minimum: 0,
            description: "New, and higher, on every reset of the community's state (`ecwatch reset`, `up --fresh`): the wall-clock ms at which the aggregator created it; 0 for state stored before epochs. A newer aggregate has a higher epoch, or the same epoch and a higher version",
          },
        },
      },
      EnergyBucket: {
        type: "object",
        description: "A community's energy and KPIs over one bucket of data time",
        required: [...BUCKET_FIELDS],
        additionalProperties: false,
        properties: BUCKET_PROPERTIES,
      },
      Kpis: {
        type: "object",
        description: "A community's energy and KPIs over a period",
        required: ["communityId", "period", "timeZone", ...BUCKET_FIELDS],
        additionalProperties: false,
        properties: {
          communityId: { type: "string" },
          period: { enum: ["today", "24h", "7d"] },
          timeZone: { type: "string" },
          ...BUCKET_PROPERTIES,
        },
      },
      MeterList: {
        type: "object",
        description: "A community's meters",
        required: ["communityId", "measuredAt", "count", "stale", "meters"],
        additionalProperties: false,
        properties: {
          communityId: { type: "string" },
          measuredAt: { type: "string", description: "The community's newest reading (data time, ISO-8601): the meters' age is measured from it" },
          count: { type: "integer", minimum: 1, description: "Meters of the community, before `limit`" },
          stale: { type: "integer", minimum: 0, description: "Stale meters of the community, before `limit`" },
          meters: { type: "array", items: ref("Meter") },
        },
      },
      Meter: {
        type: "object",
        description: "One meter's newest reading and its staleness",
        required: ["meterId", "genW", "conW", "netW", "measuredAt", "cadenceMs", "holdMs", "stale", "ageMs"],
        additionalProperties: false,
        properties: {
          meterId: { type: "string", description: "`_community` for the prototype's community-level readings" },
          genW: { type: "number", minimum: 0, description: "Generation, W" },
          conW: { type: "number", minimum: 0, description: "Consumption, W" },
          netW: { type: "number", description: "genW − conW: positive = export, negative = import" },
          measuredAt: { type: "string", description: "Data time of its newest reading (ISO-8601)" },
          cadenceMs: { anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }], description: "Its reporting interval: declared by its reading, or the median of its last 5 gaps; null while unknown" },
          holdMs: { type: "integer", minimum: 0, description: "How long its newest reading holds after its measuredAt" },
          stale: { type: "boolean", description: "Its newest reading no longer holds: it is left out of the community's totals" },
          ageMs: { type: "integer", minimum: 0, description: "Data time from its newest reading to the community's newest reading" },
        },
      },
      CommunityReading: {
        type: "object",
        required: ["communityId", "genW", "conW"],
        properties: {
          communityId: { type: "string", pattern: ID_PATTERN },
          genW: { type: "number", minimum: 0, maximum: MAX_WATTS },
          conW: { type: "number", minimum: 0, maximum: MAX_WATTS },
          measuredAt: { type: "string", description: "ISO-8601 with a zone, at most 5 minutes ahead; default: the time of arrival" },
          intervalMs: { type: "integer", minimum: 1, maximum: MAX_INTERVAL_MS, description: "The reporting interval of the source, when it declares one (else its cadence is learned from its readings)" },
          averaged: { type: "boolean", description: "true: genW/conW are the mean power over the intervalMs ending at measuredAt, as gateway values are; needs intervalMs" },
        },
      },
      Published: {
        type: "object",
        required: ["status", "subject", "seq"],
        additionalProperties: false,
        properties: {
          status: { const: "published" },
          subject: { type: "string", description: "The subject it was published on, `ec.<communityId>.net`" },
          seq: { type: "integer", minimum: 1, description: "Its sequence number in the stream" },
        },
      },
      Health: {
        type: "object",
        required: ["status", "nats", "redis"],
        additionalProperties: false,
        properties: { status: { enum: ["ok", "degraded"] }, nats: { type: "boolean" }, redis: { type: "boolean" } },
      },
      Readiness: {
        type: "object",
        required: ["status", "nats", "redis", "down"],
        additionalProperties: false,
        properties: {
          status: { enum: ["ready", "not ready"] },
          nats: { type: "boolean" },
          redis: { type: "boolean" },
          down: { type: "array", items: { enum: ["nats", "redis"] }, uniqueItems: true },
          error: { type: "string", description: "When not ready: which of them is down" },
        },
      },
      Error: {
        type: "object",
        required: ["error"],
        additionalProperties: false,
        properties: { error: { type: "string", description: "One sentence saying what is wrong" } },
      },
    },
  },
} as const satisfies OpenApiDocument;
