import { describe, expect, it } from "vitest";
import { PgError } from "../../../../common/errors.ts";
import { formatText, parseText } from "./text-io.ts";
import { textIoCases } from "./testdata/text-io-cases.ts";
import { typeFromName, withTypmod } from "./type.ts";
import { applyTypmod } from "./typmod.ts";
import { UTC } from "./timezone.ts";

// `'<literal>'::type(mod)` in Postgres runs the input function without the typmod, then the
// explicit length coercion; mirror that so the expected outputs (from PostgreSQL 15) apply.
function literalCast(input: string, typeName: string): string | null {
  const m = /^(.*?)(?:\(([-\d,]+)\))?(\[\])?$/.exec(typeName)!;
  const mods = m[2] === undefined ? [] : m[2].split(",").map(Number);
  const t = typeFromName(m[1]!, mods, m[3] ? 1 : 0);
  const ctx = { timeZone: UTC, transactionTimestamp: 0n };
  const d = applyTypmod(parseText(input, withTypmod(t, -1), ctx), t, true);
  return formatText(d, t, ctx);
}

// Multi-dimensional arrays are refused (0A000) rather than supported.
const unsupported = new Set(["{{1,2},{3,4}}"]);

describe("text I/O matches PostgreSQL 15", () => {
  for (const [type, input, expected] of textIoCases) {
    if (unsupported.has(input)) continue;
    it(`'${input}'::${type}`, () => {
      if (typeof expected === "string") {
        expect(literalCast(input, type)).toBe(expected);
      } else {
        let err: unknown;
        try {
          literalCast(input, type);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PgError);
        expect((err as PgError).code).toBe(expected.code);
        expect((err as PgError).message).toBe(expected.message);
      }
    });
  }

  it("applies typmods with assignment semantics in parseText", () => {
    expect(() => parseText("abcd", typeFromName("varchar", [3]))).toThrow(expect.objectContaining({ code: "22001" }));
    expect(parseText("abc  ", typeFromName("varchar", [3]))).toBe("abc");
    expect(parseText("ab", typeFromName("char", [3]))).toBe("ab ");
  });

  it("refuses multi-dimensional arrays clearly", () => {
    expect(() => parseText("{{1,2},{3,4}}", typeFromName("int4[]"))).toThrow(expect.objectContaining({ code: "0A000" }));
  });
});
