import { Box, Text, useApp, useInput, useStdout } from "ink";
import { useEffect, useMemo, useState } from "react";
import type { Clock } from "../domain/clock.js";
import type { ColorMode } from "./color.js";
import { detailLines, paint, stateLabel } from "./details.js";
import { renderFace } from "./face.js";
import { type CommunityView, type SortOrder, displayState, emptyView, sortViews } from "./monitor-model.js";
import { type FeedSource, useCommunityViews } from "./use-community-views.js";
import { UNIT_COLOR } from "./color.js";
import { type KpiSource, formatTodayLine } from "./today-kpis.js";
import { useTodayKpis } from "./use-today-kpis.js";
import { type MeterSource, meterTableLines } from "./meter-table.js";
import { useMeterTable } from "./use-meter-table.js";

export interface MonitorAppProps {
  /** Every community the user can switch to. */
  readonly communities: readonly string[];
  /** The one shown first (single mode). */
  readonly initial: string;
  readonly all: boolean;
  readonly source: FeedSource;
  readonly colorMode: ColorMode;
  readonly ascii: boolean;
  /** Net power that fills the ring. */
  readonly maxW: number;
  /** What paces frames and ages values: the system's clock, or one a test advances. */
  readonly clock: Clock;
  /** Today's energy and KPIs, shown under the face of the single view; none without it. */
  readonly kpis?: KpiSource;
  /** How often today's KPIs are asked for (tests shorten it). */
  readonly kpiRefreshMs?: number;
  /** The community's meters, for the table of key `m` (issue 23); without it, `m` does nothing. */
  readonly meters?: MeterSource;
}

/** Lines of the single view that are not the face: header, three detail lines, footer (and today's line). */
const CHROME_ROWS = 6;
const TILE = { cols: 18, rows: 8 } as const;
/** A face of 20 rows (40 columns) reads well and costs ~9 ms a frame; a 30-row one twice that. */
const MAX_FACE_ROWS = 18;

function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = (): void => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return size;
}

/**
 * Pre-rendered lines, one fixed-size box each: ink then measures and tokenizes short lines
 * it has mostly seen before, about half the cost of one text block (bench/monitor-cpu.mjs).
 */
function Lines({ lines, width }: { readonly lines: readonly string[]; readonly width: number }): React.JSX.Element {
  return (
    <Box flexDirection="column">
      {lines.map((line, index) => (
        <Box key={index} height={1} width={width}>
          <Text wrap="truncate">{line}</Text>
        </Box>
      ))}
    </Box>
  );
}

const HELP = [
  "←/→ or Tab   previous / next community",
  "s            sort the grid by name or by deficit (--all)",
  "m            the community's meters: biggest exporters and importers, stale ones marked, net power of the last minutes; m again: the face",
  "?            show or hide these keys",
  "q or Ctrl-C  quit",
];

/** The watch face of one community, or a grid of all; live from the SSE stream. */
export default function MonitorApp(props: MonitorAppProps): React.JSX.Element {
  const { communities, all, source, colorMode, ascii, maxW } = props;
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [index, setIndex] = useState(() => Math.max(0, communities.indexOf(props.initial)));
  const [help, setHelp] = useState(false);
  const [order, setOrder] = useState<SortOrder>("name");
  const [meterTable, setMeterTable] = useState(false);
  const current = communities[index] ?? props.initial;
  const tableOpen = meterTable && !all && props.meters !== undefined;
  // While the meter table is open the face is not drawn: its stream is left, so that only the table's own refresh redraws (issue 23).
  const followed = useMemo(() => (all ? [...communities] : tableOpen ? [] : [current]), [all, communities, current, tableOpen]);
  const { views, nowMs } = useCommunityViews(source, followed, props.clock);
  // Changes once a minute at most: formatted here, not per frame of the face.
  const today = useTodayKpis(all ? undefined : props.kpis, current, props.clock, props.kpiRefreshMs);
  const showToday = props.kpis !== undefined && !all;
  const table = useMeterTable(props.meters, current, tableOpen, props.clock);
  const todayLine = useMemo(() => {
    if (!showToday) return [];
    const line = formatTodayLine(today);
    return [today?.failed ? paint(line, UNIT_COLOR, colorMode) : line];
  }, [showToday, today, colorMode]);

  // Once per answer of the table, not per frame.
  const tableLines = useMemo(() => (table.list ? meterTableLines(table.list, table.samples, columns, rows - 2, colorMode) : undefined), [table.list, table.samples, columns, rows, colorMode]);

  useInput((input, key) => {
    if (input === "q") exit();
    else if (input === "?") setHelp((shown) => !shown);
    else if (input === "s") setOrder((o) => (o === "name" ? "deficit" : "name"));
    else if (input === "m") setMeterTable((shown) => !shown);
    else if (key.rightArrow || (key.tab && !key.shift)) setIndex((i) => (i + 1) % communities.length);
    else if (key.leftArrow || (key.tab && key.shift)) setIndex((i) => (i - 1 + communities.length) % communities.length);
  });

  const footer = paint(`←/→ community · ${tableOpen ? "m face" : "m meters"} · ? keys · q quit`, UNIT_COLOR, colorMode);
  if (help) {
    return (
      <Box flexDirection="column">
        <Text bold>ecwatch monitor — keys</Text>
        <Text>{HELP.join("\n")}</Text>
        <Text>{footer}</Text>
      </Box>
    );
  }

  if (all) {
    const perRow = Math.max(1, Math.floor(columns / (TILE.cols + 2)));
    const tiles = sortViews(communities.map((id) => views.get(id) ?? emptyView(id)), order);
    const grid: CommunityView[][] = [];
    for (let i = 0; i < tiles.length; i += perRow) grid.push(tiles.slice(i, i + perRow));
    return (
      <Box flexDirection="column">
        <Text bold>{`${communities.length} communities · sorted by ${order} (s)`}</Text>
        {grid.map((row, r) => (
          <Box key={r} flexDirection="row">
            {row.map((view) => (
              <Box key={view.communityId} flexDirection="column" width={TILE.cols + 2}>
                <Text>{view.communityId.slice(0, TILE.cols)}</Text>
                <Lines lines={renderFace({ netW: view.aggregate?.netW ?? 0, maxW, cols: TILE.cols, rows: TILE.rows, colorMode, ascii })} width={TILE.cols} />
                <Text>{stateLabel(displayState(view, nowMs), colorMode)}</Text>
              </Box>
            ))}
          </Box>
        ))}
        <Text>{footer}</Text>
      </Box>
    );
  }

  if (tableOpen) {
    const lines = tableLines ?? [`${current} · asking for its meters…`];
    return (
      <Box flexDirection="column">
        <Lines lines={lines} width={columns} />
        <Text>{footer}</Text>
      </Box>
    );
  }

  const view = views.get(current) ?? emptyView(current);
  // As large as fits, up to MAX_FACE_ROWS: ink's cost per frame grows with the characters drawn.
  const faceRows = Math.max(5, Math.min(MAX_FACE_ROWS, rows - CHROME_ROWS - todayLine.length - 1, Math.floor((columns - 2) / 2)));
  const face = renderFace({ netW: view.aggregate?.netW ?? 0, maxW, cols: faceRows * 2, rows: faceRows, colorMode, ascii });
  const position = communities.length > 1 ? `  ‹ ${index + 1}/${communities.length} ›` : "";
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{current}</Text>
        {position}
      </Text>
      <Lines lines={face} width={faceRows * 2} />
      <Text>{[...detailLines(view, nowMs, colorMode, columns), ...todayLine].join("\n")}</Text>
      <Text>{footer}</Text>
    </Box>
  );
}
