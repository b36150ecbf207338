// UTF-8 decoding with Postgres's error: 22021 "invalid byte sequence for encoding "UTF8": 0xc3
// 0x28", naming the bytes the first bad sequence's lead byte announces (at most those present),
// as report_invalid_encoding does. NUL is refused too (Postgres text cannot hold it).
import { PgError } from "../../../common/errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeUtf8Strict(bytes: Uint8Array): string {
  if (bytes.indexOf(0) < 0) {
    try {
      return utf8.decode(bytes);
    } catch {
      // located below
    }
  }
  throw invalidUtf8(bytes);
}

function invalidUtf8(bytes: Uint8Array): PgError {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (b === 0 || len === 0 || i + len > bytes.length || !validSequence(bytes, i, len)) return invalidAt(bytes, i);
    i += len;
  }
  return new PgError("character_not_in_repertoire", 'invalid byte sequence for encoding "UTF8"');
}

function validSequence(bytes: Uint8Array, at: number, len: number): boolean {
  if (len === 1) return true;
  try {
    utf8.decode(bytes.subarray(at, at + len));
    return true;
  } catch {
    return false;
  }
}

function invalidAt(bytes: Uint8Array, at: number): PgError {
  const b = bytes[at]!;
  // pg_utf_mblen: the length the lead byte announces (1 for a byte that cannot lead).
  const announced = (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 1;
  const shown = Array.from(bytes.subarray(at, Math.min(bytes.length, at + announced)), (x) => "0x" + x.toString(16).padStart(2, "0"));
  return new PgError("character_not_in_repertoire", `invalid byte sequence for encoding "UTF8": ${shown.join(" ")}`);
}
