import { describe, expect, it } from "vitest";
import { PgError, toPgError } from "./errors.ts";

describe("toPgError", () => {
  it("keeps a PgError as it is", () => {
    const e = new PgError("undefined_table", 'relation "t" does not exist');
    expect(toPgError(e)).toBe(e);
  });

  it("turns a JavaScript stack overflow into 54001, not XX000", () => {
    const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
    let overflow: unknown;
    try {
      deep(1e7);
    } catch (err) {
      overflow = err;
    }
    expect(overflow).toBeInstanceOf(RangeError);
    const e = toPgError(overflow);
    expect(e.code).toBe("54001");
    expect(e.message).toBe("stack depth limit exceeded");
  });

  it("turns anything else into XX000 with its message", () => {
    expect(toPgError(new TypeError("x is not a function")).code).toBe("XX000");
    expect(toPgError(new RangeError("Invalid array length")).code).toBe("XX000");
  });
});
