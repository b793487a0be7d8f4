import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JetStreamClient } from "@nats-io/jetstream";
import { communityReadingSubject } from "../wire/names.js";
import { idProblem } from "../domain/ids.js";
import { aheadProblem, parseCommunityReading, parseJson } from "../domain/reading.js";
import { BUCKET_FIELDS, bucketJson, parseHistoryQuery, parseKpiQuery, toCsv } from "../energy/history-query.js";
import type { HistoryStore } from "../energy/history-store.js";
import { type ApiAccess, accessGuard } from "./access.js";
import { answerClientError, answerConnect } from "./client-error.js";
import type { LatestStore } from "./latest-store.js";
import type { ApiObserver, MetricsSource } from "./observer.js";
import { OPENAPI } from "./openapi.js";
import { OPS_ENDPOINTS, routeOf } from "./routes.js";
import { SseClient } from "./sse.js";
import type { SseHub } from "./sse-hub.js";

/** Largest POST body accepted; a reading is ~100 bytes. */
export const MAX_BODY_BYTES = 16 * 1024;
/** Comment lines keep idle SSE connections open through proxies. */
const HEARTBEAT_MS = 15_000;

export interface ApiDependencies {
  readonly store: LatestStore;
  readonly hub: SseHub;
  readonly js: JetStreamClient;
  /** Health of the upstream connections, for /healthz and /readyz. */
  readonly health: () => Promise<{ nats: boolean; redis: boolean }>;
  readonly now?: () => Date;
  /** What GET /metrics serves; without it, /metrics is a 404. */
  readonly metrics?: MetricsSource;
  /** Hooks for metrics and logs (see ApiObserver). */
  readonly observer?: ApiObserver;
  /** Token on writes, rate limit, CORS (issue 10); default: writes open, 100/s per client, CORS off. */
  readonly access?: ApiAccess;
  /** Energy history and KPIs (issue 11); without it, /history and /kpis are a 404. */
  readonly history?: HistoryStore;
}

export interface ApiServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Methods allowed, for the Allow header of a 405. */
    readonly allow?: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Splits the path into decoded segments; a malformed escape is the client's error. */
function pathSegments(url: string): string[] {
  const path = url.split("?")[0] ?? "/";
  try {
    return path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, "the path contains a malformed %-escape");
  }
}

/** The leaves under /communities/{id}. */
const COMMUNITY_LEAVES: readonly string[] = ["stream", "history", "kpis"];

/** Whether the client asks for CSV rather than JSON (`Accept: text/csv`). */
function wantsCsv(req: IncomingMessage): boolean {
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(String(req.headers.accept ?? ""));
}

function sendCsv(res: ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": "text/csv; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function checkId(value: string): string {
  const problem = idProblem("communityId", value);
  if (problem) throw new HttpError(400, problem);
  return value;
}

/** The prototype's REST + SSE API, fed by the change feed (no polling). */
export function createApi(deps: ApiDependencies): Server {
  const { store, hub, js } = deps;
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
    const subject = communityReadingSubject(reading.value.communityId);
    const ack = await js.publish(subject, JSON.stringify(reading.value));
    sendJson(res, 200, { status: "published", subject, seq: ack.seq });
  }

  async function stream(req: IncomingMessage, res: ServerResponse, communityId: string): Promise<void> {
    const lastEventId = Number.parseInt(String(req.headers["last-event-id"] ?? ""), 10);
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
    res.write("retry: 1000\n\n");
    const client = new SseClient(res, Number.isSafeInteger(lastEventId) ? lastEventId : undefined, deps.observer?.onSseEvent);
    req.on("close", () => hub.leave(communityId, client));
    await hub.join(communityId, client);
    const current = await store.get(communityId);
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

  /** Ready to take traffic when NATS and Redis both answer; a 503 names what is down. */
  async function ready(res: ServerResponse): Promise<void> {
    const health = await deps.health();
    const down = (["nats", "redis"] as const).filter((name) => !health[name]);
    if (!down.length) return sendJson(res, 200, { status: "ready", ...health, down });
    sendJson(res, 503, { status: "not ready", ...health, down, error: `not ready: ${down.join(" and ")} ${down.length > 1 ? "are" : "is"} down` });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const segments = pathSegments(req.url ?? "/");
    const method = req.method ?? "GET";
    const [root, id, leaf, ...rest] = segments;

    if (segments.length === 1 && OPS_ENDPOINTS.includes(root!)) {
      if (method !== "GET") throw new HttpError(405, `use GET on /${root}`, "GET");
      if (root === "healthz") {
        const health = await deps.health();
        const ok = health.nats && health.redis;
        return sendJson(res, ok ? 200 : 503, { status: ok ? "ok" : "degraded", ...health });
      }
      if (root === "readyz") return ready(res);
      if (root === "openapi.json") return sendJson(res, 200, OPENAPI);
      if (!deps.metrics) throw new HttpError(404, "metrics are off in this API");
      const text = await deps.metrics.metrics();
      res.writeHead(200, { "content-type": deps.metrics.contentType, "content-length": Buffer.byteLength(text) });
      return void res.end(text);
    }
    if (root !== "communities" || rest.length) throw new HttpError(404, "no such endpoint; see GET /communities");
    if (id === undefined) {
      if (method === "GET") return sendJson(res, 200, await store.all());
      if (method === "POST") return publishReading(req, res);
      throw new HttpError(405, "use GET or POST on /communities", "GET, POST");
    }
    const communityId = checkId(id);
    if (leaf !== undefined && !COMMUNITY_LEAVES.includes(leaf)) throw new HttpError(404, "no such endpoint; see GET /communities/{id}, /communities/{id}/stream, /history and /kpis");
    if (method !== "GET") throw new HttpError(405, `use GET on /communities/${communityId}${leaf ? `/${leaf}` : ""}`, "GET");
    if (leaf === "stream") return stream(req, res, communityId);
    if (leaf === "history" || leaf === "kpis") return energy(req, res, communityId, leaf);
    const found = await store.get(communityId);
    if (!found) throw new HttpError(404, `community ${communityId} has no data yet`);
    sendJson(res, 200, found.aggregate, { "x-ecwatch-source": found.source });
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
        return sendJson(res, err.status, { error: err.message }, err.allow ? { allow: err.allow } : {});
      }
      // NATS or Redis failing is the upstream's fault (503); anything else is ours (500).
      const upstream = err instanceof Error && /nats|redis|jetstream|connection|timeout/i.test(`${err.name} ${err.message}`);
      deps.observer?.onServerError?.(err, upstream ? 503 : 500);
      sendJson(res, upstream ? 503 : 500, { error: `${upstream ? "upstream failure" : "internal error"}: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
  const heartbeat = setInterval(() => hub.forEachClient((c) => c.heartbeat()), HEARTBEAT_MS);
  heartbeat.unref();
  server.on("close", () => clearInterval(heartbeat));
  server.on("clientError", answerClientError);
  server.on("connect", answerConnect);
  return server;
}

/** Listens and resolves with the URL; rejects with the listen error (e.g. EADDRINUSE). */
export async function listen(server: Server, host: string, port: number): Promise<ApiServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
