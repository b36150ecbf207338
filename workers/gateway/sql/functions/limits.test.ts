import { describe, expect, it } from "vitest";
import { evalContext } from "../types/context.ts";
import { Types, withTypmod } from "../types/type.ts";
import { applyFunction, resolveFunction } from "./functions.ts";
import { PATTERN_CACHE_MAX, RESOLUTION_CACHE_MAX, STRING_RESULT_CHARS_MAX } from "./limits.ts";
import { resolveOperator } from "./operators.ts";
import { patternCacheSize, regexMatch } from "./regexp.ts";
import { resolutionCacheSize } from "./resolve.ts";

const ctx = evalContext();

describe("function limits", () => {
  it("builds strings up to STRING_RESULT_CHARS_MAX and refuses one more with 54000", () => {
    const repeat = resolveFunction("repeat", [Types.text, Types.int4]);
    expect((applyFunction(repeat, ["x", STRING_RESULT_CHARS_MAX], ctx) as string).length).toBe(STRING_RESULT_CHARS_MAX);
    expect(() => applyFunction(repeat, ["x", STRING_RESULT_CHARS_MAX + 1], ctx)).toThrow(expect.objectContaining({ code: "54000" }));
    const lpad = resolveFunction("lpad", [Types.text, Types.int4, Types.text]);
    expect(() => applyFunction(lpad, ["x", STRING_RESULT_CHARS_MAX + 1, "y"], ctx)).toThrow(expect.objectContaining({ code: "54000" }));
  });

  it("keeps at most PATTERN_CACHE_MAX compiled patterns", () => {
    for (let i = 0; i < PATTERN_CACHE_MAX + 10; i++) regexMatch("x", `x${i}|x`, false);
    // Full, and held there: each new pattern evicts the least recently used one.
    expect(patternCacheSize()).toBe(PATTERN_CACHE_MAX);
    regexMatch("x", "another|x", false);
    expect(patternCacheSize()).toBe(PATTERN_CACHE_MAX);
  });

  it("keeps at most RESOLUTION_CACHE_MAX resolutions, and resolves a cached one to the same choice", () => {
    const plus = resolveOperator("+", Types.int4, Types.int8);
    expect(resolveOperator("+", Types.int4, Types.int8)).toBe(plus);
    expect(plus.resultType).toEqual(Types.int8);
    // varchar(n) for every n is a distinct key (the typmod decides whether a cast is needed).
    let peak = 0;
    for (let n = 1; n <= RESOLUTION_CACHE_MAX + 10; n++) {
      const t = withTypmod(Types.varchar, n + 4);
      expect(resolveOperator("=", t, t).leftType.oid).toBe(Types.text.oid);
      peak = Math.max(peak, resolutionCacheSize());
    }
    expect(peak).toBe(RESOLUTION_CACHE_MAX);
    expect(resolutionCacheSize()).toBeLessThanOrEqual(RESOLUTION_CACHE_MAX);
    expect(resolveOperator("+", Types.int4, Types.int8).resultType).toEqual(Types.int8);
  });
});
