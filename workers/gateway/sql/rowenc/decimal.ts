// Order-preserving encoding of Postgres numerics (NaN, ±Infinity, exact decimals).
//
// A finite nonzero value is written as 0.d1d2…dn × 10^E with d1 ≠ 0 and dn ≠ 0 (no trailing
// zeros, so 1.5 and 1.50 encode identically: they are equal in SQL):
//
//   positive:  0x45  varint(E)   (d+1)…  0x00       bigger E first decides, then digits, and a
//                                                    shorter digit string (0x00 end) is smaller
//   negative:  0x43  varint(-E)  (10-d)… 0x0b       everything mirrored: bigger magnitude sorts lower
//
// with -Infinity 0x42 < negatives < zero 0x44 < positives < +Infinity 0x46 < NaN 0x47, Postgres's
// numeric order. Decoding yields the minimal display scale; the column's typmod restores the scale
// of numeric(p,s) columns (datum-key.ts), and an unconstrained numeric key column keeps only the
// value (as CockroachDB does, the row value keeps the original when the scale matters).

import { PgError } from "../../../../common/errors.ts";
import { Decimal, Numeric } from "../types/numeric.ts";
import {
  KeyWriter, TAG_DECIMAL_NAN, TAG_DECIMAL_NEG, TAG_DECIMAL_NEG_INF, TAG_DECIMAL_POS, TAG_DECIMAL_POS_INF,
  TAG_DECIMAL_ZERO, decodeVarintAscending, encodeVarintAscending,
} from "../../keys/encoding.ts";

const POS_TERMINATOR = 0x00;
const NEG_TERMINATOR = 0x0b;

export function encodeDecimalAscending(w: KeyWriter, n: Numeric): void {
  if (n.isNaN()) return w.byte(TAG_DECIMAL_NAN);
  const v = n.value;
  if (!v.isFinite()) return w.byte(v.isNegative() ? TAG_DECIMAL_NEG_INF : TAG_DECIMAL_POS_INF);
  if (v.isZero()) return w.byte(TAG_DECIMAL_ZERO);
  const m = /^-?(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(v.toExponential())!;
  const digits = (m[1]! + (m[2] ?? "")).replace(/0+$/, "");
  const exponent = Number(m[3]) + 1;
  if (v.isNegative()) {
    w.byte(TAG_DECIMAL_NEG);
    encodeVarintAscending(w, BigInt(-exponent));
    for (let i = 0; i < digits.length; i++) w.byte(10 - (digits.charCodeAt(i) - 48));
    w.byte(NEG_TERMINATOR);
  } else {
    w.byte(TAG_DECIMAL_POS);
    encodeVarintAscending(w, BigInt(exponent));
    for (let i = 0; i < digits.length; i++) w.byte(digits.charCodeAt(i) - 48 + 1);
    w.byte(POS_TERMINATOR);
  }
}

export function encodeDecimalDescending(w: KeyWriter, n: Numeric): void {
  const start = w.length;
  encodeDecimalAscending(w, n);
  w.invertFrom(start);
}

function corrupt(): PgError {
  return new PgError("internal_error", "corrupt key: bad decimal encoding");
}

export function decodeDecimalAscending(b: Uint8Array): [Numeric, Uint8Array] {
  const tag = b[0];
  switch (tag) {
    case TAG_DECIMAL_NAN: return [Numeric.NaN, b.subarray(1)];
    case TAG_DECIMAL_POS_INF: return [Numeric.Infinity, b.subarray(1)];
    case TAG_DECIMAL_NEG_INF: return [Numeric.NegativeInfinity, b.subarray(1)];
    case TAG_DECIMAL_ZERO: return [Numeric.Zero, b.subarray(1)];
    case TAG_DECIMAL_POS:
    case TAG_DECIMAL_NEG: {
      const negative = tag === TAG_DECIMAL_NEG;
      const [e, rest] = decodeVarintAscending(b.subarray(1));
      const exponent = negative ? -Number(e) : Number(e);
      let digits = "";
      let i = 0;
      for (;;) {
        const c = rest[i];
        if (c === undefined) throw corrupt();
        if (c === (negative ? NEG_TERMINATOR : POS_TERMINATOR)) break;
        const d = negative ? 10 - c : c - 1;
        if (d < 0 || d > 9) throw corrupt();
        digits += String(d);
        i++;
      }
      if (digits === "") throw corrupt();
      return [Numeric.fromDecimal(new Decimal(`${negative ? "-" : ""}0.${digits}e${exponent}`)), rest.subarray(i + 1)];
    }
    default:
      throw corrupt();
  }
}

export function decodeDecimalDescending(b: Uint8Array): [Numeric, Uint8Array] {
  // Decimal encodings are short: complement a copy of the front and decode it ascending.
  const tag = b[0] === undefined ? -1 : ~b[0] & 0xff;
  if (tag !== TAG_DECIMAL_POS && tag !== TAG_DECIMAL_NEG) {
    const [v] = decodeDecimalAscending(Uint8Array.of(tag));
    return [v, b.subarray(1)];
  }
  const terminator = tag === TAG_DECIMAL_NEG ? NEG_TERMINATOR : POS_TERMINATOR;
  // Skip the varint exponent (its tag gives its length), then find the digit terminator.
  const expTag = ~(b[1] ?? 0) & 0xff;
  const expLen = expTag < 0x88 ? 0x88 - expTag : expTag <= 0x88 + 109 ? 0 : expTag - 0x88 - 109;
  let end = 2 + expLen;
  while (end < b.length && (~b[end]! & 0xff) !== terminator) end++;
  if (end >= b.length) throw corrupt();
  const copy = b.slice(0, end + 1).map((x) => ~x & 0xff);
  const [v] = decodeDecimalAscending(copy);
  return [v, b.subarray(end + 1)];
}
