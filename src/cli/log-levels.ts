/** Log levels, least severe first; `--log-level` writes its own and the more severe ones (a leaf, so that --help need not load the logger and chalk). */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
