import { describe, expect, it } from "vitest";
import { Numeric } from "./numeric.ts";

const n = (s: string) => Numeric.parse(s);

describe("Numeric", () => {
  it("keeps the display scale of its input", () => {
    expect(n("1.50").toString()).toBe("1.50");
    expect(n(" -0.0 ").toString()).toBe("0.0");
    expect(n("1.5e1").toString()).toBe("15");
    expect(n("1e-3").toString()).toBe("0.001");
    expect(n(".5").toString()).toBe("0.5");
    expect(n("5.").toString()).toBe("5");
    expect(n("nan").toString()).toBe("NaN");
    expect(n("-inf").toString()).toBe("-Infinity");
  });

  it("rejects bad input with 22P02", () => {
    for (const bad of ["", "abc", "1.2.3", ".", "1e", "--1"]) {
      expect(() => n(bad)).toThrow(expect.objectContaining({ code: "22P02" }));
    }
  });

  it("follows Postgres's arithmetic scale rules", () => {
    expect(n("1.5").add(n("1.25")).toString()).toBe("2.75");
    expect(n("1.50").mul(n("2.0")).toString()).toBe("3.000");
    expect(n("1").div(n("3")).toString()).toBe("0.33333333333333333333");
    expect(n("10").div(n("4")).toString()).toBe("2.5000000000000000");
    expect(n("2").div(n("3")).toString()).toBe("0.66666666666666666667");
    // Expected values checked against PostgreSQL 15.
    expect(n("12345678").div(n("0.001")).toString()).toBe("12345678000.00000000");
    expect(n("0.001").div(n("7")).toString()).toBe("0.00014285714285714286");
    expect(n("123.456").div(n("0.5")).toString()).toBe("246.9120000000000000");
    expect(n("99999").div(n("1")).toString()).toBe("99999.000000000000");
    expect(n("1.0").div(n("10000")).toString()).toBe("0.000100000000000000000000");
    expect(n("-7.5").mod(n("2")).toString()).toBe("-1.5");
    expect(() => n("1").div(n("0"))).toThrow(expect.objectContaining({ code: "22012" }));
  });

  it("orders NaN above infinity", () => {
    expect(n("NaN").compare(n("Infinity"))).toBe(1);
    expect(n("Infinity").compare(n("1e1000"))).toBe(1);
    expect(n("NaN").compare(n("nan"))).toBe(0);
    expect(n("1.0").compare(n("1"))).toBe(0);
  });

  it("rounds half away from zero", () => {
    expect(n("2.5").round(0).toString()).toBe("3");
    expect(n("-2.5").round(0).toString()).toBe("-3");
    expect(n("1234.5678").round(-2).toString()).toBe("1200");
    expect(n("1234.5678").trunc(2).toString()).toBe("1234.56");
  });
});
