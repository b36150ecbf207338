// Text input and output of the simple scalar types: bool, the integers, the floats, bytea, uuid.
// Each pair mirrors a Postgres input/output function (boolin/boolout, int4in, float8in/float8out,
// byteain/byteaout, uuid_in/uuid_out), with Postgres's error codes and messages.

import { PgError } from "../../../../common/errors.ts";

// ---- bool ----

/** boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, unique prefixes, trimmed. */
export function parseBool(text: string): boolean {
  const s = text.trim().toLowerCase();
  if (s.length > 0) {
    if ("true".startsWith(s) || ("yes".startsWith(s)) || s === "on" || s === "1") return true;
    if ("false".startsWith(s) || "no".startsWith(s) || (s.length >= 2 && "off".startsWith(s)) || s === "0") return false;
  }
  throw new PgError("invalid_text_representation", `invalid input syntax for type boolean: "${text}"`);
}

export function formatBool(b: boolean): string {
  return b ? "t" : "f";
}

// ---- integers ----

export const INT2_MIN = -32768;
export const INT2_MAX = 32767;
export const INT4_MIN = -2147483648;
export const INT4_MAX = 2147483647;
export const INT8_MIN = -(2n ** 63n);
export const INT8_MAX = 2n ** 63n - 1n;
export const OID_MAX = 4294967295;

const INT_SYNTAX = /^\s*[+-]?\d+\s*$/;

export function parseInt8(text: string): bigint {
  if (!INT_SYNTAX.test(text)) {
    throw new PgError("invalid_text_representation", `invalid input syntax for type bigint: "${text}"`);
  }
  const v = BigInt(text.trim());
  if (v < INT8_MIN || v > INT8_MAX) {
    throw new PgError("numeric_value_out_of_range", `value "${text}" is out of range for type bigint`);
  }
  return v;
}

/** int2in / int4in: `label` is the SQL type name Postgres uses in messages (smallint, integer). */
export function parseSmallInt(text: string, min: number, max: number, label: string): number {
  if (!INT_SYNTAX.test(text)) {
    throw new PgError("invalid_text_representation", `invalid input syntax for type ${label}: "${text}"`);
  }
  const v = Number(text.trim());
  if (v < min || v > max) {
    throw new PgError("numeric_value_out_of_range", `value "${text}" is out of range for type ${label}`);
  }
  return v === 0 ? 0 : v; // no -0
}

export function parseOid(text: string): number {
  if (!INT_SYNTAX.test(text)) {
    throw new PgError("invalid_text_representation", `invalid input syntax for type oid: "${text}"`);
  }
  let v = Number(text.trim());
  // oidin accepts negative values down to INT32_MIN and wraps them, as C's strtoul does.
  if (v < 0 && v >= INT4_MIN) v += OID_MAX + 1;
  if (v < 0 || v > OID_MAX) {
    throw new PgError("numeric_value_out_of_range", `value "${text}" is out of range for type oid`);
  }
  return v;
}

// ---- floats ----

const FLOAT_SYNTAX = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** float8in / float4in: decimal syntax, NaN, [+-]Infinity, [+-]inf; 22003 when out of range. */
export function parseFloat8(text: string, float4 = false): number {
  const label = float4 ? "real" : "double precision";
  const s = text.trim();
  const lower = s.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "infinity" || lower === "+infinity" || lower === "inf" || lower === "+inf") return Infinity;
  if (lower === "-infinity" || lower === "-inf") return -Infinity;
  if (!FLOAT_SYNTAX.test(s)) {
    throw new PgError("invalid_text_representation", `invalid input syntax for type ${label}: "${text}"`);
  }
  const v = Number(s);
  const r = float4 ? Math.fround(v) : v;
  const mantissaNonZero = /[1-9]/.test(s.replace(/e.*$/i, ""));
  if (!Number.isFinite(r) || (r === 0 && mantissaNonZero)) {
    throw new PgError("numeric_value_out_of_range", `"${s}" is out of range for type ${label}`);
  }
  return r;
}

/**
 * float8out / float4out (Postgres 12+, extra_float_digits = 1 default): the shortest decimal that
 * reads back as the same float, fixed notation for decimal exponents in [-4, 15) (float4:
 * [-4, 6)), otherwise d.ddde±XX.
 */
export function formatFloat(x: number, float4 = false): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  let sci: string;
  if (float4) {
    sci = x.toExponential(8);
    for (let p = 1; p <= 9; p++) {
      const candidate = x.toExponential(p - 1);
      if (Math.fround(Number(candidate)) === x) {
        sci = candidate;
        break;
      }
    }
  } else {
    sci = x.toExponential();
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(sci)!;
  const sign = m[1]!;
  const digits = (m[2]! + (m[3] ?? "")).replace(/0+$/, "") || "0";
  const exp = Number(m[4]);
  if (exp >= -4 && exp < (float4 ? 6 : 15)) {
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}`;
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
}

// ---- bytea ----

const HEX = "0123456789abcdef";

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** byteain: `\x` hex (whitespace allowed between digit pairs) or the escape format. */
export function parseBytea(text: string): Uint8Array {
  if (text.startsWith("\\x") || text.startsWith("\\X")) {
    const out: number[] = [];
    let i = 2;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        i++;
        continue;
      }
      const hi = hexValue(c);
      if (hi < 0) throw new PgError("invalid_parameter_value", `invalid hexadecimal digit: "${text[i]}"`);
      if (i + 1 >= text.length) throw new PgError("invalid_parameter_value", `invalid hexadecimal data: odd number of digits`);
      const lo = hexValue(text.charCodeAt(i + 1));
      if (lo < 0) throw new PgError("invalid_parameter_value", `invalid hexadecimal digit: "${text[i + 1]}"`);
      out.push(hi * 16 + lo);
      i += 2;
    }
    return Uint8Array.from(out);
  }
  // Escape format: bytes as UTF-8, `\\` for a backslash, `\ooo` octal.
  const out: number[] = [];
  const encoded = new TextEncoder().encode(text);
  for (let i = 0; i < encoded.length; i++) {
    const b = encoded[i]!;
    if (b !== 92) {
      out.push(b);
      continue;
    }
    if (encoded[i + 1] === 92) {
      out.push(92);
      i++;
      continue;
    }
    const o = encoded.slice(i + 1, i + 4);
    if (o.length === 3 && o[0]! >= 48 && o[0]! <= 51 && o[1]! >= 48 && o[1]! <= 55 && o[2]! >= 48 && o[2]! <= 55) {
      out.push((o[0]! - 48) * 64 + (o[1]! - 48) * 8 + (o[2]! - 48));
      i += 3;
      continue;
    }
    throw new PgError("invalid_text_representation", `invalid input syntax for type bytea`);
  }
  return Uint8Array.from(out);
}

/** byteaout with bytea_output = hex. */
export function formatBytea(bytes: Uint8Array): string {
  let s = "\\x";
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

// ---- uuid ----

/** uuid_in: 32 hex digits, optional braces, hyphens allowed after any group of four digits. */
export function parseUuid(text: string): string {
  let s = text;
  if (s.startsWith("{")) {
    if (!s.endsWith("}")) throw uuidError(text);
    s = s.slice(1, -1);
  }
  let hex = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "-" && hex.length > 0 && hex.length % 4 === 0 && i + 1 < s.length && s[i + 1] !== "-" && hex.length < 32) continue;
    if (hexValue(c.charCodeAt(0)) < 0) throw uuidError(text);
    hex += c.toLowerCase();
  }
  if (hex.length !== 32) throw uuidError(text);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidError(text: string): PgError {
  return new PgError("invalid_text_representation", `invalid input syntax for type uuid: "${text}"`);
}

export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function uuidFromBytes(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += HEX[b >> 4]! + HEX[b & 15]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
