import { writeFileSync } from "node:fs";
import { resolveEndpoint } from "../config/connection-settings.js";
import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import { EcwatchError, ExitCode } from "../errors.js";
import { followCommunity } from "../tail/follow.js";
import { type ColorMode, detectColorMode } from "../tui/color.js";
import { detailLines } from "../tui/details.js";
import { renderFace } from "../tui/face.js";
import { emptyView, withAggregate } from "../tui/monitor-model.js";
import { renderSvg } from "../tui/svg.js";
import { type TodayState, apiKpiSource, formatTodayLine } from "../tui/today-kpis.js";
import type { FeedSource } from "../tui/use-community-views.js";

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

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    throw new EcwatchError("API_UNREACHABLE", `Cannot reach the API at ${new URL(url).origin}.`, {
      hint: "Start the stack with `ecwatch up`, or pass --api <url> / set ECWATCH_API.",
      cause: err,
    });
  }
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

async function currentValue(apiUrl: string, communityId: string): Promise<Aggregate> {
  const { status, body } = await getJson(`${apiUrl}/communities/${encodeURIComponent(communityId)}`);
  const aggregate = status === 200 ? aggregateFromJson(JSON.stringify(body)) : undefined;
  if (!aggregate) throw new EcwatchError("NO_DATA", `Community ${communityId} has no data yet (HTTP ${status}).`, { hint: "Check the id with `curl <api>/communities`, or start a simulator." });
  return aggregate;
}

/** Every community the API knows, sorted; the one asked for is added if it has no data yet. */
async function knownCommunities(apiUrl: string, wanted: string | undefined): Promise<string[]> {
  const { body } = await getJson(`${apiUrl}/communities`);
  const ids = Array.isArray(body) ? body.flatMap((a: { communityId?: unknown }) => (typeof a.communityId === "string" ? [a.communityId] : [])) : [];
  if (wanted && !ids.includes(wanted)) ids.push(wanted);
  return ids.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

export async function runMonitor(communityId: string | undefined, flags: MonitorFlags): Promise<ExitCode> {
  const apiUrl = resolveEndpoint("api", flags.api).replace(/\/+$/, "");
  const colorMode = flags.color ?? detectColorMode(process.env, process.stdout.isTTY === true);
  const maxW = flags.maxKw * 1000;

  if (flags.once || flags.svg) {
    if (!communityId) throw new EcwatchError("USAGE", "--once and --svg show one community: name it, e.g. `ecwatch monitor community1 --once`.", { exitCode: 2 });
    const kpis = apiKpiSource(apiUrl, flags.tz);
    // Asked for alongside the value; a failure only leaves the line without numbers.
    const today: Promise<TodayState> = flags.once
      ? kpis.today(communityId).then(
          (value) => ({ kpis: value, failed: false }),
          () => ({ failed: true }),
        )
      : Promise.resolve({ failed: true });
    const aggregate = await currentValue(apiUrl, communityId);
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
    knownCommunities(apiUrl, communityId),
    import("ink"),
    import("react"),
    import("../tui/monitor-app.js"),
  ]);
  if (!communities.length) throw new EcwatchError("NO_DATA", "The API knows no community yet.", { hint: "Start a simulator (`ecwatch sim`), or name a community." });
  const source: FeedSource = { follow: (id, onAggregate, onStatus) => followCommunity(apiUrl, id, onAggregate, onStatus) };
  const app = render(
    createElement(MonitorApp, { communities, initial: communityId ?? communities[0]!, all: flags.all === true, source, kpis: apiKpiSource(apiUrl, flags.tz), colorMode, ascii: flags.ascii === true, maxW }),
    { maxFps: 10, patchConsole: false },
  );
  await app.waitUntilExit();
  return ExitCode.Ok;
}
