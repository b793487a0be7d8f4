import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Who may write to the API (issue 10), pure: the bearer token check, and whether an address
 * is loopback (where an API without a token is allowed to listen).
 */

/** `ok`, or why not: no `Authorization: Bearer …` at all, or a token that is not the one. */
export type BearerVerdict = "ok" | "missing" | "invalid";

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Checks an Authorization header against the token. The comparison takes the same time
 * whatever the token sent: both are hashed to equal lengths first, then compared in constant
 * time, so neither the length nor a common prefix can be learned from the answer's timing.
 */
export function bearerVerdict(header: string | undefined, token: string): BearerVerdict {
  const sent = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (sent === undefined) return "missing";
  return timingSafeEqual(digest(sent), digest(token)) ? "ok" : "invalid";
}

/**
 * Whether a listen address reaches only this machine: `localhost`, 127.0.0.0/8, ::1 and
 * their IPv4-mapped forms. `0.0.0.0`, `::` and any other name or address do not.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)?.[1];
  const address = mapped ?? bare;
  if (isIP(address) === 4) return address.startsWith("127.");
  if (isIP(address) === 6) return /^(0{0,4}:){1,7}0{0,3}1$/.test(address) || address === "::1";
  return false;
}
