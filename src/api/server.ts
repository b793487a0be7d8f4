import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { idProblem } from "../domain/ids.js";
import { aheadProblem, parseCommunityReading, parseJson } from "../domain/reading.js";
import { BUCKET_FIELDS, bucketJson, parseHistoryQuery, parseKpiQuery, toCsv } from "../energy/history-query.js";
import { widenedSpan } from "../energy/history-store.js";
import { READINGS_AROUND, meterHistory } from "../energy/meter-history.js";
import { type MeterListJson, meterJson, meterList, parseMetersQuery, sortMeters } from "../energy/meter-list.js";
import { DEFAULT_STALE_AFTER_MS } from "../energy/validity.js";
import { UpstreamError } from "../errors.js";
import { type Listening, listen } from "../http/listen.js";
import { parseLastEventId } from "../wire/sse-event-id.js";
import { type ApiAccess, accessGuard } from "./access.js";
import { answerClientError, answerConnect } from "./client-error.js";
import { ForeignValueError } from "./foreign-value.js";
import { HttpError, pathSegments, readBody, sendCsv, sendJson, wantsCsv } from "./http.js";
import type { ApiObserver, MetricsSource } from "./observer.js";
import { OPENAPI } from "./openapi.js";
import type { EnergyHistory, LatestAggregates, MeterReadings, MeterSnapshots, Readiness, ReadingPublisher } from "./ports.js";
import { concretePath, matchRoute, ROUTES, routeOf, type RoutePath } from "./routes.js";
import { RECONNECT_HINT, SseClient } from "./sse.js";
import type { SseHub } from "./sse-hub.js";

export { MAX_BODY_BYTES } from "./http.js";
export { listen };
/** A running API (or any server of ours) and its URL. */
export type ApiServer = Listening;

/** Comment lines keep idle SSE connections open through proxies. */
const DEFAULT_HEARTBEAT_MS = 15_000;

/** The API's ports (src/api/ports.ts), and its options. */
export interface ApiDependencies {
  readonly latest: LatestAggregates;
  /** The SSE fan-out, fed by the change feed. */
  readonly hub: SseHub;
  readonly readings: ReadingPublisher;
  /** Health of the upstream connections, for /healthz and /readyz. */
  readonly readiness: Readiness;
  readonly now?: () => Date;
  /** What GET /metrics serves; without it, /metrics is a 404. */
  readonly metrics?: MetricsSource;
  /** Hooks for metrics and logs (see ApiObserver). */
  readonly observer?: ApiObserver;
  /** Token on writes, rate limit, CORS (issue 10); default: writes open, 100/s per client, CORS off. */
  readonly access?: ApiAccess;
  /** Energy history and KPIs (issue 11); without it, /history and /kpis are a 404. */
  readonly history?: EnergyHistory;
  /** How often an SSE client is sent a keep-alive comment; default 15 s. */
  readonly sseHeartbeatMs?: number;
  /** The aggregator's stored per-meter state (issue 23); without it, /meters is a 404. */
  readonly meters?: MeterSnapshots;
  /** The aggregator's `--stale-after`, with which /meters judges staleness and a meter's history integrates as the totals do; default 30 s. */
  readonly staleAfterMs?: number;
  /** The archive of readings (issue 22), for a meter's history (issue 23); without it, that history is a 503 saying how to give one. */
  readonly archive?: MeterReadings;
}

/** Answers one route and method; `communityId` and `meterId` are the path's, validated ("" for a route without one). */
type Handler = (req: IncomingMessage, res: ServerResponse, communityId: string, meterId: string) => Promise<void>;

/** A handler for every method of every route of ROUTES, checked by the compiler. */
type Handlers = { readonly [R in RoutePath as `${(typeof ROUTES)[R][number]} ${R}`]: Handler };

function checkId(value: string, field: "communityId" | "meterId" = "communityId"): string {
  const problem = idProblem(field, value);
  if (problem) throw new HttpError(400, problem);
  return value;
}

/** The prototype's REST + SSE API, fed by the change feed (no polling). */
export function createApi(deps: ApiDependencies): Server {
  const { latest, hub } = deps;
  const now = deps.now ?? (() => new Date());
  const guard = accessGuard(deps.access ?? {});

  async function publishReading(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req));
    if (!body.ok) throw new HttpError(400, body.error);
    const arrival = now();
    const reading = parseCommunityReading(body.value, arrival.toISOString());
    if (!reading.ok) throw new HttpError(400, reading.error);
    const ahead = aheadProblem(reading.value.measuredAt, arrival.getTime());
    if (ahead) throw new HttpError(400, ahead);
    const { subject, seq } = await deps.readings.publish(reading.value);
    sendJson(res, 200, { status: "published", subject, seq });
  }

  async function stream(req: IncomingMessage, res: ServerResponse, communityId: string): Promise<void> {
    const lastEventId = parseLastEventId(req.headers["last-event-id"]?.toString());
    // Close-delimited rather than chunked: each event goes out as it is, without chunk framing
    // (≈ 20 % less API CPU per delivered event with 1,000 clients: `npm run bench:sse-write`); an SSE
    // response ends with its connection anyway.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "close",
      "x-accel-buffering": "no",
    });
    res.write(RECONNECT_HINT);
    // Through the response, not straight to its socket: `res.write` corks the socket until the
    // next tick, so the events a client gets in one tick leave in one syscall (bench/README.md, row 17).
    const client = new SseClient(res, lastEventId, deps.observer?.onSseEvent);
    req.on("close", () => hub.leave(communityId, client));
    await hub.join(communityId, client);
    // Another writer's stored value is not sent (it would be `id: 0`): ecwatch's aggregator puts its
    // own back within seconds and announces it on the change feed, which this client now follows.
    const current = await latest.get(communityId).catch((err: unknown) => {
      if (err instanceof ForeignValueError) return undefined;
      throw err;
    });
    if (current) client.offerInitial(current.aggregate);
  }

  /** GET /communities/{id}/history and /kpis (issue 11): JSON, or CSV with `Accept: text/csv`. */
  async function energy(req: IncomingMessage, res: ServerResponse, communityId: string, leaf: "history" | "kpis"): Promise<void> {
    if (!deps.history) throw new HttpError(404, "energy history is off in this API");
    const params = new URLSearchParams((req.url ?? "").split("?").slice(1).join("?"));
    const nowMs = now().getTime();
    if (leaf === "history") {
      const query = parseHistoryQuery(params, nowMs);
      if (!query.ok) throw new HttpError(400, query.error);
      const { fromMs, toMs, step, timeZone } = query.value;
      const buckets = (await deps.history.history(communityId, fromMs, toMs, step, timeZone)).map(bucketJson);
      return wantsCsv(req) ? sendCsv(res, toCsv(buckets, BUCKET_FIELDS)) : sendJson(res, 200, buckets);
    }
    const query = parseKpiQuery(params);
    if (!query.ok) throw new HttpError(400, query.error);
    const { period, ...bucket } = await deps.history.kpis(communityId, query.value.period, nowMs, query.value.timeZone);
    const kpis = { communityId, period, timeZone: query.value.timeZone, ...bucketJson(bucket) };
    return wantsCsv(req) ? sendCsv(res, toCsv([kpis], ["communityId", "period", "timeZone", ...BUCKET_FIELDS])) : sendJson(res, 200, kpis);
  }

  /**
   * GET /communities/{id}/meters/{meterId}/history (issue 23): the meter's energy per bucket, integrated
   * from its archived readings by the aggregator's rule; the query as the community's history takes it.
   */
  async function meterEnergy(req: IncomingMessage, res: ServerResponse, communityId: string, meterId: string): Promise<void> {
    const query = parseHistoryQuery(new URLSearchParams((req.url ?? "").split("?").slice(1).join("?")), now().getTime());
    if (!query.ok) throw new HttpError(400, query.error);
    const { archive } = deps;
    if (!archive) throw new HttpError(503, "this API has no archive of readings: start it with `ecwatch serve --archive-dir <dir>`, the directory `ecwatch archive` writes");
    const { fromMs, toMs, step, timeZone } = query.value;
    const span = widenedSpan(fromMs, toMs, step, timeZone);
    const archived = await archive.around(communityId, meterId, { fromMs: span.startMs, toMs: span.endMs, ...READINGS_AROUND });
    if (!archived) throw new HttpError(503, `there is no archive of readings at ${archive.location} yet: run \`ecwatch archive --dir ${archive.location}\` beside the aggregator to keep them`);
    if (!archived.readings.length && !(await archive.has(communityId, meterId))) throw new HttpError(404, `meter ${meterId} of community ${communityId} has no reading in the archive`);
    const buckets = meterHistory(archived, span, step, timeZone, deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS).map(bucketJson);
    return wantsCsv(req) ? sendCsv(res, toCsv(buckets, BUCKET_FIELDS)) : sendJson(res, 200, buckets);
  }

  /** GET /communities/{id}/meters (issue 23): each meter's newest reading and staleness, from the aggregator's stored state. */
  async function meters(req: IncomingMessage, res: ServerResponse, communityId: string): Promise<void> {
    if (!deps.meters) throw new HttpError(404, "the meter list is off in this API");
    const query = parseMetersQuery(new URLSearchParams((req.url ?? "").split("?").slice(1).join("?")));
    if (!query.ok) throw new HttpError(400, query.error);
    const list = meterList(await deps.meters.ofCommunity(communityId), deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
    if (!list) throw new HttpError(404, `community ${communityId} has no meters yet`);
    const body: MeterListJson = {
      communityId,
      measuredAt: new Date(list.measuredAtMs).toISOString(),
      count: list.rows.length,
      stale: list.rows.filter((row) => row.stale).length,
      meters: sortMeters(list.rows, query.value.sort, query.value.limit).map(meterJson),
    };
    sendJson(res, 200, body);
  }

  const handlers: Handlers = {
    "GET /healthz": async (_req, res) => {
      const health = await deps.readiness.upstreams();
      const ok = health.nats && health.redis;
      sendJson(res, ok ? 200 : 503, { status: ok ? "ok" : "degraded", ...health });
    },
    /** Ready to take traffic when NATS and Redis both answer; a 503 names what is down. */
    "GET /readyz": async (_req, res) => {
      const health = await deps.readiness.upstreams();
      const down = (["nats", "redis"] as const).filter((name) => !health[name]);
      if (!down.length) return sendJson(res, 200, { status: "ready", ...health, down });
      sendJson(res, 503, { status: "not ready", ...health, down, error: `not ready: ${down.join(" and ")} ${down.length > 1 ? "are" : "is"} down` });
    },
    "GET /openapi.json": async (_req, res) => sendJson(res, 200, OPENAPI),
    "GET /metrics": async (_req, res) => {
      if (!deps.metrics) throw new HttpError(404, "metrics are off in this API");
      const text = await deps.metrics.metrics();
      res.writeHead(200, { "content-type": deps.metrics.contentType, "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
    "GET /communities": async (_req, res) => sendJson(res, 200, await latest.all()),
    "POST /communities": publishReading,
    "GET /communities/{communityId}": async (_req, res, communityId) => {
      const found = await latest.get(communityId);
      if (!found) throw new HttpError(404, `community ${communityId} has no data yet`);
      sendJson(res, 200, found.aggregate, { "x-ecwatch-source": found.source });
    },
    "GET /communities/{communityId}/stream": stream,
    "GET /communities/{communityId}/history": (req, res, communityId) => energy(req, res, communityId, "history"),
    "GET /communities/{communityId}/kpis": (req, res, communityId) => energy(req, res, communityId, "kpis"),
    "GET /communities/{communityId}/meters": meters,
    "GET /communities/{communityId}/meters/{meterId}/history": meterEnergy,
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const segments = pathSegments(req.url ?? "/");
    const method = req.method ?? "GET";
    const match = matchRoute(segments);
    if (!match) {
      // Under /communities/{id}, a bad id is named before the leaves there are.
      if (segments[0] === "communities" && segments.length === 3) {
        checkId(segments[1]!);
        throw new HttpError(404, "no such endpoint; see GET /communities/{id}, /communities/{id}/stream, /history, /kpis and /meters");
      }
      throw new HttpError(404, "no such endpoint; see GET /communities");
    }
    if (match.communityId !== undefined) checkId(match.communityId);
    if (match.meterId !== undefined) checkId(match.meterId, "meterId");
    const methods: readonly string[] = ROUTES[match.route];
    if (!methods.includes(method)) throw new HttpError(405, `use ${methods.join(" or ")} on ${concretePath(match)}`, { allow: methods.join(", ") });
    return handlers[`${method} ${match.route}` as keyof Handlers](req, res, match.communityId ?? "", match.meterId ?? "");
  }

  const server = createServer((req, res) => {
    const { onResponse } = deps.observer ?? {};
    if (onResponse) res.once("close", () => onResponse(req.method ?? "GET", routeOf(req.url ?? "/"), res.statusCode));
    if (guard(req, res)) return;
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err instanceof HttpError) {
        if (err.status === 413) res.setHeader("connection", "close");
        return sendJson(res, err.status, { error: err.message }, err.headers);
      }
      // NATS or Redis failing is the upstream's fault (503): the adapters say so by type; anything else is ours (500).
      const upstream = err instanceof UpstreamError;
      deps.observer?.onServerError?.(err, upstream ? 503 : 500);
      sendJson(res, upstream ? 503 : 500, { error: `${upstream ? "upstream failure" : "internal error"}: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
  const heartbeat = setInterval(() => hub.forEachClient((c) => c.heartbeat()), deps.sseHeartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();
  server.on("close", () => clearInterval(heartbeat));
  server.on("clientError", answerClientError);
  server.on("connect", answerConnect);
  return server;
}
