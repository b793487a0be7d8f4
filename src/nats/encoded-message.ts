import { MsgHdrsImpl } from "@nats-io/transport-node";

/**
 * Encodes messages into shared 64 KiB slabs instead of a buffer (and an ArrayBuffer) per
 * string: TextEncoder per payload and header was a fifth of the CPU and most of the garbage.
 * A slab is never written twice; nats.js copies the views into its outbound buffer, and a
 * slab is collected once no view of it is left.
 */
export class SlabEncoder {
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private used = 0;
  /** The last message's header block (empty without a dedup id) and payload. */
  headers: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  payload: Uint8Array<ArrayBuffer> = new Uint8Array(0);

  /** Writes one message (UTF-8): with a dedup id, its header block and payload in one write. */
  encode(dedupId: string | undefined, payload: string): void {
    const text = dedupId === undefined ? payload : `NATS/1.0\r\nNats-Msg-Id: ${dedupId}\r\n\r\n${payload}`;
    const room = text.length * 3;
    if (this.used + room > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(65_536, room));
      this.used = 0;
    }
    const start = this.used;
    this.used += this.slab.write(text, start);
    const headerBytes = dedupId === undefined ? 0 : HEADER_FRAME_BYTES + Buffer.byteLength(dedupId);
    const buffer = this.slab.buffer as ArrayBuffer;
    const offset = this.slab.byteOffset + start;
    this.headers = new Uint8Array(buffer, offset, headerBytes);
    this.payload = new Uint8Array(buffer, offset + headerBytes, this.used - start - headerBytes);
  }
}

/** "NATS/1.0\r\n" + "Nats-Msg-Id: " + "\r\n\r\n". */
const HEADER_FRAME_BYTES = 27;

/**
 * Headers handed over as encoded bytes. nats.js calls encode() synchronously inside
 * publish(), so one instance serves every publish, its bytes set just before.
 */
export class EncodedHeaders extends MsgHdrsImpl {
  bytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);

  override encode(): Uint8Array {
    return this.bytes;
  }
}
