// Values of PL/pgSQL variables: scalars are datums; record variables (RECORD, NEW, OLD, FOR … IN
// query targets) hold a row with its column names and types. Assignments convert as PL/pgSQL
// does: the assignment cast when there is one, else through text (the I/O conversion).
import { PgError } from "../../../../common/errors.ts";
import type { EvalContext } from "../types/context.ts";
import { castFunction } from "../types/cast.ts";
import type { Datum } from "../types/datum.ts";
import { formatText, parseText } from "../types/text-io.ts";
import type { SqlType } from "../types/type.ts";

export interface PlColumn {
  readonly name: string;
  readonly type: SqlType;
}

/** A record variable's value: `cols` is shared by every row of one shape (cached bindings key on it). */
export interface PlRecord {
  readonly cols: readonly PlColumn[];
  readonly values: Datum[];
}

type Converter = (d: Datum, ctx: EvalContext) => Datum;

const converters = new Map<string, Converter>();

function converter(from: SqlType, to: SqlType): Converter {
  const key = `${from.oid}/${from.typmod}>${to.oid}/${to.typmod}`;
  let c = converters.get(key);
  if (c === undefined) {
    try {
      const cast = castFunction(from, to, "assignment");
      c = (d, ctx) => cast(d, ctx);
    } catch (err) {
      if (!(err instanceof PgError) || err.condition !== "cannot_coerce") throw err;
      c = (d, ctx) => (d === null ? null : parseText(formatText(d, from, ctx)!, to, ctx));
    }
    converters.set(key, c);
  }
  return c;
}

/** `d` (of type `from`) as a value of `to`, as a PL/pgSQL assignment converts it. */
export function convertValue(d: Datum, from: SqlType, to: SqlType, ctx: EvalContext): Datum {
  if (d === null) return null;
  if (from.oid === to.oid && (to.typmod < 0 || from.typmod === to.typmod)) return d;
  return converter(from, to)(d, ctx);
}
