/**
 * Why a connection to NATS or Redis failed, told from the client's error (and its cause), so
 * that the one sentence the user sees comes with the right fix (issue 10).
 */
export const CONNECT_FAILURES = ["auth", "tls", "unreachable"] as const;
export type ConnectFailure = (typeof CONNECT_FAILURES)[number];

/** nats.js says "Authorization Violation"; Redis WRONGPASS, NOAUTH (ioredis also sends HELLO … AUTH). */
const AUTH = /authori[sz]ation|authenticat|WRONGPASS|NOAUTH|invalid username-password|user is disabled/i;
/** Node's certificate checks (CERT_*, self-signed …), a TLS handshake with a plain server, nats.js's "does not support 'tls'". */
const TLS = /certificate|CERT_|self[- ]signed|ERR_TLS|ERR_SSL|\bssl\b|\btls\b|wrong version number|handshake/i;

function describe(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 3) return String(err ?? "");
  const code = (err as NodeJS.ErrnoException).code ?? "";
  return `${err.name} ${code} ${err.message} ${err.cause === undefined ? "" : describe(err.cause, depth + 1)}`;
}

export function connectFailure(err: unknown): ConnectFailure {
  const text = describe(err);
  if (AUTH.test(text)) return "auth";
  if (TLS.test(text)) return "tls";
  return "unreachable";
}
