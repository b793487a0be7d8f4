/**
 * The API's route table (the only one): path templates (OpenAPI's notation) and the methods each
 * takes. The router answers exactly these, request metrics are labelled with them, and the
 * OpenAPI test checks that the document lists the same (issue 10).
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
  "/communities/{communityId}/meters": ["GET"],
  "/communities/{communityId}/meters/{meterId}/history": ["GET"],
} as const satisfies Record<string, readonly string[]>;

export type RoutePath = keyof typeof ROUTES;

/** The label of a request whose path matches no route (a bounded label set, whatever clients send). */
export const UNMATCHED_ROUTE = "unmatched";

const ID_PARAM = "{communityId}";
const METER_PARAM = "{meterId}";
const TEMPLATES = (Object.keys(ROUTES) as RoutePath[]).map((route) => ({ route, segments: route.split("/").filter(Boolean) }));

/** A request's route, with the community and meter ids of its path if the route has them (not yet validated). */
export interface RouteMatch {
  readonly route: RoutePath;
  readonly communityId?: string;
  readonly meterId?: string;
}

/** The route whose template the path segments fill, segment by segment; undefined for none. */
export function matchRoute(segments: readonly string[]): RouteMatch | undefined {
  for (const { route, segments: template } of TEMPLATES) {
    if (template.length !== segments.length) continue;
    const ids: { communityId?: string; meterId?: string } = {};
    const fills = (part: string, i: number): boolean => {
      if (part === ID_PARAM) ids.communityId = segments[i];
      else if (part === METER_PARAM) ids.meterId = segments[i];
      else return part === segments[i];
      return true;
    };
    if (template.every(fills)) return { route, ...ids };
  }
  return undefined;
}

/** The path of a route with its ids filled in (`/communities/c1/stream`). */
export function concretePath(match: RouteMatch): string {
  let path: string = match.route;
  if (match.communityId !== undefined) path = path.replace(ID_PARAM, match.communityId);
  if (match.meterId !== undefined) path = path.replace(METER_PARAM, match.meterId);
  return path;
}

/**
 * The route template of a request URL (`/communities/c1/stream` → `/communities/{communityId}/stream`),
 * whatever its method and whether the id is valid; `unmatched` for any other path. Segments are
 * split as the router splits them (empty ones dropped), before any %-decoding.
 */
export function routeOf(url: string): RoutePath | typeof UNMATCHED_ROUTE {
  return matchRoute((url.split("?")[0] ?? "").split("/").filter(Boolean))?.route ?? UNMATCHED_ROUTE;
}
