import type { ChalkInstance } from "chalk";
import { openApiClient } from "../app/api-client.js";
import { colorsFor } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import type { Aggregate } from "../domain/aggregate.js";
import { formatKw } from "../domain/format-power.js";
import { EcwatchError, ExitCode } from "../errors.js";

export interface TailFlags {
  readonly api?: string;
  readonly json?: boolean;
  /** Exit after this many events. */
  readonly count?: number;
}

/** One human-readable line of an aggregate, e.g. for `ecwatch tail`. */
export function formatAggregateLine(aggregate: Aggregate, colors: ChalkInstance): string {
  const time = aggregate.measuredAt.slice(11, 19) || "--:--:--";
  const surplus = aggregate.netW >= 0;
  const balance = surplus ? colors.green(`surplus ${formatKw(aggregate.netW)}`) : colors.red(`deficit ${formatKw(-aggregate.netW)}`);
  const stale = aggregate.stale ? colors.yellow(` stale ${aggregate.stale}`) : "";
  return `${time}  ${aggregate.communityId}  ${balance}  gen ${formatKw(aggregate.genW)}  con ${formatKw(aggregate.conW)}  meters ${aggregate.meters}${stale}  ${colors.dim(`v${aggregate.version}`)}`;
}

export async function runTail(communityId: string, flags: TailFlags): Promise<ExitCode> {
  const api = openApiClient(flags);
  const out = colorsFor(process.stdout);
  const err = colorsFor(process.stderr);
  let received = 0;
  let done!: () => void;
  let failed: EcwatchError | undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const follower = api.follow(
    communityId,
    (aggregate) => {
      process.stdout.write(`${flags.json ? JSON.stringify(aggregate) : formatAggregateLine(aggregate, out)}\n`);
      received += 1;
      if (flags.count !== undefined && received >= flags.count) done();
    },
    (status) => {
      if (flags.json && status.state !== "failed") return;
      if (status.state === "connecting") process.stderr.write(err.dim(`connecting to ${status.url}\n`));
      else if (status.state === "reconnecting") process.stderr.write(err.yellow(`${status.reason}; reconnecting in ${(status.inMs / 1000).toFixed(1)}s\n`));
      else if (status.state === "failed") {
        failed = new EcwatchError("STREAM_REFUSED", `The API refused the stream: ${status.reason}.`, { hint: "Check the community id and --api." });
        done();
      }
    },
  );
  await Promise.race([finished, untilSignal()]);
  follower.close();
  if (failed) throw failed;
  return ExitCode.Ok;
}
