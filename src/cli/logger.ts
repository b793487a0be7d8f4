import type { ChalkInstance } from "chalk";
import { errorMessage } from "../errors.js";
import { redactUrlsIn } from "../url.js";
import { LOG_LEVELS, type LogLevel } from "./log-levels.js";
import { colorsFor } from "./output.js";

/** Extra data of a record; an Error is written as its message (stacks only with --debug, see cli.ts). */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a record of this level is written: skip building costly fields when it is not. */
  enabled(level: LogLevel): boolean;
}

/** Where the logger writes (process.stderr): lines of text, and whether a terminal reads them. */
export interface LogStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface LoggerOptions {
  /** Default `info`. */
  readonly level?: LogLevel;
  /** Default process.stderr. */
  readonly stream?: LogStream;
  /** One JSON object per line; default: when the stream is not a terminal. */
  readonly json?: boolean;
  readonly now?: () => Date;
  readonly env?: NodeJS.ProcessEnv;
}

/** Keys of a JSON record that fields cannot overwrite. */
const RESERVED = new Set(["time", "level", "msg"]);

function plain(value: unknown): unknown {
  if (value instanceof Error) return errorMessage(value);
  return value;
}

/**
 * A small structured logger for the services (`aggregate`, `serve`): JSON lines for log
 * collectors when stderr is not a terminal, short readable lines on a terminal (info without a
 * prefix, as the commands printed before). Every text is passed through redactUrlsIn, so a URL
 * with credentials never reaches a log, whoever forgot to redact it.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const json = options.json ?? !stream.isTTY;
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const now = options.now ?? (() => new Date());
  const colors = colorsFor(stream, options.env);
  const enabled = (level: LogLevel): boolean => LOG_LEVELS.indexOf(level) >= threshold;

  const write = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (!enabled(level)) return;
    const entries = Object.entries(fields).filter(([key, value]) => value !== undefined && !RESERVED.has(key));
    const line = json
      ? JSON.stringify({ time: now().toISOString(), level, msg, ...Object.fromEntries(entries.map(([key, value]) => [key, plain(value)])) })
      : textLine(colors, level, msg, entries);
    stream.write(`${redactUrlsIn(line)}\n`);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    enabled,
  };
}

function textLine(colors: ChalkInstance, level: LogLevel, msg: string, entries: ReadonlyArray<readonly [string, unknown]>): string {
  const prefix = { debug: colors.dim("debug "), info: "", warn: `${colors.yellow("warning")} `, error: `${colors.red("error")} ` }[level];
  const fields = entries.map(([key, value]) => {
    const shown = plain(value);
    return ` ${colors.dim(`${key}=${typeof shown === "string" ? shown : JSON.stringify(shown)}`)}`;
  });
  return `${prefix}${msg}${fields.join("")}`;
}
