import { describe, expect, it } from "vitest";
import { formatFixed3, hashValues, renderInteger, renderReal, renderResult, renderText, renderValue } from "./format.ts";

describe("sqllogictest result rendering", () => {
  it("renders NULL, empty and unprintable text like sqllogictest", () => {
    expect(renderValue(null, "I")).toBe("NULL");
    expect(renderValue(null, "T")).toBe("NULL");
    expect(renderValue(null, "R")).toBe("NULL");
    expect(renderText("")).toBe("(empty)");
    expect(renderText("a b")).toBe("a b");
    expect(renderText("a\tb\n")).toBe("a@b@");
    expect(renderText("é")).toBe("@@"); // two UTF-8 bytes, each unprintable ASCII
  });

  it("converts I columns to integers the way the reference engine did", () => {
    expect(renderInteger("42")).toBe("42");
    expect(renderInteger("-0")).toBe("0");
    expect(renderInteger("+7")).toBe("7");
    expect(renderInteger("9223372036854775807")).toBe("9223372036854775807");
    expect(renderInteger("-45.9")).toBe("-45"); // truncation toward zero, as a C cast
    expect(renderInteger("58.2000000000000000")).toBe("58");
    expect(renderInteger("1e3")).toBe("1000");
    expect(renderInteger("t")).toBe("1");
    expect(renderInteger("f")).toBe("0");
    expect(renderInteger("12abc")).toBe("12");
    expect(renderInteger("abc")).toBe("0");
  });

  it("prints R columns as printf(\"%.3f\") including glibc's round-half-even on exact ties", () => {
    expect(renderReal("1.5")).toBe("1.500");
    expect(renderReal("-2")).toBe("-2.000");
    expect(renderReal("33.3333333333333333")).toBe("33.333");
    expect(formatFixed3(0.0625)).toBe("0.062"); // exact tie: to even
    expect(formatFixed3(0.1875)).toBe("0.188"); // exact tie: to even (upwards)
    expect(formatFixed3(-0.0625)).toBe("-0.062");
    expect(formatFixed3(0.0005)).toBe("0.001"); // not a tie: the double is a little above 0.0005
    expect(formatFixed3(2.0005)).toBe("2.001"); // the double is 2.000500000000000167
    expect(formatFixed3(-0)).toBe("-0.000");
    expect(formatFixed3(1e21)).toBe("1000000000000000000000.000");
    expect(renderReal("t")).toBe("1.000");
    expect(renderReal("x")).toBe("0.000");
  });

  it("sorts rows or values with strcmp and hashes value lines with MD5", () => {
    const rows = [["10", "b"], ["9", "a"], ["10", "a"]];
    expect(renderResult(rows, "IT", "nosort")).toEqual(["10", "b", "9", "a", "10", "a"]);
    expect(renderResult(rows, "IT", "rowsort")).toEqual(["10", "a", "10", "b", "9", "a"]); // "9" after "10"
    expect(renderResult(rows, "IT", "valuesort")).toEqual(["10", "10", "9", "a", "a", "b"]);
    expect(renderResult([[null, ""]], "IT", "nosort")).toEqual(["NULL", "(empty)"]);
    // md5("1\n2\n") and md5("NULL\n(empty)\n"), computed with md5sum.
    expect(hashValues(["1", "2"])).toBe("6ddb4095eb719e2a9f0a3f95677d24e0");
    expect(hashValues(["NULL", "(empty)"])).toBe("14ad0be6c1ebb606277cbbb8e0bcc287");
  });
});
