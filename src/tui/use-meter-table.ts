import { useEffect, useRef, useState } from "react";
import type { Clock, Timer } from "../domain/clock.js";
import type { MeterListJson } from "../energy/meter-list.js";
import { addSamples, type MeterSource } from "./meter-table.js";

/** How often the open meter table is asked for: one sample a second for the sparklines. */
export const METER_REFRESH_MS = 1_000;

/** Exporters first, as the table draws them. */
const PARAMS = new URLSearchParams({ sort: "-net" });

/**
 * The meters of the community shown, while the table is open: asked for at once, then every
 * `refreshMs` after each answer (never two at a time), with each meter's samples of net power.
 * A failure keeps the last table; nothing is asked for while the table is closed.
 */
export function useMeterTable(source: MeterSource | undefined, communityId: string, open: boolean, clock: Clock, refreshMs = METER_REFRESH_MS) {
  const samples = useRef(new Map<string, Map<string, number[]>>());
  const [list, setList] = useState<MeterListJson | undefined>();

  useEffect(() => {
    if (!source || !open) return;
    let timer: Timer | undefined;
    let live = true;
    const series = samples.current.get(communityId) ?? new Map<string, number[]>();
    samples.current.set(communityId, series);
    setList(undefined);
    const ask = (): void => {
      source.meters(communityId, PARAMS).then(
        (answer) => {
          if (!live) return;
          addSamples(series, answer);
          setList(answer);
          timer = clock.after(refreshMs, ask);
        },
        () => {
          if (live) timer = clock.after(refreshMs, ask);
        },
      );
    };
    ask();
    return () => {
      live = false;
      timer?.cancel();
    };
  }, [source, communityId, open, clock, refreshMs]);

  return { list: open ? list : undefined, samples: samples.current.get(communityId) ?? new Map<string, number[]>() };
}
