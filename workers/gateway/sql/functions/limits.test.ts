import { describe, expect, it } from "vitest";
import { evalContext } from "../types/context.ts";
import { Types } from "../types/type.ts";
import { applyFunction, resolveFunction } from "./functions.ts";
import { PATTERN_CACHE_MAX, STRING_RESULT_CHARS_MAX } from "./limits.ts";
import { patternCacheSize, regexMatch } from "./regexp.ts";

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
});
