import { UsageError } from "../errors.js";

/**
 * How ecwatch authenticates to NATS and secures the connection (issue 10), pure: what the
 * URLs say, and what a credentials file holds. nats.js itself ignores a URL's scheme and
 * user info, so both are taken out here and given to it as options.
 */

/** Credentials and TLS besides the URL's own `user:pass@` or `token@`. */
export interface NatsSecurity {
  /** A `.creds` file (user JWT and nkey seed) or an nkey seed file. Env NATS_CREDS. */
  readonly credsFile?: string;
  /** PEM file of the CA(s) that signed the servers' certificates; turns TLS on. Env NATS_TLS_CA. */
  readonly tlsCaFile?: string;
}

/** What nats.js is given for a `--nats` list. */
export interface NatsServers {
  /** `host:port` of each URL, without scheme or credentials. */
  readonly servers: readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** A `tls://` URL: the connection must be encrypted (nats.js fails on a server without TLS). */
  readonly tls: boolean;
}

/**
 * Splits `nats://user:pass@host:4222,tls://token@host2` into servers and credentials:
 * `user:pass@` is a user and password, a lone `token@` a token (nats-server's `--auth`).
 * NATS takes one set of credentials for all servers, so URLs that disagree are refused.
 */
export function natsServers(urls: string): NatsServers {
  const parsed = urls.split(",").map(parseNatsUrl);
  const credentials = new Set(parsed.filter((url) => url.username || url.password).map((url) => `${url.username}:${url.password}`));
  if (credentials.size > 1) {
    throw new UsageError("The URLs of --nats carry different credentials, but a NATS client has one set for all servers.", "Put the same user:password@ (or token@) on every URL, or on the first only.");
  }
  const first = parsed.find((url) => url.username || url.password);
  const user = first ? decoded(first.username) : undefined;
  const pass = first ? decoded(first.password) : undefined;
  return {
    servers: parsed.map((url) => url.host),
    ...(pass ? { user, pass } : user ? { token: user } : {}),
    tls: parsed.some((url) => url.protocol === "tls:"),
  };
}

/** One URL of a list; `host:port` alone (nats.js takes it, so NATS_URL may hold it) is a nats:// URL. */
function parseNatsUrl(text: string): URL {
  const one = text.trim();
  try {
    return new URL(one.includes("://") ? one : `nats://${one}`);
  } catch {
    // Not quoted: a URL that does not parse may still hold a password.
    throw new UsageError("A URL of --nats / NATS_URL does not parse.", "Pass URLs like nats://host:4222 or tls://user:pass@host:4222.");
  }
}

/** A URL's user info is %-encoded; a stray % is taken as it is. */
function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** What a `--nats-creds` file holds: a user JWT with its seed (nsc's `.creds`), or a bare user seed (`.nk`). */
export type NatsKeyFile = { readonly kind: "creds" } | { readonly kind: "seed"; readonly seed: string };

/** A user nkey seed: `SU` and 56 base32 characters. */
const USER_SEED = /(?:^|\s)(SU[A-Z2-7]{56})(?:\s|$)/;

export function natsKeyFile(text: string): NatsKeyFile | undefined {
  if (text.includes("-----BEGIN NATS USER JWT-----")) return { kind: "creds" };
  const seed = USER_SEED.exec(text)?.[1];
  return seed ? { kind: "seed", seed } : undefined;
}
