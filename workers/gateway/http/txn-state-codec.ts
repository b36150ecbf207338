// The transaction state as it travels to the edge (and, sealed, to the client): JSON, compressed
// with raw DEFLATE (CompressionStream, in workerd and browsers alike), base64. Buffered writes are
// mostly key prefixes and row encodings that repeat, so the handle shrinks several times; both
// directions are bounded (limits.txnStateBytesMax compressed, txnStateJsonBytesMax inflated), so a
// crafted state cannot make the gateway inflate without end (the edge only passes states it sealed,
// but the bound holds whatever comes in).
import { PgError } from "../../../common/errors.ts";
import { readCapped } from "../../../common/read-capped.ts";
import { limits } from "./limits.ts";

const encoder = new TextEncoder();

function collect(stream: ReadableStream<Uint8Array>, bytesMax: number, what: string): Promise<Uint8Array> {
  return readCapped(stream, bytesMax, () => new PgError("program_limit_exceeded", `${what} is larger than ${bytesMax} bytes`));
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** JSON text → compressed bytes (the caller checks them against limits.txnStateBytesMax). */
export async function compressState(json: string): Promise<Uint8Array> {
  const bytes = encoder.encode(json);
  if (bytes.byteLength > limits.txnStateJsonBytesMax) {
    throw new PgError("program_limit_exceeded", `the transaction's state is ${bytes.byteLength} bytes before compression; the limit is ${limits.txnStateJsonBytesMax}`);
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return collect(stream, limits.txnStateJsonBytesMax, "the compressed transaction state");
}

export function stateHeaderOf(compressed: Uint8Array): string {
  return b64(compressed);
}

/** The header's text back to JSON text, inflating at most limits.txnStateJsonBytesMax bytes. */
export async function stateFromHeader(text: string): Promise<string> {
  let raw: string;
  try {
    raw = atob(text);
  } catch {
    throw new PgError("internal_error", "the transaction state from the edge is not base64");
  }
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await collect(stream, limits.txnStateJsonBytesMax, "the transaction state"));
  } catch (err) {
    if (err instanceof PgError) throw err;
    throw new PgError("internal_error", "the transaction state from the edge does not inflate");
  }
}
