// Text input and output of datums (Postgres's typinput/typoutput) as the engine calls them; the
// implementations are the types layer's (sql/types/text-io.ts).
import type { Datum } from "../types/datum.ts";
import { formatText as formatTextTypes, parseText as parseTextTypes } from "../types/text-io.ts";
import { Oid, type SqlType } from "../types/type.ts";
import type { TimeZone } from "../types/timezone.ts";
import { bindContext } from "./eval-context.ts";

export function formatText(t: SqlType, d: Datum, timeZone?: TimeZone): string | null {
  if (t.oid === Oid.void) return d === null ? null : "";
  return formatTextTypes(d, t, { timeZone: timeZone ?? bindContext().timeZone });
}

export function parseText(t: SqlType, s: string): Datum {
  return parseTextTypes(s, t, bindContext());
}
