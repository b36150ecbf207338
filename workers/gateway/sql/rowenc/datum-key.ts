// Key encoding of SQL datums: one index column at a time, ascending or descending, so that byte
// order of the encoded key equals compareDatums order (sql/types/compare.ts) for every indexable
// type, with NULL after all values ascending and before them descending (Postgres's defaults).
//
// Some types encode only their sort identity, because equal values must produce equal keys
// (a unique index relies on it): -0 becomes 0; 1.50 becomes 1.5 (the column's numeric(p,s) typmod
// restores the scale on decode); bpchar drops trailing spaces (the char(n) typmod re-pads); an
// interval keeps only its span ('1 mon' and '30 days' are equal in Postgres) and decodes as days
// and time. Where the exact original matters, the engine keeps it in the row value too.
//
// json has no ordering in Postgres; jsonb and arrays are not supported as key columns yet.

import { PgError } from "../../../../common/errors.ts";
import { bpcharTrim } from "../types/compare.ts";
import { MICROS_PER_DAY, MICROS_PER_SECOND, PG_EPOCH_OFFSET_MICROS, TimeTz, interval, type Datum, type Interval } from "../types/datum.ts";
import { intervalSortKey } from "../types/interval-text.ts";
import type { Numeric } from "../types/numeric.ts";
import { uuidFromBytes, uuidToBytes } from "../types/scalar-text.ts";
import { Oid, enumSortOrder, formatType, physicalOid, type SqlType } from "../types/type.ts";
import { applyTypmod } from "../types/typmod.ts";
import { decodeDecimalAscending, decodeDecimalDescending, encodeDecimalAscending, encodeDecimalDescending } from "./decimal.ts";
import {
  KeyWriter, decodeBoolAscending, decodeBoolDescending, decodeBytesAscending, decodeBytesDescending,
  decodeFloatAscending, decodeFloatDescending, decodeIfNull, decodeInt128Ascending, decodeInt128Descending,
  decodeStringAscending, decodeStringDescending, decodeUuidAscending, decodeUuidDescending,
  decodeVarintAscending, decodeVarintDescending, encodeBoolAscending, encodeBytesAscending,
  encodeFloatAscending, encodeInt128Ascending, encodeNullAscending, encodeNullDescending,
  encodeStringAscending, encodeUuidAscending, encodeVarintAscending,
} from "../../keys/encoding.ts";

export type KeyDirection = "asc" | "desc";

/** Postgres stores date ±infinity as INT32_MIN / INT32_MAX; so does the key. */
const DATE_NOBEGIN = -2147483648n;
const DATE_NOEND = 2147483647n;

// Timestamps are microseconds since 1970 in memory, but Postgres's range (to 294276 AD) only fits
// int64 when counted from Postgres's own epoch, 2000-01-01; keys count from there, where
// ±infinity are exactly int64 min / max (datum.ts).
function timestampToKeyMicros(v: bigint): bigint {
  return v - PG_EPOCH_OFFSET_MICROS;
}

function timestampFromKeyMicros(v: bigint): bigint {
  return v + PG_EPOCH_OFFSET_MICROS;
}

/** Whether a column of type t can be part of an index key. */
export function isKeyEncodable(t: SqlType): boolean {
  if (t.elem !== undefined) return false;
  return t.oid !== Oid.json && t.oid !== Oid.jsonb && t.oid !== Oid.record && t.oid !== Oid.void;
}

function notIndexable(t: SqlType): PgError {
  return new PgError("feature_not_supported", `column of type ${formatType(t)} cannot be used in an index key`);
}

function encodeAscending(w: KeyWriter, d: Exclude<Datum, null>, t: SqlType): void {
  if (t.elem !== undefined) throw notIndexable(t);
  if (t.enum !== undefined) {
    // The label's sort order decides the key order; the label follows so that the key decodes
    // without the type's labels (sort orders are unique within a type, so it never breaks ties).
    const order = enumSortOrder(t, d as string);
    if (order === undefined) throw new PgError("internal_error", `enum ${t.name} has no label "${d as string}"`);
    encodeFloatAscending(w, order);
    return encodeStringAscending(w, d as string);
  }
  switch (physicalOid(t.oid)) {
    case Oid.bool:
      return encodeBoolAscending(w, d as boolean);
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
      return encodeVarintAscending(w, BigInt(d as number));
    case Oid.int8:
    case Oid.time:
      return encodeVarintAscending(w, d as bigint);
    case Oid.timetz: {
      // timetz_cmp's order: the UTC instant of the day, then the larger offset east first.
      const v = d as TimeTz;
      encodeVarintAscending(w, v.utcMicros());
      return encodeVarintAscending(w, BigInt(-v.offsetSeconds));
    }
    case Oid.timestamp:
    case Oid.timestamptz:
      return encodeVarintAscending(w, timestampToKeyMicros(d as bigint));
    case Oid.date: {
      const days = d as number;
      return encodeVarintAscending(w, days === Infinity ? DATE_NOEND : days === -Infinity ? DATE_NOBEGIN : BigInt(days));
    }
    case Oid.float4:
    case Oid.float8:
      return encodeFloatAscending(w, d as number);
    case Oid.numeric:
      return encodeDecimalAscending(w, d as Numeric);
    case Oid.text:
    case Oid.varchar:
    case Oid.name:
    case Oid.char:
    case Oid.unknown:
      return encodeStringAscending(w, d as string);
    case Oid.bpchar:
      return encodeStringAscending(w, bpcharTrim(d as string));
    case Oid.bytea:
      return encodeBytesAscending(w, d as Uint8Array);
    case Oid.uuid:
      return encodeUuidAscending(w, uuidToBytes(d as string));
    case Oid.interval:
      return encodeInt128Ascending(w, intervalSortKey(d as Interval));
    default:
      throw notIndexable(t);
  }
}

/** Appends one key column. */
export function encodeKeyDatum(w: KeyWriter, d: Datum, t: SqlType, dir: KeyDirection = "asc"): void {
  if (d === null) return dir === "asc" ? encodeNullAscending(w) : encodeNullDescending(w);
  if (t.oid === Oid.numeric && dir === "desc") return encodeDecimalDescending(w, d as Numeric);
  const start = w.length;
  encodeAscending(w, d, t);
  if (dir === "desc") w.invertFrom(start);
}

/** Reads one key column of type t from the front of b: [datum, rest]. */
export function decodeKeyDatum(b: Uint8Array, t: SqlType, dir: KeyDirection = "asc"): [Datum, Uint8Array] {
  const desc = dir === "desc";
  const [isNull, afterNull] = decodeIfNull(b, desc);
  if (isNull) return [null, afterNull];
  if (t.elem !== undefined) throw notIndexable(t);
  if (t.enum !== undefined) {
    const [, label] = desc ? decodeFloatDescending(b) : decodeFloatAscending(b);
    return desc ? decodeStringDescending(label) : decodeStringAscending(label);
  }
  switch (physicalOid(t.oid)) {
    case Oid.bool:
      return desc ? decodeBoolDescending(b) : decodeBoolAscending(b);
    case Oid.int2:
    case Oid.int4:
    case Oid.oid: {
      const [v, rest] = desc ? decodeVarintDescending(b) : decodeVarintAscending(b);
      return [Number(v), rest];
    }
    case Oid.int8:
    case Oid.time:
      return desc ? decodeVarintDescending(b) : decodeVarintAscending(b);
    case Oid.timetz: {
      const [utc, afterUtc] = desc ? decodeVarintDescending(b) : decodeVarintAscending(b);
      const [negOffset, rest] = desc ? decodeVarintDescending(afterUtc) : decodeVarintAscending(afterUtc);
      const offsetSeconds = -Number(negOffset);
      return [new TimeTz(utc + BigInt(offsetSeconds) * MICROS_PER_SECOND, offsetSeconds), rest];
    }
    case Oid.timestamp:
    case Oid.timestamptz: {
      const [v, rest] = desc ? decodeVarintDescending(b) : decodeVarintAscending(b);
      return [timestampFromKeyMicros(v), rest];
    }
    case Oid.date: {
      const [v, rest] = desc ? decodeVarintDescending(b) : decodeVarintAscending(b);
      return [v === DATE_NOEND ? Infinity : v === DATE_NOBEGIN ? -Infinity : Number(v), rest];
    }
    case Oid.float4:
    case Oid.float8:
      return desc ? decodeFloatDescending(b) : decodeFloatAscending(b);
    case Oid.numeric: {
      const [v, rest] = desc ? decodeDecimalDescending(b) : decodeDecimalAscending(b);
      return [t.typmod >= 0 ? applyTypmod(v, t, true) : v, rest];
    }
    case Oid.text:
    case Oid.varchar:
    case Oid.name:
    case Oid.char:
    case Oid.unknown:
      return desc ? decodeStringDescending(b) : decodeStringAscending(b);
    case Oid.bpchar: {
      const [v, rest] = desc ? decodeStringDescending(b) : decodeStringAscending(b);
      return [t.typmod >= 0 ? applyTypmod(v, t, true) : v, rest];
    }
    case Oid.bytea:
      return desc ? decodeBytesDescending(b) : decodeBytesAscending(b);
    case Oid.uuid: {
      const [bytes, rest] = desc ? decodeUuidDescending(b) : decodeUuidAscending(b);
      return [uuidFromBytes(bytes), rest];
    }
    case Oid.interval: {
      const [span, rest] = desc ? decodeInt128Descending(b) : decodeInt128Ascending(b);
      // Only the span survives; express it as whole days plus time of the same sign.
      const days = span / MICROS_PER_DAY;
      return [interval(0, Number(days), span - days * MICROS_PER_DAY), rest];
    }
    default:
      throw notIndexable(t);
  }
}

/** Encodes a whole key tuple (one direction per column) into fresh bytes. */
export function encodeKeyTuple(values: readonly Datum[], types: readonly SqlType[], dirs?: readonly KeyDirection[]): Uint8Array {
  const w = new KeyWriter();
  for (let i = 0; i < values.length; i++) encodeKeyDatum(w, values[i]!, types[i]!, dirs?.[i] ?? "asc");
  return w.finish();
}

/** Decodes `types.length` key columns from the front of b: [values, rest]. */
export function decodeKeyTuple(b: Uint8Array, types: readonly SqlType[], dirs?: readonly KeyDirection[]): [Datum[], Uint8Array] {
  const out: Datum[] = [];
  let rest = b;
  for (let i = 0; i < types.length; i++) {
    const [v, r] = decodeKeyDatum(rest, types[i]!, dirs?.[i] ?? "asc");
    out.push(v);
    rest = r;
  }
  return [out, rest];
}
