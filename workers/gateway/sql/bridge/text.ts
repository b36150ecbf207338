// Text input and output of datums (Postgres's typinput/typoutput), as the engine needs them:
// result rows, parameters, casts from and to text. A local stand-in for the types engineer's
// text I/O for the common types; dates, times and json are formatted here only minimally.
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";
import { Numeric } from "../types/numeric.ts";
import { Oid, type SqlType } from "../types/type.ts";

/** float8out: shortest round-trip digits, Postgres's spelling of the special values and exponents. */
export function formatFloat(x: number, float4 = false): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Object.is(x, -0)) return "-0";
  let s = float4 ? shortestFloat4(x) : String(x);
  // JavaScript writes 1e+21 / 1e-7; Postgres writes 1e+21 / 1e-07 and switches at 1e15 / 1e-4.
  const abs = Math.abs(x);
  const digits = s.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "");
  const exp = abs === 0 ? 0 : Math.floor(Math.log10(abs));
  const precision = float4 ? 6 : 15;
  if (exp < -4 || exp >= Math.max(precision, digits.length)) {
    const [m, e] = x.toExponential().split("e") as [string, string];
    const en = Number(e);
    const mant = float4 ? shortestFloat4(Number(m)) : m;
    s = `${mant}e${en < 0 ? "-" : "+"}${String(Math.abs(en)).padStart(2, "0")}`;
  }
  return s;
}

function shortestFloat4(x: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === Math.fround(x)) return String(Number(s));
  }
  return String(x);
}

function formatBytea(b: Uint8Array): string {
  let s = "\\x";
  for (const v of b) s += v.toString(16).padStart(2, "0");
  return s;
}

function quoteArrayElement(s: string): string {
  if (s === "" || /[{},"\\\s]/.test(s) || s.toUpperCase() === "NULL") return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return s;
}

export function formatText(t: SqlType, d: Datum): string | null {
  if (d === null) return null;
  if (t.elem !== undefined) {
    const elem = t.elem;
    const arr = d as readonly Datum[];
    return `{${arr.map((e) => (e === null ? "NULL" : quoteArrayElement(formatText(elem, e)!))).join(",")}}`;
  }
  switch (t.oid) {
    case Oid.bool:
      return d ? "t" : "f";
    case Oid.float4:
      return formatFloat(d as number, true);
    case Oid.float8:
      return formatFloat(d as number);
    case Oid.bytea:
      return formatBytea(d as Uint8Array);
    case Oid.numeric:
      return (d as Numeric).toString();
    default:
      if (typeof d === "string" || typeof d === "number" || typeof d === "bigint") return String(d);
      if (d instanceof Numeric) return d.toString();
      return JSON.stringify(d);
  }
}

const INT4_MIN = -2147483648;
const INT4_MAX = 2147483647;

function parseIntText(t: SqlType, s: string, min: number, max: number): number {
  const v = s.trim();
  if (!/^[+-]?\d+$/.test(v)) throw new PgError("invalid_text_representation", `invalid input syntax for type ${t.oid === Oid.int2 ? "smallint" : "integer"}: "${s}"`);
  const n = Number(v);
  if (n < min || n > max) throw new PgError("numeric_value_out_of_range", `value "${s}" is out of range for type ${t.oid === Oid.int2 ? "smallint" : "integer"}`);
  return n;
}

export function parseText(t: SqlType, s: string): Datum {
  if (t.elem !== undefined) return parseArrayText(t.elem, s);
  switch (t.oid) {
    case Oid.bool: {
      const v = s.trim().toLowerCase();
      if (["t", "true", "y", "yes", "on", "1"].includes(v)) return true;
      if (["f", "false", "n", "no", "off", "0"].includes(v)) return false;
      throw new PgError("invalid_text_representation", `invalid input syntax for type boolean: "${s}"`);
    }
    case Oid.int2:
      return parseIntText(t, s, -32768, 32767);
    case Oid.int4:
    case Oid.oid:
      return parseIntText(t, s, INT4_MIN, INT4_MAX);
    case Oid.int8: {
      const v = s.trim();
      if (!/^[+-]?\d+$/.test(v)) throw new PgError("invalid_text_representation", `invalid input syntax for type bigint: "${s}"`);
      const n = BigInt(v);
      if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new PgError("numeric_value_out_of_range", `value "${s}" is out of range for type bigint`);
      return n;
    }
    case Oid.float4:
    case Oid.float8: {
      const v = s.trim().toLowerCase();
      let x: number;
      if (v === "nan") x = NaN;
      else if (v === "infinity" || v === "+infinity" || v === "inf") x = Infinity;
      else if (v === "-infinity" || v === "-inf") x = -Infinity;
      else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(v)) x = Number(v);
      else throw new PgError("invalid_text_representation", `invalid input syntax for type ${t.oid === Oid.float4 ? "real" : "double precision"}: "${s}"`);
      return t.oid === Oid.float4 ? Math.fround(x) : x;
    }
    case Oid.numeric:
      return Numeric.parse(s);
    case Oid.bytea: {
      if (s.startsWith("\\x")) {
        const hex = s.slice(2);
        if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new PgError("invalid_text_representation", `invalid hexadecimal data`);
        const out = new Uint8Array(hex.length / 2);
        for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
        return out;
      }
      return new TextEncoder().encode(s);
    }
    case Oid.uuid: {
      const v = s.trim().toLowerCase().replace(/[{}]/g, "");
      const hex = v.replace(/-/g, "");
      if (!/^[0-9a-f]{32}$/.test(hex)) throw new PgError("invalid_text_representation", `invalid input syntax for type uuid: "${s}"`);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    default:
      return s;
  }
}

function parseArrayText(elem: SqlType, s: string): Datum {
  const v = s.trim();
  if (!v.startsWith("{") || !v.endsWith("}")) throw new PgError("invalid_text_representation", `malformed array literal: "${s}"`);
  const body = v.slice(1, -1);
  const out: Datum[] = [];
  if (body.trim() === "") return out;
  let i = 0;
  while (i <= body.length) {
    while (body[i] === " ") i++;
    let item = "";
    let quoted = false;
    if (body[i] === '"') {
      quoted = true;
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === "\\") i++;
        item += body[i++];
      }
      i++;
    } else {
      while (i < body.length && body[i] !== ",") item += body[i++];
      item = item.trim();
    }
    out.push(!quoted && item.toUpperCase() === "NULL" ? null : parseText(elem, item));
    while (body[i] === " ") i++;
    i++;
  }
  return out;
}
