import { writeFileSync } from "node:fs";
import type { ApiClient } from "../api-client/api-client.js";
import { openApiClient } from "../app/api-client.js";
import { systemClock } from "../app/clock.js";
import { answeredStatus, unreachableApiError } from "../cli/api-failure.js";
import type { Aggregate } from "../domain/aggregate.js";
import { EcwatchError, ExitCode } from "../errors.js";
import { type ColorMode, detectColorMode } from "../tui/color.js";
import { detailLines } from "../tui/details.js";
import { renderFace } from "../tui/face.js";
import { emptyView, withAggregate } from "../tui/monitor-model.js";
import { renderSvg } from "../tui/svg.js";
import { type KpiSource, type TodayState, formatTodayLine } from "../tui/today-kpis.js";

export interface MonitorFlags {
  readonly all?: boolean;
  readonly api?: string;
  /** Net power that fills the ring, in kW. */
  readonly maxKw: number;
  readonly ascii?: boolean;
  readonly color?: ColorMode;
  readonly once?: boolean;
  readonly svg?: string;
  /** IANA zone whose calendar day is "today" for the line under the face (default UTC, as the API). */
  readonly tz?: string;
}

async function currentValue(api: ApiClient, communityId: string): Promise<Aggregate> {
  try {
    return await api.latest(communityId);
  } catch (err) {
    const status = answeredStatus(err);
    if (status === undefined) throw unreachableApiError(err);
    throw new EcwatchError("NO_DATA", `Community ${communityId} has no data yet (HTTP ${status}).`, { hint: "Check the id with `curl <api>/communities`, or start a simulator." });
  }
}

/** Every community the API knows, sorted; the one asked for is added if it has no data yet. */
async function knownCommunities(api: ApiClient, wanted: string | undefined): Promise<string[]> {
  const ids = await api.communityIds().catch((err: unknown): string[] => {
    // An answer that is not a list counts as no community.
    if (answeredStatus(err) === undefined) throw unreachableApiError(err);
    return [];
  });
  if (wanted && !ids.includes(wanted)) ids.push(wanted);
  return ids.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/** Today's KPIs from the API; the day is the calendar day of `timeZone` (the API's default is UTC). */
const todayFrom = (api: ApiClient, timeZone: string | undefined): KpiSource => ({ today: (communityId) => api.kpis(communityId, { period: "today", timeZone }) });

export async function runMonitor(communityId: string | undefined, flags: MonitorFlags): Promise<ExitCode> {
  const api = openApiClient(flags);
  const colorMode = flags.color ?? detectColorMode(process.env, process.stdout.isTTY === true);
  const maxW = flags.maxKw * 1000;

  if (flags.once || flags.svg) {
    if (!communityId) throw new EcwatchError("USAGE", "--once and --svg show one community: name it, e.g. `ecwatch monitor community1 --once`.", { exitCode: 2 });
    const kpis = todayFrom(api, flags.tz);
    // Asked for alongside the value; a failure only leaves the line without numbers.
    const today: Promise<TodayState> = flags.once
      ? kpis.today(communityId).then(
          (value) => ({ kpis: value, failed: false }),
          () => ({ failed: true }),
        )
      : Promise.resolve({ failed: true });
    const aggregate = await currentValue(api, communityId);
    if (flags.svg) {
      writeFileSync(flags.svg, renderSvg(aggregate.netW, maxW));
      process.stderr.write(`wrote ${flags.svg} (437×437, ${communityId} at ${(aggregate.netW / 1000).toFixed(2)} kW)\n`);
    }
    if (flags.once) {
      const now = Date.now();
      const view = withAggregate(emptyView(communityId), aggregate, now);
      const face = renderFace({ netW: aggregate.netW, maxW, cols: 40, rows: 20, colorMode, ascii: flags.ascii });
      const todayLine = formatTodayLine(await today);
      process.stdout.write(`${communityId}\n${face.join("\n")}\n${[...detailLines(view, now, colorMode, 60), todayLine].join("\n")}\n`);
    }
    return ExitCode.Ok;
  }

  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new EcwatchError("NOT_A_TERMINAL", "ecwatch monitor draws in a terminal, and this is not one.", {
      hint: "Use `ecwatch monitor <community> --once` for one frame, or `ecwatch tail <community>` for a stream of lines.",
    });
  }
  // ink draws only the last frame when it thinks it runs in CI (CI or CONTINUOUS_INTEGRATION
  // set, read once when it loads); a person is looking at this terminal, so it must draw live.
  process.env.CI = "0";
  process.env.CONTINUOUS_INTEGRATION = "0";
  // Heavy modules load only for the command that draws, while the API is asked (ink takes ~0.7 s).
  const [communities, { render }, { createElement }, { default: MonitorApp }] = await Promise.all([
    knownCommunities(api, communityId),
    import("ink"),
    import("react"),
    import("../tui/monitor-app.js"),
  ]);
  if (!communities.length) throw new EcwatchError("NO_DATA", "The API knows no community yet.", { hint: "Start a simulator (`ecwatch sim`), or name a community." });
  const app = render(
    createElement(MonitorApp, { communities, initial: communityId ?? communities[0]!, all: flags.all === true, source: api, kpis: todayFrom(api, flags.tz), meters: api, colorMode, ascii: flags.ascii === true, maxW, clock: systemClock }),
    { maxFps: 10, patchConsole: false },
  );
  await app.waitUntilExit();
  return ExitCode.Ok;
}
