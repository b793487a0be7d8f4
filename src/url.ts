/** Hides credentials in a URL (or a comma-separated list of them) before it is printed. */
export function redactUrl(url: string): string {
  return url
    .split(",")
    .map((one) => one.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]+)@/i, "$1***@"))
    .join(",");
}
