const TD = new TextDecoder();
const PLAIN_ACK_HEAD = Uint8Array.from('{"stream":', (c) => c.charCodeAt(0));

/** One reply on the inbox, read. */
export type AckOutcome =
  | { readonly kind: "stored"; readonly duplicate: boolean }
  | { readonly kind: "noResponders" }
  | { readonly kind: "rejected"; readonly code: number; readonly description: string };

/**
 * Whether a reply is a plain PubAck, `{"stream":"EC_STREAM", "seq":42}`, told from its first and
 * last bytes: decoding and parsing every ack cost more than matching it. A duplicate ack ends
 * in `true}`, an error reply starts with `{"error"`: both take the full path.
 */
function isPlainAck(data: Uint8Array): boolean {
  const n = data.length;
  if (n <= PLAIN_ACK_HEAD.length + 1 || data[n - 1] !== 0x7d) return false;
  const digit = data[n - 2]!;
  if (digit < 0x30 || digit > 0x39) return false;
  for (let i = 0; i < PLAIN_ACK_HEAD.length; i += 1) if (data[i] !== PLAIN_ACK_HEAD[i]) return false;
  return true;
}

const STORED: AckOutcome = { kind: "stored", duplicate: false };

/**
 * Reads a reply to a publish: a PubAck `{"stream","seq","duplicate"?}`, an error
 * `{"error":{"code","err_code","description"}}`, or a 503 status without payload when nothing
 * (no stream) listens on the subject.
 */
export function readAck(data: Uint8Array, statusCode: number | undefined): AckOutcome {
  if (isPlainAck(data)) return STORED;
  if (statusCode === 503 && data.length === 0) return { kind: "noResponders" };
  if (statusCode !== undefined && statusCode !== 0 && statusCode !== 200 && data.length === 0) {
    return { kind: "rejected", code: statusCode, description: `status ${statusCode}` };
  }
  let ack: { stream?: unknown; duplicate?: unknown; error?: { code?: unknown; err_code?: unknown; description?: unknown } };
  try {
    ack = JSON.parse(TD.decode(data)) as typeof ack;
  } catch {
    return { kind: "rejected", code: 500, description: "an ack that is not JSON" };
  }
  if (ack?.error) {
    const { code, err_code: errCode, description } = ack.error;
    const text = `${typeof description === "string" ? description : "error"}${typeof errCode === "number" ? ` (${errCode})` : ""}`;
    return { kind: "rejected", code: typeof code === "number" ? code : 500, description: text };
  }
  if (typeof ack?.stream !== "string" || ack.stream === "") return { kind: "rejected", code: 500, description: "an invalid ack" };
  return { kind: "stored", duplicate: ack.duplicate === true };
}
