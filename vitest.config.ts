import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    // Integration tests start real servers: give them time on a shared 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each integration file starts its own nats-server and redis-server; two at once is what 2 cores carry.
    maxWorkers: 2,
  },
});
