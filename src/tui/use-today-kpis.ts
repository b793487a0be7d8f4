import { useEffect, useRef, useState } from "react";
import type { Clock, Timer } from "../domain/clock.js";
import { KPI_REFRESH_MS, type KpiSource, type TodayState } from "./today-kpis.js";

interface Entry {
  state?: TodayState;
  /** The clock's monotonic ms when it was last asked for. */
  askedAt: number;
}

/**
 * Today's KPIs of the community shown: asked for at once, then every `refreshMs`, and per
 * community never more often (switching back and forth reuses the last answer). A failure
 * keeps the last value and marks it; the face's own frames do not depend on it.
 */
export function useTodayKpis(source: KpiSource | undefined, communityId: string, clock: Clock, refreshMs = KPI_REFRESH_MS): TodayState | undefined {
  const cache = useRef(new Map<string, Entry>());
  const [state, setState] = useState<TodayState | undefined>(() => cache.current.get(communityId)?.state);
  /** The community on screen: an answer that lands after a switch away and back is still shown. */
  const shown = useRef(communityId);
  shown.current = communityId;

  useEffect(() => {
    if (!source) return;
    let timer: Timer | undefined;
    const entry = cache.current.get(communityId) ?? { askedAt: Number.NEGATIVE_INFINITY };
    cache.current.set(communityId, entry);
    setState(entry.state);

    const ask = (): void => {
      entry.askedAt = clock.monotonic();
      timer = clock.after(refreshMs, ask);
      const settle = (next: TodayState): void => {
        entry.state = next;
        if (shown.current === communityId) setState(next);
      };
      source.today(communityId).then(
        (kpis) => settle({ kpis, failed: false }),
        () => settle({ kpis: entry.state?.kpis, failed: true }),
      );
    };
    const wait = entry.askedAt + refreshMs - clock.monotonic();
    if (wait <= 0) ask();
    else timer = clock.after(wait, ask);
    return () => timer?.cancel();
  }, [source, communityId, clock, refreshMs]);

  return source ? state : undefined;
}
