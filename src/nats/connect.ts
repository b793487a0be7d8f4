import { readFileSync } from "node:fs";
import { type Authenticator, connect, credsAuthenticator, type NatsConnection, nkeyAuthenticator } from "@nats-io/transport-node";
import { type ConnectFailure, connectFailure } from "../connect-failure.js";
import { EcwatchError, errorMessage, UsageError } from "../errors.js";
import { redactUrl } from "../url.js";
import { type NatsSecurity, natsKeyFile, natsServers } from "./nats-auth.js";

/** Reads a file named by a flag or its variable; one sentence naming both when it cannot. */
function readSecurityFile(file: string, what: string, flag: string, env: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`Cannot read the ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}).`, `Check ${flag} / ${env}.`);
  }
}

/** The authenticator of a `--nats-creds` file: a `.creds` file (JWT and seed) or an nkey seed file. */
function fileAuthenticator(file: string): Authenticator {
  const text = readSecurityFile(file, "NATS credentials file", "--nats-creds", "NATS_CREDS");
  const key = natsKeyFile(text);
  if (!key) throw new UsageError(`The NATS credentials file ${file} holds neither a user JWT (a .creds file) nor a user nkey seed (SU…).`, "Pass the file nsc generated for the user with --nats-creds / NATS_CREDS.");
  return key.kind === "creds" ? credsAuthenticator(new TextEncoder().encode(text)) : nkeyAuthenticator(new TextEncoder().encode(key.seed));
}

/** The fix for each way a connection fails (issue 10). */
const NATS_HINTS: Record<ConnectFailure, { code: string; hint: string }> = {
  auth: { code: "NATS_AUTH_FAILED", hint: "Check the user and password (nats://user:pass@host) or token (nats://token@host) in the URL, or the file of --nats-creds / NATS_CREDS." },
  tls: { code: "NATS_TLS_FAILED", hint: "Pass the CA of the server's certificate with --nats-tls-ca <file> / NATS_TLS_CA, use the name or address the certificate is for, and tls:// only for a server with TLS." },
  unreachable: { code: "NATS_UNREACHABLE", hint: "Start the stack with `ecwatch up`, or pass --nats <url> / set NATS_URL." },
};

/**
 * Connects to NATS with the URL's credentials (`user:pass@`, `token@`), a creds or nkey seed
 * file, and TLS (`tls://` or a CA file); one clear sentence when that fails, never a secret.
 */
export async function connectNats(url: string, name: string, security: NatsSecurity = {}): Promise<NatsConnection> {
  const { servers, user, pass, token, tls } = natsServers(url);
  const authenticator = security.credsFile ? fileAuthenticator(security.credsFile) : undefined;
  const ca = security.tlsCaFile ? readSecurityFile(security.tlsCaFile, "NATS CA file", "--nats-tls-ca", "NATS_TLS_CA") : undefined;
  try {
    return await connect({
      servers: [...servers],
      name,
      timeout: 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // nats.js otherwise builds an Error (a stack trace) for every request in case it fails,
      // ≈ 5 % of the aggregator's CPU in its KV puts; ecwatch reports failures by message.
      noAsyncTraces: true,
      ...(user !== undefined && { user, pass }),
      ...(token !== undefined && { token }),
      ...(authenticator && { authenticator }),
      // An object asks for TLS: nats.js then refuses a server without it, so credentials never go in the clear.
      ...((tls || ca) && { tls: ca ? { ca } : {} }),
    });
  } catch (err) {
    const { code, hint } = NATS_HINTS[connectFailure(err)];
    throw new EcwatchError(code, `Cannot connect to NATS at ${redactUrl(url)} (${errorMessage(err)}).`, { hint, cause: err });
  }
}

/**
 * Replicas for the streams and KV buckets ecwatch creates: 3 on a cluster of 3 or more servers,
 * as many as there are on a smaller one (issue 9). A server of a cluster lists the client URLs of
 * all its members in its INFO (`connect_urls`, itself included); a single server lists none.
 */
export function clusterReplicas(nc: NatsConnection): number {
  return Math.min(3, Math.max(1, nc.info?.connect_urls?.length ?? 1));
}

