// Window-only functions (ranking, offsets, frame values) and the type each returns. Aggregates
// used as window functions are typed by the aggregate catalog (functions/aggregates.ts).
import { PgError } from "../../../../common/errors.ts";
import { type SqlType, Types } from "../types/type.ts";

export const WINDOW_ONLY = new Set([
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
  "first_value", "last_value", "nth_value",
]);

/** Result type of a window-only function. */
export function windowType(name: string, args: readonly SqlType[]): { type: SqlType; argTypes: SqlType[] } {
  switch (name) {
    case "row_number":
    case "rank":
    case "dense_rank":
      return { type: Types.int8, argTypes: [] };
    case "percent_rank":
    case "cume_dist":
      return { type: Types.float8, argTypes: [] };
    case "ntile":
      return { type: Types.int4, argTypes: [Types.int4] };
    case "lag":
    case "lead": {
      const t = args[0] ?? Types.text;
      const argTypes = [t, Types.int4, t].slice(0, args.length);
      return { type: t, argTypes };
    }
    case "first_value":
    case "last_value":
      return { type: args[0] ?? Types.text, argTypes: [args[0] ?? Types.text] };
    case "nth_value":
      return { type: args[0] ?? Types.text, argTypes: [args[0] ?? Types.text, Types.int4] };
  }
  throw new PgError("undefined_function", `function ${name} does not exist`);
}
