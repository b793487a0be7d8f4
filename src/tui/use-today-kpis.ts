import { useEffect, useRef, useState } from "react";
import { KPI_REFRESH_MS, type KpiSource, type TodayState } from "./today-kpis.js";

interface Entry {
  state?: TodayState;
  /** performance.now() when it was last asked for. */
  askedAt: number;
}

/**
 * Today's KPIs of the community shown: asked for at once, then every `refreshMs`, and per
 * community never more often (switching back and forth reuses the last answer). A failure
 * keeps the last value and marks it; the face's own frames do not depend on it.
 */
export function useTodayKpis(source: KpiSource | undefined, communityId: string, refreshMs = KPI_REFRESH_MS): TodayState | undefined {
  const cache = useRef(new Map<string, Entry>());
  const [state, setState] = useState<TodayState | undefined>(() => cache.current.get(communityId)?.state);
  /** The community on screen: an answer that lands after a switch away and back is still shown. */
  const shown = useRef(communityId);
  shown.current = communityId;

  useEffect(() => {
    if (!source) return;
    let timer: NodeJS.Timeout | undefined;
    const entry = cache.current.get(communityId) ?? { askedAt: Number.NEGATIVE_INFINITY };
    cache.current.set(communityId, entry);
    setState(entry.state);

    const ask = (): void => {
      entry.askedAt = performance.now();
      timer = setTimeout(ask, refreshMs);
      const settle = (next: TodayState): void => {
        entry.state = next;
        if (shown.current === communityId) setState(next);
      };
      source.today(communityId).then(
        (kpis) => settle({ kpis, failed: false }),
        () => settle({ kpis: entry.state?.kpis, failed: true }),
      );
    };
    const wait = entry.askedAt + refreshMs - performance.now();
    if (wait <= 0) ask();
    else timer = setTimeout(ask, wait);
    return () => clearTimeout(timer);
  }, [source, communityId, refreshMs]);

  return source ? state : undefined;
}
