// Which functions are aggregates or window functions, and the type each returns (Postgres's
// pg_aggregate rules: sum(int4) is bigint, avg(int) is numeric, count is bigint, …).
import { PgError } from "../../../../common/errors.ts";
import { arrayOf, formatType, Oid, type SqlType, Types } from "../types/type.ts";

export const AGGREGATES = new Set([
  "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg",
  "json_agg", "jsonb_agg", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop",
]);

export const WINDOW_ONLY = new Set([
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
  "first_value", "last_value", "nth_value",
]);

export function isAggregate(name: string): boolean {
  return AGGREGATES.has(name);
}

/** Result type of an aggregate given its (coerced) argument types; 42883 when none matches. */
export function aggregateType(name: string, args: readonly SqlType[]): { type: SqlType; argTypes: SqlType[] } {
  const a = args[0];
  const plainA = a === undefined ? undefined : a.oid === Oid.unknown ? Types.text : { oid: a.oid, name: a.name, typmod: -1, ...(a.elem ? { elem: a.elem } : {}) };
  const bad = (): PgError =>
    new PgError("undefined_function", `function ${name}(${args.map(formatType).join(", ")}) does not exist`, {
      hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
    });
  switch (name) {
    case "count":
      return { type: Types.int8, argTypes: plainA ? [plainA] : [] };
    case "sum":
      if (!plainA) throw bad();
      switch (plainA.oid) {
        case Oid.int2:
        case Oid.int4:
          return { type: Types.int8, argTypes: [plainA] };
        case Oid.int8:
        case Oid.numeric:
          return { type: Types.numeric, argTypes: [plainA] };
        case Oid.float4:
        case Oid.float8:
        case Oid.interval:
          return { type: plainA, argTypes: [plainA] };
        case Oid.text:
          return { type: Types.float8, argTypes: [Types.float8] };
      }
      throw bad();
    case "avg":
    case "stddev":
    case "stddev_samp":
    case "stddev_pop":
    case "variance":
    case "var_samp":
    case "var_pop":
      if (!plainA) throw bad();
      switch (plainA.oid) {
        case Oid.int2:
        case Oid.int4:
        case Oid.int8:
        case Oid.numeric:
          return { type: Types.numeric, argTypes: [Types.numeric] };
        case Oid.float4:
        case Oid.float8:
        case Oid.text:
          return { type: Types.float8, argTypes: [Types.float8] };
        case Oid.interval:
          if (name === "avg") return { type: plainA, argTypes: [plainA] };
      }
      throw bad();
    case "min":
    case "max":
      if (!plainA) throw bad();
      return { type: plainA, argTypes: [plainA] };
    case "bool_and":
    case "bool_or":
    case "every":
      return { type: Types.bool, argTypes: [Types.bool] };
    case "string_agg":
      if (args.length !== 2) throw bad();
      return plainA?.oid === Oid.bytea
        ? { type: Types.bytea, argTypes: [Types.bytea, Types.bytea] }
        : { type: Types.text, argTypes: [Types.text, Types.text] };
    case "array_agg":
      if (!plainA) throw bad();
      return { type: arrayOf(plainA), argTypes: [plainA] };
    case "json_agg":
      return { type: Types.json, argTypes: plainA ? [plainA] : [] };
    case "jsonb_agg":
      return { type: Types.jsonb, argTypes: plainA ? [plainA] : [] };
  }
  throw bad();
}

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
