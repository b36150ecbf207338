// The first bytes of a Postgres connection, as carried over the /v2 WebSocket: SSLRequest /
// GSSENCRequest (answered 'N', the client continues in plaintext), CancelRequest, StartupMessage.
// Message names follow the Postgres protocol documentation ("Message Formats"). The protocol after
// authentication belongs to the gateway's pgwire/; the edge needs only this much to find the
// tenant and authenticate the client.
import { PgError } from "../../../common/errors.ts";

export const PROTOCOL_VERSION_3 = 196608; // 3 << 16
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

export type StartupPacket =
  | { kind: "SSLRequest" }
  | { kind: "GSSENCRequest" }
  | { kind: "CancelRequest"; processId: number; secretKey: number }
  | { kind: "StartupMessage"; protocolVersion: number; parameters: Record<string, string> };

/** Accumulates bytes (WebSocket frames split and join messages freely) and yields whole startup packets. */
export class StartupReader {
  private buffer = new Uint8Array(0);
  private readonly bytesMax: number;

  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  push(bytes: Uint8Array): void {
    const next = new Uint8Array(this.buffer.length + bytes.length);
    next.set(this.buffer, 0);
    next.set(bytes, this.buffer.length);
    this.buffer = next;
  }

  /** The next complete packet, or null when more bytes are needed. Throws PgError (08P01) on malformed input. */
  next(): StartupPacket | null {
    if (this.buffer.length < 4) return null;
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    const length = view.getInt32(0, false);
    if (length < 8 || length > this.bytesMax) {
      throw new PgError("protocol_violation", `invalid length of startup packet: ${length}`);
    }
    if (this.buffer.length < length) return null;
    const body = this.buffer.subarray(4, length);
    this.buffer = this.buffer.slice(length);
    return decodeStartupPacket(body);
  }

  /** Takes the bytes received after the last whole packet (the client's next messages). */
  drain(): Uint8Array {
    const out = this.buffer;
    this.buffer = new Uint8Array(0);
    return out;
  }

  /** Bytes received after the last whole packet (the client's next messages). */
  get pending(): number {
    return this.buffer.length;
  }
}

/** Decodes one startup packet's body (everything after its Int32 length). */
export function decodeStartupPacket(body: Uint8Array): StartupPacket {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const code = view.getInt32(0, false);
  if (code === SSL_REQUEST_CODE && body.length === 4) return { kind: "SSLRequest" };
  if (code === GSSENC_REQUEST_CODE && body.length === 4) return { kind: "GSSENCRequest" };
  if (code === CANCEL_REQUEST_CODE && body.length === 12) {
    return { kind: "CancelRequest", processId: view.getInt32(4, false), secretKey: view.getInt32(8, false) };
  }
  if (code >> 16 !== 3) {
    throw new PgError("feature_not_supported", `unsupported frontend protocol ${code >> 16}.${code & 0xffff}: server supports 3.0`);
  }
  const parameters: Record<string, string> = Object.create(null);
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let at = 4;
  const cstring = (): string => {
    const end = body.indexOf(0, at);
    if (end < 0) throw new PgError("protocol_violation", "invalid startup packet layout: expected terminator as last byte");
    let s: string;
    try {
      s = decoder.decode(body.subarray(at, end));
    } catch {
      throw new PgError("protocol_violation", "startup packet is not valid UTF-8");
    }
    at = end + 1;
    return s;
  };
  for (;;) {
    if (at >= body.length) throw new PgError("protocol_violation", "invalid startup packet layout: expected terminator as last byte");
    if (body[at] === 0) {
      if (at !== body.length - 1) throw new PgError("protocol_violation", "invalid startup packet layout: bytes after terminator");
      break;
    }
    const key = cstring();
    const value = cstring();
    parameters[key] = value;
  }
  return { kind: "StartupMessage", protocolVersion: code, parameters };
}

/** Builds an ErrorResponse ('E') with severity, SQLSTATE, message, detail and hint. */
export function encodeErrorResponse(err: PgError, severity: "ERROR" | "FATAL" = "FATAL"): Uint8Array {
  const fields: Array<[string, string]> = [
    ["S", severity],
    ["V", severity],
    ["C", err.code],
    ["M", err.message],
  ];
  if (err.detail !== undefined) fields.push(["D", err.detail]);
  if (err.hint !== undefined) fields.push(["H", err.hint]);
  const encoder = new TextEncoder();
  const parts = fields.map(([tag, text]) => [tag.charCodeAt(0), encoder.encode(text)] as const);
  const bodyLength = parts.reduce((n, [, b]) => n + 1 + b.length + 1, 0) + 1;
  const out = new Uint8Array(1 + 4 + bodyLength);
  out[0] = "E".charCodeAt(0);
  new DataView(out.buffer).setInt32(1, 4 + bodyLength, false);
  let at = 5;
  for (const [tag, bytes] of parts) {
    out[at++] = tag;
    out.set(bytes, at);
    at += bytes.length;
    out[at++] = 0;
  }
  out[at] = 0;
  return out;
}

/** The one-byte answer to SSLRequest / GSSENCRequest: 'N', not supported (TLS ends at the WebSocket). */
export const NO_ENCRYPTION = new Uint8Array(["N".charCodeAt(0)]);
