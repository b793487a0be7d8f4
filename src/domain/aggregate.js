export function netWatts(genW, conW) {
    return genW - conW;
}
/** Reads an aggregate from JSON written by ecwatch or by the reference prototype (which lacks most fields). */
export function aggregateFromJson(text) {
    let value;
    try {
        value = JSON.parse(text);
    }
    catch {
        return undefined;
    }
    if (typeof value !== "object" || value === null)
        return undefined;
    const v = value;
    if (typeof v.genW !== "number" || typeof v.conW !== "number")
        return undefined;
    return {
        communityId: typeof v.communityId === "string" ? v.communityId : "",
        genW: v.genW,
        conW: v.conW,
        netW: typeof v.netW === "number" ? v.netW : netWatts(v.genW, v.conW),
        meters: typeof v.meters === "number" ? v.meters : 1,
        stale: typeof v.stale === "number" ? v.stale : 0,
        measuredAt: typeof v.measuredAt === "string" ? v.measuredAt : "",
        aggregatedAt: typeof v.aggregatedAt === "string" ? v.aggregatedAt : "",
        version: typeof v.version === "number" ? v.version : 0,
    };
}
