import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import type { FollowStatus } from "../domain/follow-status.js";
import type { BucketJson, KpiPeriod } from "../energy/history-query.js";
import type { MeterListJson } from "../energy/meter-list.js";
import { ApiClientError, ApiClientErrorCode, errorDetail } from "./api-client-error.js";
import { type Follower, followStream } from "./follow.js";
import { type Kpis, kpisFromJson } from "./kpis.js";

export interface ApiClientOptions {
  /** Where the API answers, e.g. `http://127.0.0.1:8000`; trailing slashes are ignored. */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` with every request. Default: none (reads are open). */
  readonly token?: string;
  /** How long a request may take before it fails as unreachable; null: no limit. Default 5,000 ms. */
  readonly timeoutMs?: number | null;
}

export interface RequestOptions {
  /** This request's own limit instead of the client's; null: no limit. */
  readonly timeoutMs?: number | null;
}

/** A request of history: the community's, or one of its meters' (GET /communities/{id}/meters/{meterId}/history). */
export interface HistoryRequest extends RequestOptions {
  readonly meterId?: string;
}

/** An answer of /healthz or /readyz: a 503 is an answer too (degraded), not an error. */
export interface HealthAnswer {
  readonly status: number;
  readonly body: string;
}

/** The query of GET /communities/{id}/kpis; the API's defaults are period=today, tz=UTC. */
export interface KpisQuery {
  readonly period?: KpiPeriod;
  /** IANA zone whose calendar day counts. */
  readonly timeZone?: string;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The one client of ecwatch's own REST/SSE API (GET /communities…, /healthz, /readyz, the SSE
 * stream). Failures are ApiClientErrors with a code, the status and the network error as cause.
 */
export class ApiClient {
  /** The base URL without trailing slashes. */
  readonly baseUrl: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number | null;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : options.timeoutMs;
  }

  /** The community's latest aggregate (GET /communities/{id}). */
  async latest(communityId: string, options?: RequestOptions): Promise<Aggregate> {
    const { url, status, text } = await this.get(communityPath(communityId), undefined, options);
    const aggregate = aggregateFromJson(text);
    if (!aggregate) throw badBody(url, status, "an aggregate");
    return aggregate;
  }

  /** The ids of the communities the API has a value of (GET /communities), as listed. */
  async communityIds(options?: RequestOptions): Promise<string[]> {
    const { url, status, text } = await this.get("/communities", undefined, options);
    const body = parseJson(text);
    if (!Array.isArray(body)) throw badBody(url, status, "a list");
    return body.flatMap((a: { communityId?: unknown }) => (typeof a?.communityId === "string" ? [a.communityId] : []));
  }

  /** Energy buckets of GET /communities/{id}/history, or of a meter's; `params` as the API takes them (from, to, step, tz). */
  async history(communityId: string, params: URLSearchParams, options?: HistoryRequest): Promise<BucketJson[]> {
    const { url, status, text } = await this.get(`${historyPath(communityId, options?.meterId)}?${params}`, "application/json", options);
    const body = parseJson(text);
    if (!Array.isArray(body)) throw badBody(url, status, "a list of buckets");
    return body as BucketJson[];
  }

  /** The same as CSV text, as the API writes it. */
  async historyCsv(communityId: string, params: URLSearchParams, options?: HistoryRequest): Promise<string> {
    return (await this.get(`${historyPath(communityId, options?.meterId)}?${params}`, "text/csv", options)).text;
  }

  /** Each meter of a community (GET /communities/{id}/meters); `params` as the API takes them (sort, limit). */
  async meters(communityId: string, params: URLSearchParams, options?: RequestOptions): Promise<MeterListJson> {
    const { url, status, text } = await this.get(`${communityPath(communityId)}/meters?${params}`, undefined, options);
    const body = parseJson(text) as Partial<MeterListJson> | undefined;
    if (!body || !Array.isArray(body.meters)) throw badBody(url, status, "a list of meters");
    return body as MeterListJson;
  }

  /** Energy and KPIs of a period (GET /communities/{id}/kpis). */
  async kpis(communityId: string, query: KpisQuery = {}, options?: RequestOptions): Promise<Kpis> {
    const params = new URLSearchParams();
    if (query.period) params.set("period", query.period);
    if (query.timeZone) params.set("tz", query.timeZone);
    const { url, status, text } = await this.get(`${communityPath(communityId)}/kpis?${params}`, undefined, options);
    const kpis = kpisFromJson(parseJson(text));
    if (!kpis) throw badBody(url, status, "KPIs");
    return kpis;
  }

  /** GET /healthz: is the API alive and its NATS and Redis reachable. */
  healthz(options?: RequestOptions): Promise<HealthAnswer> {
    return this.probe("/healthz", options);
  }

  /** GET /readyz: may the API take traffic. */
  readyz(options?: RequestOptions): Promise<HealthAnswer> {
    return this.probe("/readyz", options);
  }

  /**
   * Follows the community's SSE stream: reconnects with back-off, resumes with Last-Event-ID,
   * reports its state through `onStatus`; a 4xx other than 404/429 is final.
   */
  follow(communityId: string, onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void): Follower {
    const url = new URL(`communities/${encodeURIComponent(communityId)}/stream`, `${this.baseUrl}/`).toString();
    return followStream(url, this.headers, onAggregate, onStatus);
  }

  private async probe(path: string, options: RequestOptions | undefined): Promise<HealthAnswer> {
    const response = await this.send(path, undefined, options);
    return { status: response.status, body: await response.text().catch(() => "") };
  }

  /** A GET whose answer must be 2xx; its body as text. */
  private async get(path: string, accept: string | undefined, options: RequestOptions | undefined): Promise<{ url: string; status: number; text: string }> {
    const response = await this.send(path, accept, options);
    const url = `${this.baseUrl}${path}`;
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw new ApiClientError(ApiClientErrorCode.Unreachable, `The answer of GET ${url} broke off.`, { url, status: response.status, cause: err });
    }
    if (!response.ok) {
      const detail = errorDetail(text);
      throw new ApiClientError(ApiClientErrorCode.Status, `GET ${url} answered ${response.status}: ${detail}`, { url, status: response.status, detail });
    }
    return { url, status: response.status, text };
  }

  private async send(path: string, accept: string | undefined, options: RequestOptions | undefined): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    const timeoutMs = options?.timeoutMs === undefined ? this.timeoutMs : options.timeoutMs;
    try {
      return await fetch(url, {
        headers: { ...(accept && { accept }), ...this.headers },
        ...(timeoutMs !== null && { signal: AbortSignal.timeout(timeoutMs) }),
      });
    } catch (err) {
      // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, …). A timeout has no cause.
      const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
      throw new ApiClientError(ApiClientErrorCode.Unreachable, `Cannot reach the API at ${URL.canParse(url) ? new URL(url).origin : url}.`, { url, cause });
    }
  }
}

const communityPath = (communityId: string): string => `/communities/${encodeURIComponent(communityId)}`;
const historyPath = (communityId: string, meterId: string | undefined): string =>
  `${communityPath(communityId)}${meterId === undefined ? "" : `/meters/${encodeURIComponent(meterId)}`}/history`;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function badBody(url: string, status: number, expected: string): ApiClientError {
  return new ApiClientError(ApiClientErrorCode.BadBody, `The answer of GET ${url} is not ${expected}.`, { url, status });
}
