// Applying a type modifier to a value: varchar(n)/char(n) length, numeric(p,s) rounding and
// overflow, timestamp(p)/interval(p) rounding. Postgres does this in each type's "length coercion"
// function (varchar(), bpchar(), numeric(), timestamp_scale()), with an `isExplicit` flag:
// an explicit cast silently truncates strings, while assignment and input raise 22001 unless the
// characters cut off are all spaces.

import { PgError } from "../../../../common/errors.ts";
import { isInterval, interval, isFiniteTimestamp, TimeTz, type Datum } from "./datum.ts";
import { roundTimeMicros } from "./time-text.ts";
import { Decimal, Numeric } from "./numeric.ts";
import { Oid, charLength, formatType, numericPrecisionScale, withTypmod, type SqlType } from "./type.ts";

/** Postgres's NAMEDATALEN - 1: identifiers and `name` values keep at most 63 bytes. */
export const NAME_BYTES_MAX = 63;

const utf8 = new TextEncoder();

/** Number of characters (code points), as Postgres counts string length. */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** The first `n` characters (code points). */
export function charPrefix(s: string, n: number): string {
  let i = 0;
  let count = 0;
  while (i < s.length && count < n) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    count++;
  }
  return s.slice(0, i);
}

function truncateName(s: string): string {
  if (utf8.encode(s).length <= NAME_BYTES_MAX) return s;
  let out = "";
  let bytes = 0;
  for (const ch of s) {
    const b = utf8.encode(ch).length;
    if (bytes + b > NAME_BYTES_MAX) break;
    out += ch;
    bytes += b;
  }
  return out;
}

function roundMicros(micros: bigint, precision: number): bigint {
  if (precision < 0 || precision >= 6) return micros;
  const scale = 10n ** BigInt(6 - precision);
  const half = scale / 2n;
  return micros >= 0n ? ((micros + half) / scale) * scale : -(((-micros + half) / scale) * scale);
}

/** Coerces `d` (already of t's base type) to t's typmod. NULL passes through. */
export function applyTypmod(d: Datum, t: SqlType, explicit: boolean): Datum {
  if (d === null) return null;
  if (t.elem !== undefined) {
    if (t.typmod < 0) return d;
    return (d as readonly Datum[]).map((e) => applyTypmod(e, t.elem!, explicit));
  }
  switch (t.oid) {
    case Oid.varchar:
    case Oid.bpchar: {
      const s = d as string;
      const n = charLength(t);
      if (n < 0) return s;
      const len = charCount(s);
      if (len > n) {
        const kept = charPrefix(s, n);
        if (!explicit && s.slice(kept.length).replace(/ +$/, "") !== "") {
          throw new PgError("string_data_right_truncation", `value too long for type ${formatType(t)}`);
        }
        return kept;
      }
      return t.oid === Oid.bpchar && len < n ? s + " ".repeat(n - len) : s;
    }
    case Oid.name:
      return truncateName(d as string);
    case Oid.numeric: {
      const ps = numericPrecisionScale(t.typmod);
      if (ps === null) return d;
      return applyNumericTypmod(d as Numeric, ps.precision, ps.scale);
    }
    case Oid.timestamp:
    case Oid.timestamptz: {
      if (t.typmod < 0 || !isFiniteTimestamp(d as bigint)) return d;
      return roundMicros(d as bigint, t.typmod);
    }
    case Oid.time:
      return t.typmod < 0 ? d : roundTimeMicros(d as bigint, t.typmod);
    case Oid.timetz: {
      if (t.typmod < 0) return d;
      const v = d as TimeTz;
      return new TimeTz(roundTimeMicros(v.micros, t.typmod), v.offsetSeconds);
    }
    case Oid.interval: {
      if (t.typmod < 0 || !isInterval(d)) return d;
      return interval(d.months, d.days, roundMicros(d.micros, t.typmod & 0xffff));
    }
    default:
      return d;
  }
}

function applyNumericTypmod(v: Numeric, precision: number, scale: number): Numeric {
  if (v.isNaN()) return v;
  if (!v.isFinite()) {
    throw new PgError("numeric_value_out_of_range", "numeric field overflow", {
      detail: `A field with precision ${precision}, scale ${scale} cannot hold an infinite value.`,
    });
  }
  const rounded = v.round(scale);
  const maxDigits = precision - scale;
  const limit = new Decimal(10).pow(maxDigits);
  if (!rounded.value.isZero() && rounded.value.abs().gte(limit)) {
    throw new PgError("numeric_value_out_of_range", "numeric field overflow", {
      detail: `A field with precision ${precision}, scale ${scale} must round to an absolute value less than ${maxDigits !== 0 ? "10^" : ""}${maxDigits !== 0 ? maxDigits : 1}.`,
    });
  }
  return scale >= 0 ? rounded : Numeric.of(rounded.value, 0);
}

/** The type with typmod removed (what an expression over a varchar(10) column yields). */
export function baseType(t: SqlType): SqlType {
  return withTypmod(t, -1);
}
