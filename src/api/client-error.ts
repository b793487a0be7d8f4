import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** What node's HTTP parser reports about a request it could not read. */
type ClientError = Error & { readonly code?: string };

/**
 * The answer to a request node's HTTP parser refuses before it reaches the router (a control
 * character or a raw space in the path, an unknown method, a request line and headers over
 * 16 KB): the JSON error every other refusal gets, instead of node's bare `400 Bad Request`
 * without a body (issue 10). As node's own handler does, it answers only when no response of
 * the connection is on its way, then closes the connection.
 */
export function answerClientError(err: ClientError, socket: Duplex): void {
  // Node keeps the response in flight on the socket (its own handler checks the same).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code !== "ECONNRESET" && socket.writable && !inFlight?.headersSent) {
    const [status, error] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "the request line and headers must be at most 16 KB"]
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "the request did not arrive in time"]
          : [400, `the request is not valid HTTP/1.1 (${err.code ?? "parse error"}); a path must be %-encoded`];
    const body = JSON.stringify({ error });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
  // As node does after its bare 400: the answer is written at once, then the connection goes.
  socket.destroy();
}

/**
 * A CONNECT request (a proxy tunnel): node hands it to the server's `connect` listeners, and
 * without one drops the connection unanswered. The API is no proxy: a JSON 405, as for any other
 * method it does not take.
 */
export function answerConnect(_req: unknown, socket: Duplex): void {
  const body = JSON.stringify({ error: "CONNECT is not supported: this API is no proxy" });
  socket.end(`HTTP/1.1 405 ${STATUS_CODES[405]}\r\nallow: GET, POST\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
