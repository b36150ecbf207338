// Conversion between the client's encoding and the text the engine holds (JavaScript strings, the
// database encoding being UTF8), with PostgreSQL 15's errors:
//
//   client bytes → text:  a byte the encoding does not allow (NUL, in every single-byte encoding)
//                         → 22021 `invalid byte sequence for encoding "LATIN1": 0x00`;
//                         a byte with no Unicode character → 22P05 `character with byte sequence
//                         0x81 in encoding "WIN1252" has no equivalent in encoding "UTF8"`
//   text → client bytes:  a character the encoding lacks → 22P05 `character with byte sequence
//                         0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"`
//
// The first offending character in order decides, as Postgres's conversion loops report it.
// UTF8 and SQL_ASCII need no codec (`textCodec` returns null): with a UTF8 database Postgres passes
// SQL_ASCII client data through unconverted and checks it as UTF8, which is what the UTF8 path does.
import { PgError } from "../../../../common/errors.ts";
import { isSingleByteEncoding, type ClientEncodingName, type SingleByteEncoding } from "../../sql/client-encoding.ts";
import { SINGLE_BYTE_HIGH_HALVES } from "./single-byte-tables.ts";

export interface TextCodec {
  readonly name: SingleByteEncoding;
  /** Client bytes → text (22021 / 22P05 as above). */
  decode(bytes: Uint8Array): string;
  /** Text → client bytes (22P05 as above). */
  encode(text: string): Uint8Array;
}

const codecs = new Map<SingleByteEncoding, TextCodec>();

/** The codec of a client encoding; null for UTF8 and SQL_ASCII (the bytes are UTF-8 as they are). */
export function textCodec(name: ClientEncodingName): TextCodec | null {
  if (!isSingleByteEncoding(name)) return null;
  let codec = codecs.get(name);
  if (codec === undefined) {
    codec = new SingleByteCodec(name);
    codecs.set(name, codec);
  }
  return codec;
}

/** Characters per String.fromCharCode call (its arguments go on the stack). */
const DECODE_CHUNK_CHARS = 8192;

class SingleByteCodec implements TextCodec {
  readonly name: SingleByteEncoding;
  /** Byte → UTF-16 code unit; 0 for a byte without a character (and for NUL, which is invalid). */
  private readonly toUnicode = new Uint16Array(256);
  /** Code unit ≥ 0x80 → byte. */
  private readonly fromUnicode = new Map<number, number>();

  constructor(name: SingleByteEncoding) {
    this.name = name;
    const high = SINGLE_BYTE_HIGH_HALVES[name];
    for (let b = 1; b < 0x80; b++) this.toUnicode[b] = b;
    for (let i = 0; i < 0x80; i++) {
      const cp = high.charCodeAt(i);
      this.toUnicode[0x80 + i] = cp;
      if (cp !== 0) this.fromUnicode.set(cp, 0x80 + i);
    }
  }

  decode(bytes: Uint8Array): string {
    let out = "";
    const units = new Uint16Array(Math.min(bytes.length, DECODE_CHUNK_CHARS));
    for (let start = 0; start < bytes.length; start += DECODE_CHUNK_CHARS) {
      const end = Math.min(bytes.length, start + DECODE_CHUNK_CHARS);
      for (let i = start; i < end; i++) {
        const b = bytes[i]!;
        const u = this.toUnicode[b]!;
        if (u === 0) throw b === 0 ? invalidByte(this.name, b) : untranslatable([b], this.name, "UTF8");
        units[i - start] = u;
      }
      out += String.fromCharCode.apply(null, units.subarray(0, end - start) as unknown as number[]);
    }
    return out;
  }

  encode(text: string): Uint8Array {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      if (u < 0x80) {
        out[i] = u;
        continue;
      }
      const b = this.fromUnicode.get(u);
      if (b === undefined) throw untranslatable(utf8Bytes(text, i), "UTF8", this.name);
      out[i] = b;
    }
    return out;
  }
}

/** The UTF-8 bytes of the character at index i (a surrogate pair counts as one character). */
function utf8Bytes(text: string, i: number): number[] {
  const cp = text.codePointAt(i)!;
  return [...new TextEncoder().encode(String.fromCodePoint(cp))];
}

function hexBytes(bytes: readonly number[]): string {
  return bytes.map((b) => "0x" + b.toString(16).padStart(2, "0")).join(" ");
}

function invalidByte(encoding: string, b: number): PgError {
  return new PgError("character_not_in_repertoire", `invalid byte sequence for encoding "${encoding}": ${hexBytes([b])}`);
}

function untranslatable(bytes: readonly number[], from: string, to: string): PgError {
  return new PgError("untranslatable_character", `character with byte sequence ${hexBytes(bytes)} in encoding "${from}" has no equivalent in encoding "${to}"`);
}
