/** Hides credentials in a URL (or a comma-separated list of them) before it is printed. */
export function redactUrl(url: string): string {
  return url
    .split(",")
    // Greedy up to the last @ of the authority: a password may contain an @ itself. The scheme
    // may be missing: nats.js takes `user:pass@host:4222`, so NATS_URL may hold one.
    .map((one) => one.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/?#]*@/i, "$1***@"))
    .join(",");
}

/**
 * The URL (or each of a comma-separated list) without its credentials, for what is written
 * to disk, e.g. `.ecwatch/state.json` (issue 10): other commands pass their own credentials.
 */
export function withoutCredentials(url: string): string {
  return url
    .split(",")
    .map((one) => one.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/?#]*@/i, "$1"))
    .join(",");
}

/**
 * Hides the credentials of every URL inside a free text, such as a usage error that quotes
 * the value of --nats. Errs on the side of hiding: up to the last @ before a path, a space
 * or a quote.
 */
export function redactSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#\s'"`]*@/gi, "$1***@");
}

/** Hides the credentials of every URL inside a text (a log line, an error message from a client library). */
export function redactUrlsIn(text: string): string {
  // Up to the last @ before the URL ends (whitespace, a quote or its path): a password may contain an @.
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi, "$1***@");
}
