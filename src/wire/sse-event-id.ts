import type { AggregatePosition } from "../domain/aggregate.js";

/**
 * The SSE `id:` of an aggregate, `<epoch>:<version>` (issue 18): both are needed to order two
 * values across a reset, and neither depends on the API instance, so a client may resume on
 * any instance.
 */
export function sseEventId(position: AggregatePosition): string {
  return `${position.epoch}:${position.version}`;
}

/** What a `Last-Event-ID` names: an aggregate's position, or (`epoch` undefined) a bare version, as APIs before epochs sent. */
export interface LastEventId {
  readonly version: number;
  readonly epoch?: number;
}

const POSITION = /^(\d{1,15}):(\d{1,15})$/;
const BARE_VERSION = /^\d{1,15}$/;

/**
 * Reads a `Last-Event-ID` header: `<epoch>:<version>`, or an old numeric id. Anything else
 * (empty, signs, spaces, fractions, more than 15 digits) is undefined: a client with no usable
 * id, given the current value like a new one.
 */
export function parseLastEventId(text: string | undefined): LastEventId | undefined {
  if (text === undefined) return undefined;
  const position = POSITION.exec(text);
  if (position) return { epoch: Number(position[1]), version: Number(position[2]) };
  return BARE_VERSION.test(text) ? { version: Number(text) } : undefined;
}
