// The aggregate catalog (what pg_aggregate holds for the supported aggregates): for each one, the
// types Postgres gives a call (sum(int4) is bigint, avg(int) is numeric, count is bigint, …) and
// its accumulator (transition state and final function). The binder types a call with
// aggregateType; the executor makes one accumulator per group (and per window frame) with
// makeAccumulator. FILTER, DISTINCT and ORDER BY inside the call are the executor's business.

import { PgError } from "../../../../common/errors.ts";
import { compareDatums } from "../types/compare.ts";
import type { EvalContext } from "../types/context.ts";
import { Jsonb, type Datum, type Interval, type JsonValue } from "../types/datum.ts";
import { Numeric } from "../types/numeric.ts";
import { arrayOf, formatType, Oid, refuseMultidimensional, Types, type SqlType } from "../types/type.ts";
import { addIntervals, divideInterval } from "./interval-math.ts";
import { datumToJson, datumToJsonText } from "./json-functions.ts";
import { datumBytes } from "../types/datum-size.ts";
import { checkArrayLength, checkTextLength } from "./value-limits.ts";

export interface Accumulator {
  /**
   * Adds one row's arguments. Accumulators whose state grows with the rows (string_agg, array_agg,
   * json_agg, jsonb_agg) return the bytes they now hold beyond before, for the statement's memory
   * account (53200); the others hold constant state and return nothing.
   */
  add(args: Datum[]): number | void;
  result(): Datum;
}

export interface AggregateTyping {
  readonly type: SqlType;
  /** The types the arguments are coerced to. */
  readonly argTypes: SqlType[];
}

/** What an accumulator is made for: the bound call (bind/bound.ts AggCall has this shape). */
export interface AggregateCall {
  readonly name: string;
  /** Argument types after coercion. */
  readonly argTypes: readonly SqlType[];
  readonly type: SqlType;
  /** count(*): every row counts. */
  readonly star: boolean;
}

interface AggregateDef {
  /** Typing for the first argument's type (unknown already text, typmod dropped); null: no such overload. */
  typing(first: SqlType | undefined, args: readonly SqlType[]): AggregateTyping | null;
  accumulator(call: AggregateCall, ctx: EvalContext): Accumulator;
}

const AGGREGATES = new Map<string, AggregateDef>();

function agg(names: readonly string[], def: AggregateDef): void {
  for (const n of names) AGGREGATES.set(n, def);
}

export function isAggregate(name: string): boolean {
  return AGGREGATES.has(name);
}

function noAggregate(name: string, args: readonly SqlType[]): PgError {
  return new PgError("undefined_function", `function ${name}(${args.map(formatType).join(", ")}) does not exist`, {
    hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
  });
}

/** Result and argument types of an aggregate call on (bound) argument types; 42883 when none matches. */
export function aggregateType(name: string, args: readonly SqlType[]): AggregateTyping {
  const a = args[0];
  const first = a === undefined ? undefined : a.oid === Oid.unknown ? Types.text : { oid: a.oid, name: a.name, typmod: -1, ...(a.elem ? { elem: a.elem } : {}), ...(a.enum ? { enum: a.enum } : {}) };
  const r = AGGREGATES.get(name)?.typing(first, args) ?? null;
  if (r === null) throw noAggregate(name, args);
  return r;
}

/** A fresh accumulator for one aggregate call; `ctx` gives json_agg its time zone. */
export function makeAccumulator(call: AggregateCall, ctx: EvalContext): Accumulator {
  const def = AGGREGATES.get(call.name);
  if (def === undefined) throw new PgError("feature_not_supported", `aggregate ${call.name} is not supported`);
  return def.accumulator(call, ctx);
}

function toNumeric(d: Datum): Numeric {
  if (d instanceof Numeric) return d;
  return Numeric.fromInteger(d as number | bigint);
}

const isOneOf = (t: SqlType | undefined, ...oids: number[]): boolean => t !== undefined && t.elem === undefined && oids.includes(t.oid);

agg(["count"], {
  typing: (first) => ({ type: Types.int8, argTypes: first ? [first] : [] }),
  accumulator: (call) => {
    let n = 0n;
    return { add: (args) => { if (call.star || args[0] !== null) n++; }, result: () => n };
  },
});

agg(["sum"], {
  typing: (first) => {
    if (isOneOf(first, Oid.int2, Oid.int4)) return { type: Types.int8, argTypes: [first!] };
    if (isOneOf(first, Oid.int8, Oid.numeric)) return { type: Types.numeric, argTypes: [first!] };
    if (isOneOf(first, Oid.float4, Oid.float8, Oid.interval)) return { type: first!, argTypes: [first!] };
    if (isOneOf(first, Oid.text)) return { type: Types.float8, argTypes: [Types.float8] };
    return null;
  },
  accumulator: (call) => {
    const t = call.argTypes[0]!;
    if (isOneOf(t, Oid.int2, Oid.int4)) {
      let s: bigint | null = null;
      return { add: ([v = null]) => { if (v !== null) s = (s ?? 0n) + BigInt(v as number); }, result: () => s };
    }
    if (isOneOf(t, Oid.int8, Oid.numeric)) {
      let s: Numeric | null = null;
      let bigSum: bigint | null = null;
      return {
        add: ([v = null]) => {
          if (v === null) return;
          if (typeof v === "bigint") bigSum = (bigSum ?? 0n) + v;
          else s = s === null ? toNumeric(v) : s.add(toNumeric(v));
        },
        result: () => {
          if (bigSum === null) return s;
          const b = Numeric.fromInteger(bigSum);
          return s === null ? b : s.add(b);
        },
      };
    }
    if (isOneOf(t, Oid.interval)) {
      let s: Interval | null = null;
      return { add: ([v = null]) => { if (v !== null) s = s === null ? (v as Interval) : addIntervals(s, v as Interval); }, result: () => s };
    }
    let s: number | null = null;
    return { add: ([v = null]) => { if (v !== null) s = (s ?? 0) + (v as number); }, result: () => (s === null ? null : t.oid === Oid.float4 ? Math.fround(s) : s) };
  },
});

// avg and the variance family: numeric for exact inputs, float8 for floats.
const statisticsTyping = (name: string) => (first: SqlType | undefined): AggregateTyping | null => {
  if (isOneOf(first, Oid.int2, Oid.int4, Oid.int8, Oid.numeric)) return { type: Types.numeric, argTypes: [Types.numeric] };
  if (isOneOf(first, Oid.float4, Oid.float8, Oid.text)) return { type: Types.float8, argTypes: [Types.float8] };
  if (name === "avg" && isOneOf(first, Oid.interval)) return { type: first!, argTypes: [first!] };
  return null;
};

agg(["avg"], {
  typing: statisticsTyping("avg"),
  accumulator: (call) => {
    if (call.type.oid === Oid.numeric) {
      let s: Numeric | null = null;
      let n = 0;
      return {
        add: ([v = null]) => {
          if (v === null) return;
          s = s === null ? toNumeric(v) : s.add(toNumeric(v));
          n++;
        },
        result: () => (s === null ? null : s.div(Numeric.fromInteger(n))),
      };
    }
    if (call.type.oid === Oid.interval) {
      let s: Interval | null = null;
      let n = 0;
      return {
        add: ([v = null]) => {
          if (v === null) return;
          s = s === null ? (v as Interval) : addIntervals(s, v as Interval);
          n++;
        },
        result: () => (s === null ? null : divideInterval(s, n)),
      };
    }
    let s = 0;
    let n = 0;
    return { add: ([v = null]) => { if (v !== null) { s += v as number; n++; } }, result: () => (n === 0 ? null : s / n) };
  },
});

for (const name of ["stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop"]) {
  agg([name], {
    typing: statisticsTyping(name),
    accumulator: (call) => {
      // Postgres's float8_accum (Youngs-Cramer): count, sum and sum of squared deviations, so the
      // state stays constant however many rows are aggregated.
      const pop = name.endsWith("_pop");
      let n = 0;
      let sx = 0;
      let sxx = 0;
      return {
        add: ([v = null]) => {
          if (v === null) return;
          const x = v instanceof Numeric ? v.toNumber() : Number(v);
          n += 1;
          sx += x;
          if (n > 1) {
            const t = x * n - sx;
            sxx += (t * t) / (n * (n - 1));
          }
        },
        result: () => {
          if (n === 0 || (!pop && n === 1)) return null;
          const variance = sxx / (pop ? n : n - 1);
          const r = name.startsWith("stddev") ? Math.sqrt(variance) : variance;
          return call.type.oid === Oid.numeric ? Numeric.of(Numeric.fromFloat(r).value, 16) : r;
        },
      };
    },
  });
}

for (const [name, sign] of [["min", -1], ["max", 1]] as const) {
  agg([name], {
    typing: (first) => (first ? { type: first, argTypes: [first] } : null),
    accumulator: (call) => {
      const t = call.argTypes[0]!;
      // Of equal values (1.0 and 1.00, 0 and -0, '1 mon' and '30 days') Postgres's smaller/larger
      // functions keep the later one, except bpchar's, which keep the earlier.
      const keepEarlier = t.oid === Oid.bpchar;
      let best: Datum = null;
      return {
        add: ([v = null]) => {
          if (v === null) return;
          const c = best === null ? 1 : compareDatums(v, best, t) * sign;
          if (c > 0 || (c === 0 && !keepEarlier)) best = v;
        },
        result: () => best,
      };
    },
  });
}

agg(["bool_and", "every"], {
  typing: () => ({ type: Types.bool, argTypes: [Types.bool] }),
  accumulator: () => {
    let r: boolean | null = null;
    return { add: ([v = null]) => { if (v !== null) r = (r ?? true) && (v as boolean); }, result: () => r };
  },
});

agg(["bool_or"], {
  typing: () => ({ type: Types.bool, argTypes: [Types.bool] }),
  accumulator: () => {
    let r: boolean | null = null;
    return { add: ([v = null]) => { if (v !== null) r = (r ?? false) || (v as boolean); }, result: () => r };
  },
});

/** string_agg joins its pieces into one flat string this often (bounds the per-piece overhead). */
const STRING_AGG_PIECES = 4096;
/**
 * …or once the pieces hold this many characters: a join is one step that nothing interrupts, and in
 * workerd joining 4,096 pieces of 1,000 characters took 16–19 ms (106 ms once), 512 of them 2 ms;
 * 64 Ki characters keep each join well under a millisecond.
 */
const STRING_AGG_CHUNK_CHARS = 65_536;

agg(["string_agg"], {
  typing: (first, args) => {
    if (args.length !== 2) return null;
    return isOneOf(first, Oid.bytea) ? { type: Types.bytea, argTypes: [Types.bytea, Types.bytea] } : { type: Types.text, argTypes: [Types.text, Types.text] };
  },
  accumulator: (call) => {
    if (call.type.oid === Oid.bytea) {
      const parts: Uint8Array[] = [];
      let any = false;
      return {
        add: ([v = null, sep = null]) => {
          if (v === null) return 0;
          const glue = any && sep !== null ? (sep as Uint8Array) : null;
          if (glue !== null) parts.push(glue);
          parts.push(v as Uint8Array);
          any = true;
          return (glue?.length ?? 0) + (v as Uint8Array).length + 48;
        },
        result: () => {
          if (!any) return null;
          const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) {
            out.set(p, at);
            at += p.length;
          }
          return out;
        },
      };
    }
    // Pieces are joined into flat chunks every STRING_AGG_PIECES, so what is held is the text itself
    // (charged at 2 bytes a character), not one string object per row.
    const chunks: string[] = [];
    let parts: string[] = [];
    let any = false;
    let chars = 0;
    let partChars = 0;
    return {
      add: ([v = null, sep = null]) => {
        if (v === null) return 0;
        const glue = any && sep !== null ? (sep as string) : "";
        chars += glue.length + (v as string).length;
        // The bound on one text value, before the piece is kept (Postgres: 54000 at 1 GB).
        checkTextLength(chars, "string_agg result");
        if (glue !== "") parts.push(glue);
        parts.push(v as string);
        any = true;
        partChars += glue.length + (v as string).length;
        if (parts.length >= STRING_AGG_PIECES || partChars >= STRING_AGG_CHUNK_CHARS) {
          chunks.push(parts.join(""));
          parts = [];
          partChars = 0;
        }
        return 2 * (glue.length + (v as string).length);
      },
      result: () => (any ? chunks.join("") + parts.join("") : null),
    };
  },
});

agg(["array_agg"], {
  typing: (first) => {
    if (first) refuseMultidimensional(first);
    return first ? { type: arrayOf(first), argTypes: [first] } : null;
  },
  accumulator: () => {
    const out: Datum[] = [];
    let any = false;
    return {
      add: ([v = null]) => {
        checkArrayLength(out.length + 1);
        out.push(v ?? null);
        any = true;
        return datumBytes(v ?? null) + 8;
      },
      result: () => (any ? out : null),
    };
  },
});

agg(["json_agg"], {
  typing: (first) => (first ? { type: Types.json, argTypes: [first] } : null),
  accumulator: (call, ctx) => {
    const t = call.argTypes[0]!;
    const out: string[] = [];
    let chars = 2;
    return {
      add: ([v = null]) => {
        const text = datumToJsonText(v, t, ctx.timeZone);
        chars += text.length + (out.length > 0 ? 2 : 0);
        checkTextLength(chars, "json_agg result");
        out.push(text);
        return 2 * text.length + 24;
      },
      result: () => (out.length === 0 ? null : `[${out.join(", ")}]`),
    };
  },
});

agg(["jsonb_agg"], {
  typing: (first) => (first ? { type: Types.jsonb, argTypes: [first] } : null),
  accumulator: (call, ctx) => {
    const t = call.argTypes[0]!;
    const out: JsonValue[] = [];
    return {
      add: ([v = null]) => {
        checkArrayLength(out.length + 1);
        const value = datumToJson(v, t, ctx.timeZone);
        out.push(value);
        // A JSON value as JavaScript holds it: about what its text takes, plus the object.
        return datumBytes(v ?? null) + 32;
      },
      result: () => (out.length === 0 ? null : new Jsonb(out)),
    };
  },
});
