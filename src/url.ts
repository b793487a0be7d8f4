/** Hides credentials in a URL (or a comma-separated list of them) before it is printed. */
export function redactUrl(url: string): string {
  return url
    .split(",")
    // Greedy up to the last @ of the authority: a password may contain an @ itself.
    .map((one) => one.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@"))
    .join(",");
}
