import { useEffect, useRef, useState } from "react";
import type { Aggregate } from "../domain/aggregate.js";
import type { FollowStatus } from "../tail/follow.js";
import { type CommunityView, emptyView, withAggregate, withLink } from "./monitor-model.js";

/** Where the monitor gets its updates: the API's SSE stream, or a fake in tests. */
export interface FeedSource {
  follow(communityId: string, onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void): { close(): void };
}

/** Redraws at most this often, whatever the update rate (the watch cannot show more either). */
export const FRAME_MS = 100;
/** The age of the reading and the stale state move on even without updates. */
const CLOCK_MS = 1_000;

/**
 * Follows the given communities and returns their views. Updates land in a ref and are
 * published to React at most every FRAME_MS, so 20 updates a second cost 10 renders.
 */
export function useCommunityViews(source: FeedSource, followed: readonly string[], now: () => number): { views: ReadonlyMap<string, CommunityView>; nowMs: number } {
  const live = useRef(new Map<string, CommunityView>());
  const dirty = useRef(false);
  const [snapshot, setSnapshot] = useState(() => ({ views: new Map(live.current) as ReadonlyMap<string, CommunityView>, nowMs: now() }));
  const key = followed.join("\n");

  useEffect(() => {
    const followers = followed.map((communityId) => {
      if (!live.current.has(communityId)) live.current.set(communityId, emptyView(communityId));
      const update = (change: (view: CommunityView) => CommunityView): void => {
        live.current.set(communityId, change(live.current.get(communityId) ?? emptyView(communityId)));
        dirty.current = true;
      };
      return source.follow(
        communityId,
        (aggregate) => update((view) => withAggregate(view, aggregate, now())),
        (status) => {
          if (status.state === "live" || status.state === "connecting" || status.state === "reconnecting") update((view) => withLink(view, status.state));
          else update((view) => withLink(view, "reconnecting"));
        },
      );
    });
    dirty.current = true;
    return () => followers.forEach((follower) => follower.close());
    // `followed` is compared by its contents (key).
  }, [source, key]);

  useEffect(() => {
    let lastClock = 0;
    const timer = setInterval(() => {
      const nowMs = now();
      if (!dirty.current && nowMs - lastClock < CLOCK_MS) return;
      dirty.current = false;
      lastClock = nowMs;
      setSnapshot({ views: new Map(live.current), nowMs });
    }, FRAME_MS);
    return () => clearInterval(timer);
  }, [now]);

  return snapshot;
}
