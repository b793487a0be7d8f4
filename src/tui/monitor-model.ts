import type { Aggregate } from "../domain/aggregate.js";

/** How the connection to a community's stream stands, as the follower reports it. */
export type LinkStatus = "connecting" | "live" | "reconnecting" | "failed";
/** What the user is shown: the link, or `stale` once the value is older than the watch trusts it. */
export type DisplayState = LinkStatus | "stale";

/** The watch treats a value as valid for one minute (design.md); so does the monitor. */
export const STALE_AFTER_MS = 60_000;
/** Net power kept for the sparkline: the last 5 minutes, in 60 slots of 5 s (the newest value of each). */
export const HISTORY_MS = 5 * 60_000;
export const HISTORY_SLOTS = 60;
const SLOT_MS = HISTORY_MS / HISTORY_SLOTS;

export interface CommunityView {
  readonly communityId: string;
  readonly link: LinkStatus;
  readonly aggregate?: Aggregate;
  /** Wall-clock ms when the displayed value last changed. */
  readonly changedAt?: number;
  /** Net power over the last HISTORY_MS, oldest first. */
  readonly history: ReadonlyArray<{ readonly atMs: number; readonly netW: number }>;
}

export function emptyView(communityId: string): CommunityView {
  return { communityId, link: "connecting", history: [] };
}

/** The view after a new aggregate arrived at `nowMs`. */
export function withAggregate(view: CommunityView, aggregate: Aggregate, nowMs: number): CommunityView {
  const changed = view.aggregate?.netW !== aggregate.netW || view.aggregate?.genW !== aggregate.genW || view.aggregate?.conW !== aggregate.conW;
  // The first value may be old already (a quiet community): its age counts from when it was computed.
  const aggregatedAt = Date.parse(aggregate.aggregatedAt);
  const firstSeen = Number.isFinite(aggregatedAt) ? Math.min(nowMs, aggregatedAt) : nowMs;
  const changedAt = view.changedAt === undefined ? firstSeen : changed ? nowMs : view.changedAt;
  return { ...view, link: "live", aggregate, changedAt, history: withPoint(view.history, nowMs, aggregate.netW) };
}

/** One point per 5-second slot (the newest replaces the slot's), so the history stays small at any update rate. */
function withPoint(history: CommunityView["history"], nowMs: number, netW: number): CommunityView["history"] {
  const recent = history.filter((point) => nowMs - point.atMs < HISTORY_MS);
  const last = recent.at(-1);
  if (last && Math.floor(last.atMs / SLOT_MS) === Math.floor(nowMs / SLOT_MS)) return [...recent.slice(0, -1), { atMs: nowMs, netW }];
  return [...recent, { atMs: nowMs, netW }];
}

export function withLink(view: CommunityView, link: LinkStatus): CommunityView {
  return view.link === link ? view : { ...view, link };
}

/** Stale wins over live: a live link that brings no change for a minute is still stale. */
export function displayState(view: CommunityView, nowMs: number): DisplayState {
  if (view.link === "live" && view.changedAt !== undefined && nowMs - view.changedAt > STALE_AFTER_MS) return "stale";
  if (view.link === "live" && !view.aggregate) return "connecting";
  return view.link;
}

/** "3s", "2m 05s", "1h 02m": how long ago, for the age of a reading. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

export const SORT_ORDERS = ["name", "deficit"] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** Communities by name (community2 before community10), or largest deficit first. */
export function sortViews(views: readonly CommunityView[], order: SortOrder): CommunityView[] {
  const byName = (a: CommunityView, b: CommunityView): number => a.communityId.localeCompare(b.communityId, undefined, { numeric: true });
  if (order === "name") return [...views].sort(byName);
  return [...views].sort((a, b) => (a.aggregate?.netW ?? 0) - (b.aggregate?.netW ?? 0) || byName(a, b));
}
