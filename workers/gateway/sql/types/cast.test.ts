import { describe, expect, it } from "vitest";
import { PgError } from "../../../../common/errors.ts";
import { canCast, castContext, commonType } from "./cast-rules.ts";
import { castDatum } from "./cast.ts";
import { formatText, parseText } from "./text-io.ts";
import { castCases } from "./testdata/cast-cases.ts";
import { UTC } from "./timezone.ts";
import { Types, arrayOf, formatType, typeFromName, type SqlType } from "./type.ts";

const ctx = { timeZone: UTC, transactionTimestamp: 0n };

function typeOf(name: string): SqlType {
  const m = /^(.*?)(?:\(([-\d,]+)\))?(\[\])?$/.exec(name)!;
  return typeFromName(m[1]!, m[2] === undefined ? [] : m[2].split(",").map(Number), m[3] ? 1 : 0);
}

describe("casts match PostgreSQL 15", () => {
  for (const [from, input, to, expected] of castCases) {
    it(`('${input}'::${from})::${to}`, () => {
      const ft = typeOf(from);
      const tt = typeOf(to);
      const run = () => formatText(castDatum(parseText(input, ft, ctx), ft, tt, ctx, "explicit"), tt, ctx);
      if (typeof expected === "string") {
        expect(run()).toBe(expected);
      } else {
        let err: unknown;
        try {
          run();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PgError);
        expect((err as PgError).code).toBe(expected.code);
        expect((err as PgError).message).toBe(expected.message);
      }
    });
  }

  it("raises 22001 for a too-long string in assignment, truncates explicitly", () => {
    const v3 = typeFromName("varchar", [3]);
    expect(() => castDatum("abcd", Types.text, v3, ctx, "assignment")).toThrow(expect.objectContaining({ code: "22001" }));
    expect(castDatum("abcd", Types.text, v3, ctx, "explicit")).toBe("abc");
    expect(castDatum(null, Types.text, v3, ctx, "assignment")).toBe(null);
  });

  it("refuses casts outside their context with 42846", () => {
    expect(() => castDatum("1", Types.text, Types.int4, ctx, "assignment")).toThrow(expect.objectContaining({ code: "42846" }));
    expect(() => castDatum(1, Types.int4, Types.bool, ctx, "assignment")).toThrow(expect.objectContaining({ code: "42846" }));
    expect(() => castDatum(1, Types.int4, Types.date, ctx, "explicit")).toThrow(expect.objectContaining({ code: "42846" }));
  });
});

describe("cast contexts (pg_cast)", () => {
  it("knows implicit, assignment and explicit casts", () => {
    expect(castContext(Types.int4, Types.int8)).toBe("implicit");
    expect(castContext(Types.int8, Types.int4)).toBe("assignment");
    expect(castContext(Types.int4, Types.bool)).toBe("explicit");
    expect(castContext(Types.int4, Types.text)).toBe("assignment");
    expect(castContext(Types.text, Types.int4)).toBe("explicit");
    expect(castContext(Types.date, Types.timestamptz)).toBe("implicit");
    expect(castContext(Types.timestamptz, Types.date)).toBe("assignment");
    expect(castContext(Types.int4, Types.date)).toBe(null);
    expect(castContext(arrayOf(Types.int4), arrayOf(Types.int8))).toBe("implicit");
    expect(canCast(Types.unknown, Types.jsonb, "implicit")).toBe(true);
    expect(canCast(Types.float8, Types.numeric, "implicit")).toBe(false);
    expect(canCast(Types.float8, Types.numeric, "assignment")).toBe(true);
  });
});

describe("commonType (select_common_type)", () => {
  // Expected types checked with pg_typeof() on PostgreSQL 15.
  const cases: Array<[SqlType[], string]> = [
    [[Types.int4, Types.numeric], "numeric"],
    [[Types.int2, Types.int8], "bigint"],
    [[Types.int4, Types.float8], "double precision"],
    [[Types.numeric, Types.float8], "double precision"],
    [[Types.float4, Types.numeric], "real"],
    [[Types.unknown, Types.int4], "integer"],
    [[Types.unknown, Types.unknown], "text"],
    [[Types.varchar, Types.text], "character varying"],
    [[Types.text, Types.varchar], "text"],
    [[Types.date, Types.timestamptz], "timestamp with time zone"],
    [[Types.date, Types.timestamp], "timestamp without time zone"],
    [[typeFromName("varchar", [3]), typeFromName("varchar", [3])], "character varying(3)"],
    [[typeFromName("varchar", [3]), typeFromName("varchar", [5])], "character varying"],
    [[arrayOf(Types.int4), arrayOf(Types.int8)], "bigint[]"],
  ];
  for (const [types, expected] of cases) {
    it(`${types.map(formatType).join(", ")} → ${expected}`, () => {
      expect(formatType(commonType(types, "CASE"))).toBe(expected);
    });
  }

  it("refuses mixed categories with 42804", () => {
    expect(() => commonType([Types.int4, Types.text], "CASE")).toThrow(
      expect.objectContaining({ code: "42804", message: "CASE types integer and text cannot be matched" }),
    );
    expect(() => commonType([Types.bool, Types.int4], "UNION")).toThrow(expect.objectContaining({ code: "42804" }));
  });
});
