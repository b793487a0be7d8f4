import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint } from "../config.js";
import { startApi } from "../stack/services.js";

export interface ServeFlags {
  readonly nats?: string;
  readonly redis?: string;
  readonly host: string;
  readonly port: number;
}

export async function runServe(flags: ServeFlags): Promise<void> {
  const api = await startApi(resolveEndpoint("nats", flags.nats), resolveEndpoint("redis", flags.redis), flags.host, flags.port);
  process.stderr.write(`serving ${api.url} (GET /communities, /communities/{id}, /communities/{id}/stream; POST /communities/) — Ctrl-C stops\n`);
  await untilSignal();
  await api.stop();
}
