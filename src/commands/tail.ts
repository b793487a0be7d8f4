import { colorsFor } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint } from "../config/connection-settings.js";
import { EcwatchError, ExitCode } from "../errors.js";
import { followCommunity } from "../tail/follow.js";
import { formatAggregateLine } from "../tail/format.js";

export interface TailFlags {
  readonly api?: string;
  readonly json?: boolean;
  /** Exit after this many events. */
  readonly count?: number;
}

export async function runTail(communityId: string, flags: TailFlags): Promise<ExitCode> {
  const apiUrl = resolveEndpoint("api", flags.api);
  const out = colorsFor(process.stdout);
  const err = colorsFor(process.stderr);
  let received = 0;
  let done!: () => void;
  let failed: EcwatchError | undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const follower = followCommunity(
    apiUrl,
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
