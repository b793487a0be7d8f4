/**
 * The state of a followed stream of aggregates, reported as data (the API client's SSE
 * follower emits it; the monitor and the wear-emu relay show it).
 */
export type FollowStatus =
  | { readonly state: "connecting"; readonly url: string }
  | { readonly state: "live" }
  | { readonly state: "reconnecting"; readonly inMs: number; readonly reason: string }
  | { readonly state: "failed"; readonly reason: string };
