// The engine inside workerd (the runtime the gateway isolate has): the classic catastrophic
// pattern answers at once instead of stopping the shared thread.
import { describe, expect, it } from "vitest";
import { regexMatch, regexpMatch, regexpReplace } from "../regexp.ts";

describe("regular expressions in workerd", () => {
  it("match ^(a+)+$ on 30,000 characters and a trailing ! without backtracking", () => {
    const started = Date.now();
    expect(regexMatch("a".repeat(30_000) + "!", "^(a+)+$", false)).toBe(false);
    expect(regexpMatch("a".repeat(30_000), "^(a+)+$")).toEqual(["a"]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("apply Postgres's semantics", () => {
    expect(regexpMatch("abcd", "(a|ab)(c|bcd)(d*)")).toEqual(["ab", "c", "d"]);
    expect(regexpReplace("😀x😀", ".", "-", "g")).toBe("---");
  });
});
