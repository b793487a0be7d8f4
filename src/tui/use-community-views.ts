import { useCallback, useEffect, useRef, useState } from "react";
import type { Aggregate } from "../domain/aggregate.js";
import type { Clock, Timer } from "../domain/clock.js";
import type { FollowStatus } from "../domain/follow-status.js";
import { type CommunityView, emptyView, withAggregate, withLink } from "./monitor-model.js";

/** Where the monitor gets its updates: the API's SSE stream, or a fake in tests. */
export interface FeedSource {
  follow(communityId: string, onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void): { close(): void };
}

/**
 * On average at most one redraw per FRAME_MS, whatever the update rate: a frame of ink costs
 * 10–20 ms of CPU here, so two a second keep the monitor near 5 % of a core at 20 updates a
 * second (bench/monitor-cpu.mjs). Two frames may come back to back, so the first value after
 * "connecting", or an update after a quiet spell, is drawn at once.
 */
export const FRAME_MS = 500;
const BURST = 2;
/** The age of the reading and the stale state move on even without updates. */
const CLOCK_MS = 1_000;

/**
 * Follows the given communities and returns their views. Updates land in a ref and are
 * published to React at most every FRAME_MS.
 */
export function useCommunityViews(source: FeedSource, followed: readonly string[], clock: Clock): { views: ReadonlyMap<string, CommunityView>; nowMs: number } {
  const live = useRef(new Map<string, CommunityView>());
  const [snapshot, setSnapshot] = useState(() => ({ views: new Map(live.current) as ReadonlyMap<string, CommunityView>, nowMs: clock.now() }));
  /** When the last BURST frames were drawn, oldest first. */
  const frame = useRef({ recent: [] as number[], timer: undefined as Timer | undefined });
  const key = followed.join("\n");

  const publish = useCallback((): void => {
    const state = frame.current;
    state.timer?.cancel();
    state.timer = undefined;
    // Frames are paced by the monotonic clock; the wall clock is what the views show.
    state.recent = [...state.recent, clock.monotonic()].slice(-BURST);
    setSnapshot({ views: new Map(live.current), nowMs: clock.now() });
  }, [clock]);

  const requestFrame = useCallback((): void => {
    const state = frame.current;
    if (state.timer) return;
    const oldest = state.recent.length < BURST ? Number.NEGATIVE_INFINITY : state.recent[0]!;
    const wait = oldest + BURST * FRAME_MS - clock.monotonic();
    if (wait <= 0) publish();
    else state.timer = clock.after(wait, publish);
  }, [clock, publish]);

  useEffect(() => {
    const followers = followed.map((communityId) => {
      if (!live.current.has(communityId)) live.current.set(communityId, emptyView(communityId));
      const update = (change: (view: CommunityView) => CommunityView): void => {
        const before = live.current.get(communityId) ?? emptyView(communityId);
        const after = change(before);
        if (after === before) return; // nothing to draw: keep the frame budget for the data
        live.current.set(communityId, after);
        requestFrame();
      };
      return source.follow(
        communityId,
        (aggregate) => update((view) => withAggregate(view, aggregate, clock.now())),
        (status) => update((view) => withLink(view, status.state)),
      );
    });
    return () => followers.forEach((follower) => follower.close());
    // `followed` is compared by its contents (key).
  }, [source, key]);

  useEffect(() => {
    const ticks = clock.every(CLOCK_MS, requestFrame);
    return () => {
      ticks.cancel();
      frame.current.timer?.cancel();
    };
  }, [requestFrame]);

  return snapshot;
}
