import { errors } from "@nats-io/transport-node";
import { ReplyError } from "ioredis";

/**
 * Why a connection to NATS or Redis failed, told from the client's error (and its causes) by
 * type, so that the one sentence the user sees comes with the right fix (issue 10).
 */
export const CONNECT_FAILURES = ["auth", "tls", "unreachable"] as const;
export type ConnectFailure = (typeof CONNECT_FAILURES)[number];

/**
 * Redis's refusals of credentials. A Redis error reply's first word is its code (the RESP
 * protocol's convention); ioredis gives the reply only as a ReplyError's message, so the code is
 * read from there.
 */
const REDIS_AUTH_CODES: ReadonlySet<string> = new Set(["WRONGPASS", "NOAUTH"]);

/**
 * Node's TLS failures carry only a `code` (no class): OpenSSL's certificate checks (CERT_*,
 * UNABLE_TO_*, DEPTH_ZERO_SELF_SIGNED_CERT …), Node's own (ERR_TLS_*), a handshake with a server
 * that speaks no TLS (ERR_SSL_*, EPROTO). Matched on the code, never on the message.
 */
const TLS_CODE = /^(CERT_|UNABLE_TO_|ERR_TLS_|ERR_SSL_)|^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|EPROTO)$/;

function kindOf(err: Error): ConnectFailure | undefined {
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) return "auth";
  if (err instanceof ReplyError && REDIS_AUTH_CODES.has(err.message.split(" ", 1)[0] ?? "")) return "auth";
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === "string" && TLS_CODE.test(code)) return "tls";
  // nats.js refuses a server without TLS when TLS was asked for with a ConnectionError whose
  // message is the only thing that tells it apart (options.js: "server does not support 'tls'").
  if (err instanceof errors.ConnectionError && /does not support 'tls'/.test(err.message)) return "tls";
  return undefined;
}

export function connectFailure(err: unknown, depth = 0): ConnectFailure {
  if (!(err instanceof Error) || depth > 3) return "unreachable";
  return kindOf(err) ?? connectFailure(err.cause, depth + 1);
}
