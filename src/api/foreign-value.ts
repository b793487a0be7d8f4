import { HttpError } from "./http.js";

/** How soon a client may ask again: the aggregator restores its own value within a second or two (issue 18). */
const FOREIGN_RETRY_AFTER_SECONDS = 1;

/**
 * The records hold a value another writer put there (e.g. the prototype's aggregator running
 * beside ecwatch). A 503 with Retry-After rather than the value: serving it as ecwatch's would
 * give clients `version: 0` and an empty `aggregatedAt` (issue 18), and a 404 would say the
 * community has no data. It is transient — ecwatch's aggregator puts its own value back within
 * seconds — which is what 503 + Retry-After tells clients and proxies.
 */
export class ForeignValueError extends HttpError {
  constructor(readonly communityIds: readonly string[]) {
    super(
      503,
      `${communityIds.length === 1 ? `community ${communityIds[0]}'s stored value was` : `the stored values of communities ${communityIds.join(", ")} were`} written by another writer, not ecwatch's aggregator; ${communityIds.length === 1 ? "it is" : "they are"} restored within seconds`,
      { "retry-after": String(FOREIGN_RETRY_AFTER_SECONDS) },
    );
  }
}
