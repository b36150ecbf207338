// Binary format (format code 1) for every type the SQL layer has, in both directions:
//   parameters and COPY FROM … BINARY: a value's binary form → the text the session takes (Postgres's
//                                      text input syntax);
//   results and COPY TO … BINARY:      the session's text value → the binary form (Postgres's typsend).
// The session speaks text only, so binary support is a conversion at the edge of the protocol,
// through the types layer's own parsers and printers (dates, timestamps, intervals and arrays go
// text ⇄ value ⇄ bytes). A type without a conversion here is refused with 0A000 rather than guessed.
//
// Errors are those of Postgres's receive functions: a value shorter than its type needs is 08P01
// "insufficient data left in message", a longer one 22P03 "incorrect binary data format".
import { PgError } from "../../../common/errors.ts";
import { formatArray, parseArray } from "../sql/types/array-text.ts";
import { interval, PG_EPOCH_OFFSET_MICROS, TimeTz } from "../sql/types/datum.ts";
import { TIME_ZONE_OFFSET_SECONDS_MAX, formatTime, formatTimeTz, parseTime, parseTimeTz } from "../sql/types/time-text.ts";
import { formatDate, formatTimestamp, formatTimestamptz, parseDate, parseTimestamp } from "../sql/types/datetime-text.ts";
import { formatInterval, parseInterval } from "../sql/types/interval-text.ts";
import { UTC } from "../sql/types/timezone.ts";
// Type OIDs are the types layer's (pg_type facts live in one place).
import { formatType, isKnownTypeOid, isVectorType, Oid, typeFromOid } from "../sql/types/type.ts";
import { decodeUtf8Strict } from "./utf8.ts";

const TEXT_LIKE = new Set<number>([Oid.text, Oid.varchar, Oid.bpchar, Oid.name, Oid.json, Oid.unknown]);
const toUtf8 = new TextEncoder();
/** Days from 1970-01-01 to 2000-01-01, the Postgres epoch of binary dates and timestamps. */
const PG_EPOCH_DAYS = 10_957;
const DATE_END = 0x7fffffff;
const DATE_BEGIN = -0x80000000;
/** Dates and timestamps in text are parsed as Postgres prints them (ISO); their zone is explicit. */
const TEXT_CONTEXT = { timeZone: UTC, transactionTimestamp: 0n };
/** Postgres's MAXDIM: arrays have at most six dimensions. */
const ARRAY_DIMS_MAX = 6;

function insufficient(): PgError {
  return new PgError("protocol_violation", "insufficient data left in message");
}

function incorrect(detail?: string): PgError {
  return new PgError("invalid_binary_representation", "incorrect binary data format", detail === undefined ? {} : { detail });
}

/** A fixed-width value: exactly `n` bytes. */
/** time_recv's range check: 00:00:00 .. 24:00:00. */
function timeOfDayRecv(micros: bigint): bigint {
  if (micros < 0n || micros > 86_400_000_000n) throw new PgError("datetime_field_overflow", "time out of range");
  return micros;
}

function need(b: Uint8Array, n: number): DataView {
  if (b.length < n) throw insufficient();
  if (b.length > n) throw incorrect();
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** ASCII codes of the two hex digits of each byte value, for hexOf. */
const HEX_CODES = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, "0");
  HEX_CODES[i] = h.charCodeAt(0) | (h.charCodeAt(1) << 8);
}
const ascii = new TextDecoder("utf-8"); // the digits are ASCII

/** Lower-case hex of `b`: digit codes written into a byte array, decoded once (a bytea may be megabytes). */
function hexOf(b: Uint8Array): string {
  const out = new Uint8Array(b.length * 2);
  for (let i = 0; i < b.length; i++) {
    const c = HEX_CODES[b[i]!]!;
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >> 8;
  }
  return ascii.decode(out);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Bytes of a hex string (Warren's own output: even length, hex digits only). */
function bytesOfHex(hex: string, from: number): Uint8Array {
  const out = new Uint8Array((hex.length - from) >> 1);
  for (let i = 0, j = from; i < out.length; i++, j += 2) out[i] = (hexValue(hex.charCodeAt(j)) << 4) | hexValue(hex.charCodeAt(j + 1));
  return out;
}

/** A binary parameter as Postgres text input. `typeOid` 0 (unspecified) is taken as bytea, the only type whose text form can carry arbitrary bytes. */
export function binaryParamToText(typeOid: number, b: Uint8Array): string {
  switch (typeOid) {
    case Oid.bool:
      return need(b, 1).getUint8(0) !== 0 ? "t" : "f";
    case Oid.int2:
      return String(need(b, 2).getInt16(0, false));
    case Oid.int4:
      return String(need(b, 4).getInt32(0, false));
    case Oid.oid:
      return String(need(b, 4).getUint32(0, false));
    case Oid.int8:
      return need(b, 8).getBigInt64(0, false).toString();
    case Oid.float4:
      return floatText(need(b, 4).getFloat32(0, false));
    case Oid.float8:
      return floatText(need(b, 8).getFloat64(0, false));
    case Oid.char: {
      // "char" is one byte; bytes past ASCII print as an octal escape, as charout does.
      const c = need(b, 1).getUint8(0);
      if (c === 0) return "";
      return c < 0x80 ? String.fromCharCode(c) : "\\" + c.toString(8).padStart(3, "0");
    }
    case Oid.uuid: {
      const h = hexOf(need(b, 16) && b);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case Oid.date: {
      const v = need(b, 4).getInt32(0, false);
      if (v === DATE_END) return "infinity";
      if (v === DATE_BEGIN) return "-infinity";
      return formatDate(v + PG_EPOCH_DAYS);
    }
    case Oid.timestamp:
    case Oid.timestamptz: {
      const micros = need(b, 8).getBigInt64(0, false) + PG_EPOCH_OFFSET_MICROS;
      return typeOid === Oid.timestamp ? formatTimestamp(micros) : formatTimestamptz(micros, UTC);
    }
    case Oid.time:
      return formatTime(timeOfDayRecv(need(b, 8).getBigInt64(0, false)));
    case Oid.timetz: {
      // time_recv / timetz_recv: int64 microseconds of the day; timetz adds int32 seconds WEST of UTC.
      const v = need(b, 12);
      const west = v.getInt32(8, false);
      if (Math.abs(west) > TIME_ZONE_OFFSET_SECONDS_MAX) throw new PgError("invalid_time_zone_displacement_value", "time zone displacement out of range");
      return formatTimeTz(new TimeTz(timeOfDayRecv(v.getBigInt64(0, false)), -west));
    }
    case Oid.interval: {
      const v = need(b, 16);
      return formatInterval(interval(v.getInt32(12, false), v.getInt32(8, false), v.getBigInt64(0, false)));
    }
    case Oid.jsonb:
      if (b.length < 1) throw insufficient();
      if (b[0] !== 1) throw new PgError("invalid_binary_representation", `unsupported jsonb version number ${b[0]}`);
      return decodeUtf8Strict(b.subarray(1));
    case Oid.numeric:
      return numericBinaryToText(b);
    case Oid.bytea:
    case 0:
      return "\\x" + hexOf(b);
    default:
      if (TEXT_LIKE.has(typeOid)) return decodeUtf8Strict(b);
      if (isKnownTypeOid(typeOid) && typeFromOid(typeOid).elem !== undefined) return arrayBinaryToText(typeOid, b);
      throw new PgError("feature_not_supported", `binary format for parameters of type OID ${typeOid} is not supported`, {
        hint: "Send this parameter in text format.",
      });
  }
}

/** Shortest round-trip text, spelled the way Postgres reads special values. */
function floatText(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, "0");
}

/** NUMERIC on the wire: ndigits, weight, sign, dscale, then base-10000 digits. */
function numericBinaryToText(b: Uint8Array): string {
  if (b.length < 8) throw insufficient();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ndigits = v.getInt16(0, false);
  const weight = v.getInt16(2, false);
  const sign = v.getUint16(4, false);
  const dscale = v.getInt16(6, false);
  if (ndigits < 0) throw new PgError("invalid_binary_representation", 'invalid length in external "numeric" value');
  if (b.length < 8 + 2 * ndigits) throw insufficient();
  if (b.length > 8 + 2 * ndigits) throw incorrect();
  if (sign === 0xc000) return "NaN";
  if (sign === 0xd000) return "Infinity";
  if (sign === 0xf000) return "-Infinity";
  if (sign !== 0 && sign !== 0x4000) throw new PgError("invalid_binary_representation", 'invalid sign in external "numeric" value');
  if (dscale < 0) throw new PgError("invalid_binary_representation", 'invalid scale in external "numeric" value');
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = v.getInt16(8 + 2 * i, false);
    if (d < 0 || d > 9999) throw new PgError("invalid_binary_representation", 'invalid digit in external "numeric" value');
    digits.push(d);
  }
  let intPart = "";
  for (let w = weight, i = 0; w >= 0; w--, i++) intPart += i === 0 ? String(digits[i] ?? 0) : pad(digits[i] ?? 0, 4);
  if (intPart === "") intPart = "0";
  let frac = "";
  for (let i = weight + 1; frac.length < dscale; i++) frac += pad(i >= 0 ? (digits[i] ?? 0) : 0, 4);
  frac = frac.slice(0, dscale);
  return (sign === 0x4000 ? "-" : "") + intPart + (dscale > 0 ? "." + frac : "");
}

function numericTextToBinary(text: string): Uint8Array {
  const special: Record<string, number> = { NaN: 0xc000, Infinity: 0xd000, "-Infinity": 0xf000 };
  const out = (ndigits: number) => new DataView(new ArrayBuffer(8 + 2 * ndigits));
  if (text in special) {
    const v = out(0);
    v.setUint16(4, special[text]!, false);
    // Postgres's numeric_send reports a display scale of 32 for ±Infinity (bits of its header), 0 for NaN.
    if (text !== "NaN") v.setInt16(6, 0x20, false);
    return new Uint8Array(v.buffer);
  }
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new PgError("internal_error", `numeric value ${JSON.stringify(text)} has no binary form`);
  const neg = m[1] === "-";
  const intDigits = m[2]!.replace(/^0+/, "");
  const fracDigits = m[3] ?? "";
  const dscale = fracDigits.length;
  // Group into base-10000 digits aligned on the decimal point.
  const intPadded = intDigits.padStart(Math.ceil(intDigits.length / 4) * 4, "0");
  const fracPadded = fracDigits.padEnd(Math.ceil(fracDigits.length / 4) * 4, "0");
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intPadded.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  const v = out(groups.length);
  v.setInt16(0, groups.length, false);
  v.setInt16(2, groups.length === 0 ? 0 : weight, false);
  v.setUint16(4, neg && groups.length > 0 ? 0x4000 : 0, false);
  v.setInt16(6, dscale, false);
  groups.forEach((g, i) => v.setInt16(8 + 2 * i, g, false));
  return new Uint8Array(v.buffer);
}

function typeLabel(oid: number): string {
  return isKnownTypeOid(oid) ? formatType(typeFromOid(oid)) : String(oid);
}

/** array_recv for one-dimensional arrays (the only kind the SQL layer has): header, then elements. */
function arrayBinaryToText(arrayOid: number, b: Uint8Array): string {
  const elemOid = typeFromOid(arrayOid).elem!.oid;
  if (b.length < 12) throw insufficient();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ndim = v.getInt32(0, false);
  const flags = v.getInt32(4, false);
  const given = v.getUint32(8, false);
  if (ndim < 0 || ndim > ARRAY_DIMS_MAX) throw new PgError("invalid_binary_representation", `invalid number of dimensions: ${ndim}`);
  if ((flags & ~1) !== 0) throw new PgError("invalid_binary_representation", "invalid array flags");
  if (given !== elemOid) {
    throw new PgError("datatype_mismatch", `binary data has array element type ${given} (${typeLabel(given)}) instead of expected ${elemOid} (${typeLabel(elemOid)})`);
  }
  if (ndim === 0) {
    if (b.length > 12) throw incorrect();
    return "{}";
  }
  if (ndim > 1) throw new PgError("feature_not_supported", "multidimensional arrays are not supported");
  if (b.length < 20) throw insufficient();
  const count = v.getInt32(12, false);
  if (count < 0) throw new PgError("program_limit_exceeded", "array size exceeds the maximum allowed");
  let at = 20;
  const values: Array<string | null> = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > b.length) throw insufficient();
    const len = v.getInt32(at, false);
    at += 4;
    if (len === -1) {
      values.push(null);
      continue;
    }
    if (len < 0) throw new PgError("invalid_binary_representation", "insufficient data left in message");
    if (at + len > b.length) throw insufficient();
    values.push(binaryParamToText(elemOid, b.subarray(at, at + len)));
    at += len;
  }
  if (at !== b.length) throw incorrect();
  return formatArray(values, (d) => d as string);
}

/** array_send: ndim, has-nulls flag, element type, dimensions (lower bound 1), then each element. */
function arrayTextToBinary(arrayOid: number, text: string): Uint8Array {
  const elemOid = typeFromOid(arrayOid).elem!.oid;
  const elems = parseArray(text, (e) => e) as Array<string | null>;
  const parts = elems.map((e) => (e === null ? null : textToBinaryResult(elemOid, e)));
  const size = 12 + (elems.length > 0 ? 8 : 0) + parts.reduce((n, p) => n + 4 + (p?.length ?? 0), 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setInt32(0, elems.length > 0 ? 1 : 0, false);
  v.setInt32(4, elems.includes(null) ? 1 : 0, false);
  v.setUint32(8, elemOid, false);
  let at = 12;
  if (elems.length > 0) {
    v.setInt32(12, elems.length, false);
    v.setInt32(16, 1, false);
    at = 20;
  }
  for (const p of parts) {
    v.setInt32(at, p === null ? -1 : p.length, false);
    at += 4;
    if (p !== null) {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

/** A text result value in binary format for a column of type `typeOid`. */
export function textToBinaryResult(typeOid: number, text: string): Uint8Array {
  const fixed = (n: number, f: (v: DataView) => void) => {
    const v = new DataView(new ArrayBuffer(n));
    f(v);
    return new Uint8Array(v.buffer);
  };
  switch (typeOid) {
    case Oid.bool:
      return new Uint8Array([text === "t" || text === "true" ? 1 : 0]);
    case Oid.int2:
      return fixed(2, (v) => v.setInt16(0, Number(text), false));
    case Oid.int4:
      return fixed(4, (v) => v.setInt32(0, Number(text), false));
    case Oid.oid:
      return fixed(4, (v) => v.setUint32(0, Number(text), false));
    case Oid.int8:
      return fixed(8, (v) => v.setBigInt64(0, BigInt(text), false));
    case Oid.float4:
      return fixed(4, (v) => v.setFloat32(0, Number(text), false));
    case Oid.float8:
      return fixed(8, (v) => v.setFloat64(0, Number(text), false));
    case Oid.char: {
      if (text === "") return new Uint8Array([0]);
      const octal = /^\\([0-3][0-7]{2})$/.exec(text);
      return new Uint8Array([octal ? parseInt(octal[1]!, 8) : toUtf8.encode(text)[0]!]);
    }
    case Oid.bytea: {
      if (!text.startsWith("\\x")) throw new PgError("feature_not_supported", "binary bytea output needs bytea_output = hex");
      return bytesOfHex(text, 2);
    }
    case Oid.uuid: {
      return bytesOfHex(text.replace(/-/g, ""), 0);
    }
    case Oid.date: {
      const days = parseDate(text, TEXT_CONTEXT);
      const v = days === Infinity ? DATE_END : days === -Infinity ? DATE_BEGIN : days - PG_EPOCH_DAYS;
      return fixed(4, (dv) => dv.setInt32(0, v, false));
    }
    case Oid.timestamp:
    case Oid.timestamptz: {
      const micros = parseTimestamp(text, typeOid === Oid.timestamptz, TEXT_CONTEXT) - PG_EPOCH_OFFSET_MICROS;
      return fixed(8, (v) => v.setBigInt64(0, micros, false));
    }
    case Oid.time: {
      const micros = parseTime(text, TEXT_CONTEXT);
      return fixed(8, (v) => v.setBigInt64(0, micros, false));
    }
    case Oid.timetz: {
      const t = parseTimeTz(text, TEXT_CONTEXT);
      return fixed(12, (v) => {
        v.setBigInt64(0, t.micros, false);
        v.setInt32(8, -t.offsetSeconds, false);
      });
    }
    case Oid.interval: {
      const iv = parseInterval(text);
      return fixed(16, (v) => {
        v.setBigInt64(0, iv.micros, false);
        v.setInt32(8, iv.days, false);
        v.setInt32(12, iv.months, false);
      });
    }
    case Oid.numeric:
      return numericTextToBinary(text);
    case Oid.jsonb: {
      const body = toUtf8.encode(text);
      const out = new Uint8Array(body.length + 1);
      out[0] = 1;
      out.set(body, 1);
      return out;
    }
    default:
      if (TEXT_LIKE.has(typeOid)) return toUtf8.encode(text);
      if (isKnownTypeOid(typeOid) && typeFromOid(typeOid).elem !== undefined && hasBinaryResult(typeOid)) return arrayTextToBinary(typeOid, text);
      throw new PgError("feature_not_supported", `binary format for results of type OID ${typeOid} is not supported`, {
        hint: "Request text format (format code 0) for this column.",
      });
  }
}

const BINARY_SCALARS = new Set<number>([
  ...TEXT_LIKE, Oid.bool, Oid.int2, Oid.int4, Oid.oid, Oid.int8, Oid.float4, Oid.float8, Oid.char, Oid.bytea, Oid.uuid,
  Oid.date, Oid.timestamp, Oid.timestamptz, Oid.interval, Oid.numeric, Oid.jsonb, Oid.time, Oid.timetz,
]);

/** Whether a value of this type can be sent in binary (checked at Bind/Describe time and before COPY … BINARY starts). */
export function hasBinaryResult(typeOid: number): boolean {
  if (BINARY_SCALARS.has(typeOid)) return true;
  // int2vector / oidvector (catalog columns) are sent in text only: their binary form has lower bound 0.
  if (!isKnownTypeOid(typeOid) || isVectorType(typeFromOid(typeOid))) return false;
  const elem = typeFromOid(typeOid).elem;
  return elem !== undefined && BINARY_SCALARS.has(elem.oid);
}
