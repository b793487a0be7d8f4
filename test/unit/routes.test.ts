import { describe, expect, it } from "vitest";
import { concretePath, matchRoute, routeOf } from "../../src/api/routes.js";

describe("routeOf", () => {
  it.each([
    ["/communities", "/communities"],
    ["/communities/", "/communities"],
    ["/communities?x=1", "/communities"],
    ["/communities/c1", "/communities/{communityId}"],
    ["/communities/a.b", "/communities/{communityId}"],
    ["/communities/a%2Fb/stream", "/communities/{communityId}/stream"],
    ["/communities/c1/stream", "/communities/{communityId}/stream"],
    ["/communities/c1/history?step=1h", "/communities/{communityId}/history"],
    ["/communities/c1/kpis", "/communities/{communityId}/kpis"],
    ["/communities/c1/history/more", "unmatched"],
    ["/communities/c1/meters/m1/history?step=1h", "/communities/{communityId}/meters/{meterId}/history"],
    ["/communities/c1/meters/m1", "unmatched"],
    ["/communities/c1/meters/m1/history/more", "unmatched"],
    ["/healthz", "/healthz"],
    ["/readyz", "/readyz"],
    ["/metrics", "/metrics"],
    ["/openapi.json", "/openapi.json"],
    ["/", "unmatched"],
    ["/communities/c1/other", "unmatched"],
    ["/communities/c1/stream/more", "unmatched"],
    ["/healthz/more", "unmatched"],
    ["/%zz", "unmatched"],
  ])("labels %s as %s", (url, route) => {
    expect(routeOf(url)).toBe(route);
  });
});

describe("matchRoute", () => {
  it("takes the community and the meter id from a meter's path, and concretePath puts them back", () => {
    const match = matchRoute(["communities", "c1", "meters", "m7", "history"]);
    expect(match).toEqual({ route: "/communities/{communityId}/meters/{meterId}/history", communityId: "c1", meterId: "m7" });
    expect(concretePath(match!)).toBe("/communities/c1/meters/m7/history");
  });
});
