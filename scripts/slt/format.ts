// Result rendering and comparison exactly as sqllogictest does it, so that expected results
// produced by other engines compare byte for byte:
//   - NULL → "NULL"; empty string → "(empty)"; in other strings every byte outside printable
//     ASCII becomes "@" (a multi-byte UTF-8 character becomes several "@").
//   - I columns as printf("%d") of the value converted to an integer (the way SQLite's
//     column_int64 converts: reals truncate toward zero, text takes its leading integer or 0);
//     R columns as printf("%.3f"); T columns as text.
//   - rowsort sorts rows, valuesort sorts single values, both with strcmp on rendered text.
//   - results with more values than the hash threshold are compared as
//     "<n> values hashing to <md5 of every value followed by \n>".
// Values arrive in PostgreSQL's text format (what both the pg client and Neon's HTTP API with
// raw text output give), booleans included ("t"/"f").
import { createHash } from "node:crypto";
import type { SortMode } from "./parser.ts";

export type RawValue = string | null;

const integerText = /^\s*[+-]?\d+\s*$/;
const leadingInteger = /^\s*([+-]?\d+)/;
const numberText = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function booleanValue(v: string): number | undefined {
  if (v === "t" || v === "true") return 1;
  if (v === "f" || v === "false") return 0;
  return undefined;
}

export function renderInteger(v: string): string {
  if (integerText.test(v)) return BigInt(v.trim()).toString();
  const b = booleanValue(v);
  if (b !== undefined) return String(b);
  if (numberText.test(v)) {
    const x = Math.trunc(Number(v));
    return Number.isFinite(x) ? BigInt(x).toString() : "0";
  }
  const m = leadingInteger.exec(v);
  return m ? BigInt(m[1]!).toString() : "0";
}

/** printf("%.3f", x) with glibc's rounding (exact ties round to even). */
export function formatFixed3(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const negative = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let out: string;
  if (a >= 1e21) {
    // At this magnitude a double is an integer; toFixed would switch to exponent notation.
    out = `${BigInt(a).toString()}.000`;
  } else if (Number.isInteger(a * 16) && a < 2 ** 40 && (a * 2000) % 2 === 1) {
    // An exact tie at the third decimal (only possible for multiples of 1/16, where a*2000 is
    // exact): toFixed would round away from zero, printf rounds to even.
    const half = (a * 2000 - 1) / 2; // thousandths below the tie
    const thousandths = half % 2 === 0 ? half : half + 1;
    const s = String(thousandths).padStart(4, "0");
    out = `${s.slice(0, -3)}.${s.slice(-3)}`;
  } else {
    out = a.toFixed(3);
  }
  return negative ? `-${out}` : out;
}

export function renderReal(v: string): string {
  const b = booleanValue(v);
  if (b !== undefined) return formatFixed3(b);
  if (numberText.test(v) || /^\s*[+-]?(Infinity|NaN)\s*$/.test(v)) return formatFixed3(Number(v));
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(v);
  return formatFixed3(m ? Number(m[0]) : 0);
}

const utf8 = new TextEncoder();

export function renderText(v: string): string {
  if (v === "") return "(empty)";
  // Fast path: plain printable ASCII is by far the common case.
  if (/^[\x20-\x7e]*$/.test(v)) return v;
  let out = "";
  for (const byte of utf8.encode(v)) out += byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : "@";
  return out;
}

export function renderValue(v: RawValue, type: string): string {
  if (v === null) return "NULL";
  switch (type) {
    case "I":
      return renderInteger(v);
    case "R":
      return renderReal(v);
    default:
      return renderText(v);
  }
}

function strcmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Renders rows by the type string and flattens them in the order the sort mode asks. */
export function renderResult(rows: RawValue[][], types: string, sortMode: SortMode): string[] {
  const rendered = rows.map((row) => row.map((v, i) => renderValue(v, types[i] ?? "T")));
  if (sortMode === "rowsort") {
    rendered.sort((a, b) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const c = strcmp(a[i]!, b[i]!);
        if (c !== 0) return c;
      }
      return a.length - b.length;
    });
  }
  const values = rendered.flat();
  if (sortMode === "valuesort") values.sort(strcmp);
  return values;
}

export function hashValues(values: string[]): string {
  const h = createHash("md5");
  for (const v of values) h.update(`${v}\n`);
  return h.digest("hex");
}
