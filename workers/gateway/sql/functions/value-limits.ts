// The checks behind every function that builds a value whose size follows its input (repeat, lpad,
// ||, string_agg, array_agg, string_to_array, array_cat, …): past the bound the statement fails with
// 54000, the SQLSTATE Postgres gives at its own bounds (repeat: "requested length too large";
// string_agg: "out of memory … Cannot enlarge string buffer"; arrays: "array size exceeds the
// maximum allowed"), never with V8's "Invalid string length" or an isolate out of memory.
import { PgError } from "../../../../common/errors.ts";
import { ARRAY_ELEMENTS_MAX, STRING_RESULT_CHARS_MAX } from "./limits.ts";

export function checkTextLength(chars: number, what = "result string"): void {
  if (chars > STRING_RESULT_CHARS_MAX) {
    throw new PgError("program_limit_exceeded", `${what} would be ${chars} characters, more than the limit of ${STRING_RESULT_CHARS_MAX}`, {
      hint: `a text value holds at most ${STRING_RESULT_CHARS_MAX} characters here; build smaller values or return rows instead`,
    });
  }
}

export function checkArrayLength(elements: number): void {
  if (elements > ARRAY_ELEMENTS_MAX) {
    throw new PgError("program_limit_exceeded", `array size exceeds the maximum allowed (${ARRAY_ELEMENTS_MAX})`, {
      hint: "build smaller arrays or return rows instead",
    });
  }
}
