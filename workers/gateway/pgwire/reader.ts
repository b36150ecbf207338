// Splitting the frontend byte stream into messages. WebSocket frames (and TCP segments behind the
// tunnel) split and join Postgres messages freely, so bytes are queued as they arrive and a message
// is taken only once all of it is there:
//
//   Byte1 type | Int32 length (counts itself, not the type byte) | body (length - 4 bytes)
//
// A length below 4 or above pgwireLimits.messageBytesMax is a protocol violation (08P01), detected
// from the 5-byte header alone, before any of the body is buffered.
import { PgError } from "../../../common/errors.ts";
import { pgwireLimits } from "./limits.ts";
import { decodeUtf8Strict } from "./utf8.ts";

export interface FrontendFrame {
  /** The message type byte as a one-character string ('Q', 'P', …). */
  type: string;
  body: Uint8Array;
}

export class MessageReader {
  /** Received chunks not yet consumed; `offset` is how far into chunks[0] we are. */
  private chunks: Uint8Array[] = [];
  private offset = 0;
  private buffered = 0;
  private readonly messageBytesMax: number;
  private readonly pendingBytesMax: number;

  constructor(messageBytesMax: number = pgwireLimits.messageBytesMax, pendingBytesMax: number = pgwireLimits.pendingBytesMax) {
    this.messageBytesMax = messageBytesMax;
    this.pendingBytesMax = pendingBytesMax;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.buffered + bytes.length > this.pendingBytesMax) {
      throw new PgError("program_limit_exceeded", `more than ${this.pendingBytesMax} bytes received ahead of the server`, {
        hint: "Read the server's responses before sending more.",
      });
    }
    this.chunks.push(bytes);
    this.buffered += bytes.length;
  }

  /** Bytes received and not yet returned as messages. */
  get pending(): number {
    return this.buffered;
  }

  /** The next whole message, or null when more bytes are needed. Throws PgError 08P01 on a bad length. */
  next(): FrontendFrame | null {
    if (this.buffered < 5) return null;
    const header = this.peek(5);
    const type = header[0]!;
    const length = ((header[1]! << 24) | (header[2]! << 16) | (header[3]! << 8) | header[4]!) | 0;
    if (length < 4) throw new PgError("protocol_violation", `invalid message length ${length} for message type 0x${hex(type)}`);
    if (length > this.messageBytesMax) {
      throw new PgError("protocol_violation", `message of type 0x${hex(type)} is ${length} bytes long; the limit is ${this.messageBytesMax}`);
    }
    if (this.buffered < 1 + length) return null;
    this.take(5);
    return { type: String.fromCharCode(type), body: this.take(length - 4) };
  }

  /** Everything buffered, as one array (for handing unread bytes on). */
  drain(): Uint8Array {
    return this.take(this.buffered);
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    return this.copyOut(n, false);
  }

  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.advance(n);
      return out;
    }
    return this.copyOut(n, true);
  }

  private copyOut(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    let off = this.offset;
    while (filled < n) {
      const c = this.chunks[i]!;
      const k = Math.min(c.length - off, n - filled);
      out.set(c.subarray(off, off + k), filled);
      filled += k;
      i++;
      off = 0;
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** Client bytes → text in the client's encoding (pgwire/encoding/codec.ts); absent means UTF-8. */
export type DecodeText = (bytes: Uint8Array) => string;

/**
 * Reads the fields of one message body; running past its end is 08P01. Strings are in the client's
 * encoding (`decodeText`, UTF-8 when absent); bytes that do not decode are 22021 / 22P05.
 */
export class BodyReader {
  private at = 0;
  private readonly view: DataView;
  readonly body: Uint8Array;
  private readonly message: string;
  private readonly decodeText: DecodeText;

  constructor(body: Uint8Array, message: string, decodeText: DecodeText = decodeUtf8Strict) {
    this.body = body;
    this.message = message;
    this.decodeText = decodeText;
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  private need(n: number): void {
    if (n < 0 || this.at + n > this.body.length) throw new PgError("protocol_violation", `invalid ${this.message} message: too short`);
  }

  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.at, false);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.at, false);
    this.at += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, false);
    this.at += 4;
    return v;
  }

  byte(): number {
    this.need(1);
    return this.body[this.at++]!;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.body.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  cstring(): string {
    const end = this.body.indexOf(0, this.at);
    if (end < 0) throw new PgError("protocol_violation", `invalid ${this.message} message: unterminated string`);
    const s = this.decodeText(this.body.subarray(this.at, end));
    this.at = end + 1;
    return s;
  }

  /** The remaining bytes (CopyData). */
  rest(): Uint8Array {
    const out = this.body.subarray(this.at);
    this.at = this.body.length;
    return out;
  }

  /** Postgres checks that a message was consumed exactly; trailing bytes are a malformed message. */
  end(): void {
    if (this.at !== this.body.length) throw new PgError("protocol_violation", `invalid ${this.message} message: ${this.body.length - this.at} unexpected trailing bytes`);
  }
}
