import { wipeEverything } from "../app/adapters.js";
import { resolveEndpoint, resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { EcwatchError, ExitCode } from "../errors.js";
import { runningStack, STATE_DIR } from "../stack/state-file.js";
import { redactUrl } from "../url.js";

export interface ResetFlags extends SecurityFlags {
  readonly nats?: string;
  readonly redis?: string;
}

export async function runReset(flags: ResetFlags): Promise<ExitCode> {
  const running = runningStack(STATE_DIR);
  if (running && !flags.nats && !flags.redis) {
    // A running aggregator keeps its state in memory and would write it straight back.
    throw new EcwatchError("STACK_RUNNING", `ecwatch up is running (pid ${running.pid}); reset would be undone by its aggregator.`, {
      hint: "Stop it with Ctrl-C, then run `ecwatch reset`, or start it again with `ecwatch up --fresh`.",
    });
  }
  const natsUrl = resolveEndpoint("nats", flags.nats);
  const redisUrl = resolveEndpoint("redis", flags.redis);
  const { cacheKeys } = await wipeEverything(natsUrl, redisUrl, resolveSecurity(flags));
  process.stderr.write(`wiped the reading streams (EC_STREAM, EC_STREAM_P0…P7), EC_DLQ and the KV buckets on ${redactUrl(natsUrl)}, and ${cacheKeys} cached aggregates on ${redactUrl(redisUrl)}\n`);
  return ExitCode.Ok;
}
