import type { IncomingMessage, ServerResponse } from "node:http";

/** Largest POST body accepted; a reading is ~100 bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** An answer for the client: its status and a one-sentence error. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Headers of the answer, e.g. Allow of a 405, Retry-After of a 503. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendCsv(res: ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": "text/csv; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Whether the client asks for CSV rather than JSON (`Accept: text/csv`). */
export function wantsCsv(req: IncomingMessage): boolean {
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(String(req.headers.accept ?? ""));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Splits the path into decoded segments; a malformed escape is the client's error. */
export function pathSegments(url: string): string[] {
  const path = url.split("?")[0] ?? "/";
  try {
    return path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, "the path contains a malformed %-escape");
  }
}
