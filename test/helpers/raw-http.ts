import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * One HTTP/1.1 request written byte for byte over a TCP socket, so the request target reaches
 * the server as given: fetch and http.request resolve `..`, %-encode controls and refuse raw
 * ones. The request closes its connection; an SSE response is read up to its headers only.
 * Rejects when no response has come within `timeoutMs` (a hang).
 */
export function rawRequest(
  baseUrl: string,
  options: {
    readonly method: string;
    readonly target: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string | Buffer;
    /** Send the body with Transfer-Encoding: chunked (no Content-Length) in chunks of this many bytes. */
    readonly chunkBytes?: number;
  },
  timeoutMs = 15_000,
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, "utf8");
  const headers: Record<string, string> = { host: `${hostname}:${port}`, connection: "close", ...options.headers };
  let payload = body ?? Buffer.alloc(0);
  if (body && options.chunkBytes) {
    headers["transfer-encoding"] = "chunked";
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; at += options.chunkBytes) {
      const chunk = body.subarray(at, at + options.chunkBytes);
      chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
    }
    payload = Buffer.concat([...chunks, Buffer.from("0\r\n\r\n")]);
  } else if (body) headers["content-length"] ??= String(body.length);
  const head = `${options.method} ${options.target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("")}\r\n`;

  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ""));
    const chunks: Buffer[] = [];
    let settled = false;
    /** `ended`: the connection is gone, so what arrived is all there is. */
    const finish = (ended: boolean, err?: Error): void => {
      if (settled) return;
      const response = parse(Buffer.concat(chunks), options.method === "HEAD");
      // A server that answers before it read the whole body (413) may reset the connection
      // after its answer: what arrived counts, and the test judges whether it is well-formed.
      if (response && (response.complete || ended)) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(response.response);
      } else if (err) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(`${options.method} ${JSON.stringify(options.target)}: ${err.message} after ${Buffer.concat(chunks).length} bytes`));
      }
    };
    const timer = setTimeout(() => finish(false, new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      finish(false);
    });
    socket.on("end", () => finish(true, new Error("connection closed without a response")));
    socket.on("close", () => finish(true, new Error("connection closed without a response")));
    socket.on("error", (err) => finish(true, err));
    socket.write(Buffer.concat([Buffer.from(head, "utf8"), payload]), () => undefined);
  });
}

/**
 * The response in `bytes` and whether it is complete: headers and the body its Content-Length
 * announces (an answer to HEAD, a 1xx, 204 or 304, an event stream: its headers).
 */
function parse(bytes: Buffer, head: boolean): { complete: boolean; response: RawResponse } | undefined {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? Number.NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(end + 4);
  const body = rest.toString("utf8");
  if (head || status < 200 || status === 204 || status === 304 || headers["content-type"]?.startsWith("text/event-stream")) {
    return { complete: true, response: { status, headers, body } };
  }
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  return { complete: length !== undefined && rest.length >= length, response: { status, headers, body: length === undefined ? body : rest.subarray(0, length).toString("utf8") } };
}
