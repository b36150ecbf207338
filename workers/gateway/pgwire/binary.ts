// Binary format (format code 1) for the common types, in both directions:
//   parameters: a Bind's binary value → the text the session takes (Postgres's text input syntax);
//   results:    the session's text value → the binary wire form the client asked for.
// The session speaks text only, so binary support is a conversion at the edge of the protocol.
// A type without a conversion here is refused with 0A000 rather than guessed.
import { PgError } from "../../../common/errors.ts";
// Type OIDs are the types layer's (pg_type facts live in one place).
import { Oid } from "../sql/types/type.ts";

const TEXT_LIKE = new Set<number>([Oid.text, Oid.varchar, Oid.bpchar, Oid.name, Oid.char, Oid.json, Oid.unknown]);
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const toUtf8 = new TextEncoder();
const USECS_PER_DAY = 86_400_000_000n;
/** Days from 1970-01-01 to 2000-01-01, the Postgres epoch of binary dates and timestamps. */
const PG_EPOCH_DAYS = 10_957;

function bad(type: string, detail: string): PgError {
  return new PgError("invalid_binary_representation", `incorrect binary data format in ${type} parameter`, { detail });
}

function need(b: Uint8Array, n: number, type: string): DataView {
  if (b.length !== n) throw bad(type, `expected ${n} bytes, got ${b.length}`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function hexOf(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, "0");
}

/** Days since 1970-01-01 → YYYY-MM-DD (proleptic Gregorian, AD only). */
function isoDate(daysSince1970: number): string {
  const d = new Date(daysSince1970 * 86_400_000);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) throw new PgError("feature_not_supported", "binary dates outside years 1–9999 are not supported; use text format");
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function timestampText(usecSince2000: bigint): string {
  let days = usecSince2000 / USECS_PER_DAY;
  let rem = usecSince2000 % USECS_PER_DAY;
  if (rem < 0n) {
    rem += USECS_PER_DAY;
    days -= 1n;
  }
  const date = isoDate(Number(days) + PG_EPOCH_DAYS);
  const secs = Number(rem / 1_000_000n);
  const micros = Number(rem % 1_000_000n);
  const frac = micros === 0 ? "" : "." + pad(micros, 6).replace(/0+$/, "");
  return `${date} ${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}${frac}`;
}

/** A binary parameter as Postgres text input. `typeOid` 0 (unspecified) is taken as bytea, the only type whose text form can carry arbitrary bytes. */
export function binaryParamToText(typeOid: number, b: Uint8Array): string {
  switch (typeOid) {
    case Oid.bool:
      return need(b, 1, "boolean").getUint8(0) !== 0 ? "t" : "f";
    case Oid.int2:
      return String(need(b, 2, "smallint").getInt16(0, false));
    case Oid.int4:
      return String(need(b, 4, "integer").getInt32(0, false));
    case Oid.oid:
      return String(need(b, 4, "oid").getUint32(0, false));
    case Oid.int8:
      return need(b, 8, "bigint").getBigInt64(0, false).toString();
    case Oid.float4:
      return floatText(need(b, 4, "real").getFloat32(0, false));
    case Oid.float8:
      return floatText(need(b, 8, "double precision").getFloat64(0, false));
    case Oid.uuid: {
      const h = hexOf(need(b, 16, "uuid") && b);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case Oid.date: {
      const v = need(b, 4, "date").getInt32(0, false);
      if (v === 0x7fffffff) return "infinity";
      if (v === -0x80000000) return "-infinity";
      return isoDate(v + PG_EPOCH_DAYS);
    }
    case Oid.timestamp:
    case Oid.timestamptz: {
      const v = need(b, 8, "timestamp").getBigInt64(0, false);
      if (v === 0x7fffffffffffffffn) return "infinity";
      if (v === -0x8000000000000000n) return "-infinity";
      return timestampText(v) + (typeOid === Oid.timestamptz ? "+00" : "");
    }
    case Oid.jsonb:
      if (b.length < 1 || b[0] !== 1) throw bad("jsonb", "unsupported jsonb version number");
      return decodeText(b.subarray(1), "jsonb");
    case Oid.numeric:
      return numericBinaryToText(b);
    case Oid.bytea:
    case 0:
      return "\\x" + hexOf(b);
    default:
      if (TEXT_LIKE.has(typeOid)) return decodeText(b, "text");
      throw new PgError("feature_not_supported", `binary format for parameters of type OID ${typeOid} is not supported`, {
        hint: "Send this parameter in text format.",
      });
  }
}

function decodeText(b: Uint8Array, type: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw bad(type, "invalid UTF-8");
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

/** NUMERIC on the wire: ndigits, weight, sign, dscale, then base-10000 digits. */
function numericBinaryToText(b: Uint8Array): string {
  if (b.length < 8) throw bad("numeric", "too short");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ndigits = v.getInt16(0, false);
  const weight = v.getInt16(2, false);
  const sign = v.getUint16(4, false);
  const dscale = v.getInt16(6, false);
  if (ndigits < 0 || b.length !== 8 + 2 * ndigits || dscale < 0) throw bad("numeric", "invalid header");
  if (sign === 0xc000) return "NaN";
  if (sign === 0xd000) return "Infinity";
  if (sign === 0xf000) return "-Infinity";
  if (sign !== 0 && sign !== 0x4000) throw bad("numeric", "invalid sign");
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = v.getInt16(8 + 2 * i, false);
    if (d < 0 || d > 9999) throw bad("numeric", "invalid digit");
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

function daysFromIso(text: string): number {
  const m = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new PgError("feature_not_supported", `date ${JSON.stringify(text)} has no binary form here; use text format`);
  return Math.round(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000) - PG_EPOCH_DAYS;
}

/** Parses Postgres's ISO timestamp output (optionally with a +hh[:mm[:ss]] offset) into µs since 2000 UTC. */
function usecFromTimestampText(text: string, withZone: boolean): bigint {
  const m = /^(\d{4,}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?$/.exec(text);
  if (!m || (withZone && m[6] === undefined)) throw new PgError("feature_not_supported", `timestamp ${JSON.stringify(text)} has no binary form here; use text format`);
  const days = BigInt(daysFromIso(m[1]!));
  const secs = BigInt(Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]));
  const micros = BigInt((m[5] ?? "").padEnd(6, "0") || "0");
  let usec = days * USECS_PER_DAY + secs * 1_000_000n + micros;
  if (m[6] !== undefined) {
    const off = BigInt(Number(m[7]) * 3600 + Number(m[8] ?? 0) * 60 + Number(m[9] ?? 0)) * 1_000_000n;
    usec = m[6] === "+" ? usec - off : usec + off;
  }
  return usec;
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
    case Oid.bytea: {
      if (!text.startsWith("\\x")) throw new PgError("feature_not_supported", "binary bytea output needs bytea_output = hex");
      const hex = text.slice(2);
      const out = new Uint8Array(hex.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    case Oid.uuid: {
      const hex = text.replace(/-/g, "");
      const out = new Uint8Array(16);
      for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    case Oid.date:
      if (text === "infinity") return fixed(4, (v) => v.setInt32(0, 0x7fffffff, false));
      if (text === "-infinity") return fixed(4, (v) => v.setInt32(0, -0x80000000, false));
      return fixed(4, (v) => v.setInt32(0, daysFromIso(text), false));
    case Oid.timestamp:
    case Oid.timestamptz:
      if (text === "infinity") return fixed(8, (v) => v.setBigInt64(0, 0x7fffffffffffffffn, false));
      if (text === "-infinity") return fixed(8, (v) => v.setBigInt64(0, -0x8000000000000000n, false));
      return fixed(8, (v) => v.setBigInt64(0, usecFromTimestampText(text, typeOid === Oid.timestamptz), false));
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
      throw new PgError("feature_not_supported", `binary format for results of type OID ${typeOid} is not supported`, {
        hint: "Request text format (format code 0) for this column.",
      });
  }
}

/** Whether a result column of this type can be sent in binary (checked at Bind/Describe time). */
export function hasBinaryResult(typeOid: number): boolean {
  return TEXT_LIKE.has(typeOid) || [Oid.bool, Oid.int2, Oid.int4, Oid.oid, Oid.int8, Oid.float4, Oid.float8, Oid.bytea, Oid.uuid, Oid.date, Oid.timestamp, Oid.timestamptz, Oid.numeric, Oid.jsonb].includes(typeOid as never);
}
