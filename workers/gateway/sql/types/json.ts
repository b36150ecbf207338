// json and jsonb: parsing (RFC 8259, as Postgres's JSON lexer), jsonb normalization and output,
// and jsonb's btree order.
//
// jsonb normalizes as Postgres does: object keys unique (the last duplicate wins) and ordered
// shorter-first then bytewise by UTF-8; numbers are exact numerics that keep their scale (1.50);
// output is `{"a": 1, "b": [1, 2]}`. json keeps the input text verbatim and is only validated.

import { PgError } from "../../../../common/errors.ts";
import { Jsonb, type JsonObject, type JsonValue } from "./datum.ts";
import { Numeric } from "./numeric.ts";

const utf8 = new TextEncoder();

class JsonParser {
  private pos = 0;
  private readonly text: string;
  private readonly forJsonb: boolean;
  constructor(text: string, forJsonb: boolean) {
    this.text = text;
    this.forJsonb = forJsonb;
  }

  parseDocument(): JsonValue {
    this.skipSpace();
    const v = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) throw this.error(`Expected end of input, but found "${this.tokenAt()}".`);
    return v;
  }

  private error(detail: string): PgError {
    const upTo = this.text.slice(0, Math.min(this.text.length, this.pos + 1));
    return new PgError("invalid_text_representation", "invalid input syntax for type json", {
      detail: `${detail} JSON data: ${upTo.length > 40 ? "..." + upTo.slice(-40) : upTo}`,
    });
  }

  private tokenAt(): string {
    const m = /^(?:[A-Za-z0-9_.+-]+|.)/su.exec(this.text.slice(this.pos));
    return m === null ? "" : m[0];
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      this.pos++;
    }
  }

  private expectMore(): void {
    if (this.pos >= this.text.length) throw this.error("The input string ended unexpectedly.");
  }

  private parseValue(): JsonValue {
    this.expectMore();
    const c = this.text[this.pos]!;
    if (c === "{") return this.parseObject();
    if (c === "[") return this.parseArray();
    if (c === '"') return this.parseString();
    if (c === "-" || (c >= "0" && c <= "9")) return this.parseNumber();
    const word = this.tokenAt();
    if (word === "true" || word === "false" || word === "null") {
      this.pos += word.length;
      return word === "null" ? null : word === "true";
    }
    throw this.error(`Token "${word}" is invalid.`);
  }

  private parseObject(): JsonObject {
    this.pos++;
    const entries: Array<[string, JsonValue]> = [];
    this.skipSpace();
    this.expectMore();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return sortedObject(entries);
    }
    for (;;) {
      this.skipSpace();
      this.expectMore();
      if (this.text[this.pos] !== '"') throw this.error(`Expected string or "}", but found "${this.tokenAt()}".`);
      const key = this.parseString();
      this.skipSpace();
      this.expectMore();
      if (this.text[this.pos] !== ":") throw this.error(`Expected ":", but found "${this.tokenAt()}".`);
      this.pos++;
      this.skipSpace();
      entries.push([key, this.parseValue()]);
      this.skipSpace();
      this.expectMore();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "}") return sortedObject(entries);
      if (c !== ",") {
        this.pos--;
        throw this.error(`Expected "," or "}", but found "${this.tokenAt()}".`);
      }
    }
  }

  private parseArray(): JsonValue[] {
    this.pos++;
    const out: JsonValue[] = [];
    this.skipSpace();
    this.expectMore();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.parseValue());
      this.skipSpace();
      this.expectMore();
      const c = this.text[this.pos];
      this.pos++;
      if (c === "]") return out;
      if (c !== ",") {
        this.pos--;
        throw this.error(`Expected "," or "]", but found "${this.tokenAt()}".`);
      }
    }
  }

  private parseString(): string {
    this.pos++;
    let out = "";
    for (;;) {
      this.expectMore();
      const c = this.text.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        return out;
      }
      if (c < 32) throw this.error(`Character with value 0x${c.toString(16).padStart(2, "0")} must be escaped.`);
      if (c !== 92) {
        out += this.text[this.pos];
        this.pos++;
        continue;
      }
      this.pos++;
      this.expectMore();
      const e = this.text[this.pos]!;
      this.pos++;
      switch (e) {
        case '"': out += '"'; break;
        case "\\": out += "\\"; break;
        case "/": out += "/"; break;
        case "b": out += "\b"; break;
        case "f": out += "\f"; break;
        case "n": out += "\n"; break;
        case "r": out += "\r"; break;
        case "t": out += "\t"; break;
        case "u": {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error(`"\\u" must be followed by four hexadecimal digits.`);
          this.pos += 4;
          const code = parseInt(hex, 16);
          if (code === 0 && this.forJsonb) {
            throw new PgError("untranslatable_character", "unsupported Unicode escape sequence", {
              detail: "\\u0000 cannot be converted to text.",
            });
          }
          out += String.fromCharCode(code);
          break;
        }
        default:
          throw this.error(`Escape sequence "\\${e}" is invalid.`);
      }
    }
  }

  private parseNumber(): Numeric {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (m === null) throw this.error(`Token "${this.tokenAt()}" is invalid.`);
    this.pos += m[0].length;
    const next = this.text[this.pos];
    if (next !== undefined && /[A-Za-z0-9_.]/.test(next)) throw this.error(`Token "${m[0]}${this.tokenAt()}" is invalid.`);
    return this.forJsonb ? Numeric.parse(m[0]) : Numeric.Zero;
  }
}

/** Postgres's jsonb key order: shorter UTF-8 length first, then bytewise. */
export function compareJsonbKeys(a: string, b: string): number {
  if (a === b) return 0;
  const ab = utf8.encode(a);
  const bb = utf8.encode(b);
  if (ab.length !== bb.length) return ab.length - bb.length;
  for (let i = 0; i < ab.length; i++) {
    if (ab[i] !== bb[i]) return ab[i]! - bb[i]!;
  }
  return 0;
}

/** Builds a normalized jsonb object: the last value of a duplicate key wins, keys in jsonb order. */
export function sortedObject(entries: Iterable<readonly [string, JsonValue]>): JsonObject {
  const byKey = new Map<string, JsonValue>();
  for (const [k, v] of entries) byKey.set(k, v);
  const keys = [...byKey.keys()].sort(compareJsonbKeys);
  return new Map(keys.map((k) => [k, byKey.get(k)!]));
}

export function parseJsonb(text: string): Jsonb {
  return new Jsonb(new JsonParser(text, true).parseDocument());
}

/** json_in: validates and returns the text unchanged. */
export function parseJson(text: string): string {
  new JsonParser(text, false).parseDocument();
  return text;
}

/** Postgres's escape_json: a quoted JSON string literal. */
export function quoteJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 34: out += '\\"'; break;
      case 92: out += "\\\\"; break;
      case 8: out += "\\b"; break;
      case 12: out += "\\f"; break;
      case 10: out += "\\n"; break;
      case 13: out += "\\r"; break;
      case 9: out += "\\t"; break;
      default:
        out += c < 32 ? `\\u${c.toString(16).padStart(4, "0")}` : s[i];
    }
  }
  return out + '"';
}

export function isJsonObject(v: JsonValue): v is JsonObject {
  return v instanceof Map;
}

/** jsonb_out: `{"a": 1, "b": [1, 2]}`. */
export function formatJsonValue(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return quoteJsonString(v);
  if (v instanceof Numeric) return v.toString();
  if (Array.isArray(v)) return `[${v.map(formatJsonValue).join(", ")}]`;
  const parts: string[] = [];
  for (const [k, val] of v as JsonObject) parts.push(`${quoteJsonString(k)}: ${formatJsonValue(val)}`);
  return `{${parts.join(", ")}}`;
}

export function formatJsonb(j: Jsonb): string {
  return formatJsonValue(j.value);
}

// jsonb btree order (Postgres docs, "jsonb Indexing"): Object > Array > Boolean > Number >
// String > Null; objects with more pairs are greater, arrays with more elements are greater,
// then element by element (objects: key, value, key, value … in storage order, each key compared
// as a string, not in storage's shorter-first order). Strings compare bytewise here (collation
// "C"). An empty top-level array sorts below null.
function rank(v: JsonValue): number {
  if (v === null) return 1;
  if (typeof v === "string") return 2;
  if (v instanceof Numeric) return 3;
  if (typeof v === "boolean") return 4;
  if (Array.isArray(v)) return 5;
  return 6;
}

export function compareJsonValues(a: JsonValue, b: JsonValue, topLevel = false): number {
  if (topLevel) {
    const ae = Array.isArray(a) && a.length === 0;
    const be = Array.isArray(b) && b.length === 0;
    if (ae !== be) return ae ? -1 : 1;
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a === null) return 0;
  if (typeof a === "string") return compareCodePoints(a, b as string);
  if (a instanceof Numeric) return a.compare(b as Numeric);
  if (typeof a === "boolean") return Number(a) - Number(b as boolean);
  if (Array.isArray(a)) {
    const bb = b as JsonValue[];
    if (a.length !== bb.length) return a.length - bb.length;
    for (let i = 0; i < a.length; i++) {
      const c = compareJsonValues(a[i]!, bb[i]!);
      if (c !== 0) return c;
    }
    return 0;
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  if (ao.size !== bo.size) return ao.size - bo.size;
  const ai = [...ao];
  const bi = [...bo];
  for (let i = 0; i < ai.length; i++) {
    const k = compareCodePoints(ai[i]![0], bi[i]![0]);
    if (k !== 0) return k;
    const c = compareJsonValues(ai[i]![1], bi[i]![1]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Code-point order, which is UTF-8 byte order (the "C" collation). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–DFFF) encode code points above U+FFFF, which sort after U+E000–FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
