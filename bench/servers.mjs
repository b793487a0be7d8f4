// nats-server and redis-server for a benchmark script: on free loopback ports, their data in a
// temporary directory that stop() removes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNats, startRedis } from "../dist/stack/local-server.js";
import { freePort } from "../dist/stack/ports.js";

export async function startServers() {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-bench-"));
  const nats = await startNats({ dataDir: join(dir, "nats"), preferredPort: await freePort() });
  const redis = await startRedis({ dataDir: join(dir, "redis"), preferredPort: await freePort() });
  return {
    nats,
    redis,
    async stop() {
      await Promise.all([nats.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
