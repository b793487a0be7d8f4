/**
 * The API's routes: path templates (OpenAPI's notation) and the methods each takes. The
 * router answers exactly these, request metrics are labelled with them, and the OpenAPI test
 * checks that the document lists the same (issue 10).
 */
export const ROUTES = {
  "/healthz": ["GET"],
  "/readyz": ["GET"],
  "/metrics": ["GET"],
  "/openapi.json": ["GET"],
  "/communities": ["GET", "POST"],
  "/communities/{communityId}": ["GET"],
  "/communities/{communityId}/stream": ["GET"],
  "/communities/{communityId}/history": ["GET"],
  "/communities/{communityId}/kpis": ["GET"],
} as const satisfies Record<string, readonly string[]>;

export type RoutePath = keyof typeof ROUTES;

/** The label of a request whose path matches no route (a bounded label set, whatever clients send). */
export const UNMATCHED_ROUTE = "unmatched";

/** The endpoints of one segment that only answer GET: health, readiness, metrics and the description. */
export const OPS_ENDPOINTS: readonly string[] = ["healthz", "readyz", "metrics", "openapi.json"];

/**
 * The route template of a request URL (`/communities/c1/stream` → `/communities/{communityId}/stream`),
 * whatever its method and whether the id is valid; `unmatched` for any other path. Segments are
 * split as the router splits them (empty ones dropped), before any %-decoding.
 */
export function routeOf(url: string): RoutePath | typeof UNMATCHED_ROUTE {
  const segments = (url.split("?")[0] ?? "").split("/").filter(Boolean);
  const [root, id, leaf] = segments;
  if (segments.length === 1 && OPS_ENDPOINTS.includes(root!)) return `/${root}` as RoutePath;
  if (root !== "communities" || segments.length > 3) return UNMATCHED_ROUTE;
  if (id === undefined) return "/communities";
  if (leaf === undefined) return "/communities/{communityId}";
  return leaf === "stream" || leaf === "history" || leaf === "kpis" ? (`/communities/{communityId}/${leaf}` as RoutePath) : UNMATCHED_ROUTE;
}
