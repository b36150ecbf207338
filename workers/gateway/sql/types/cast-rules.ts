// Which casts exist and in which context each may be applied, from PostgreSQL 15's pg_cast, plus
// the automatic I/O-conversion casts Postgres adds (any type → a string type in assignment,
// a string type → any type explicitly), and the type-resolution rules built on them:
// `commonType` (UNION, CASE, COALESCE, IN, VALUES, ARRAY[]) is Postgres's select_common_type.
//
// Contexts nest: an implicit cast may also be used in assignment and explicitly; an assignment
// cast (INSERT/UPDATE into a column) may also be used explicitly.

import { PgError } from "../../../../common/errors.ts";
import { Oid, REG_TYPE_OIDS, formatType, isPreferredType, typeCategory, withTypmod, type SqlType, Types } from "./type.ts";

export type CastContext = "implicit" | "assignment" | "explicit";

const RANK: Record<CastContext, number> = { implicit: 0, assignment: 1, explicit: 2 };

// pg_cast rows among the supported types: "source:target:context" (i/a/e), from PostgreSQL 15.
const PG_CAST = `16:23:e 16:25:a 16:1042:a 16:1043:a 18:23:e 18:25:i 18:1042:a 18:1043:a 19:25:i 19:1042:a 19:1043:a
20:21:a 20:23:a 20:26:i 20:700:i 20:701:i 20:1700:i 21:20:i 21:23:i 21:26:i 21:700:i 21:701:i
21:1700:i 23:16:e 23:18:e 23:20:i 23:21:a 23:26:i 23:700:i 23:701:i 23:1700:i 25:18:a 25:19:i
25:1042:i 25:1043:i 26:20:a 26:23:a 114:3802:a 700:20:a 700:21:a 700:23:a 700:701:i 700:1700:a
701:20:a 701:21:a 701:23:a 701:700:a 701:1700:a 1042:18:a 1042:19:i 1042:25:i 1042:1042:i
1042:1043:i 1043:18:a 1043:19:i 1043:25:i 1043:1042:i 1043:1043:i 1082:1114:i 1082:1184:i
1114:1082:a 1114:1114:i 1114:1184:i 1184:1082:a 1184:1114:a 1184:1184:i 1186:1186:i 1700:20:a
1700:21:a 1700:23:a 1700:700:i 1700:701:i 1700:1700:i 3802:16:e 3802:20:e 3802:21:e 3802:23:e
3802:114:a 3802:700:e 3802:701:e 3802:1700:e 1083:1083:i 1083:1186:i 1083:1266:i 1114:1083:a 1184:1083:a
1184:1266:a 1186:1083:a 1266:1083:a 1266:1266:i`;

// The OID alias types (regclass, regtype, …): every integer type converts to them implicitly
// and they convert back to oid implicitly, to int4/int8 by assignment; text and varchar convert
// to regclass implicitly (nextval('t_seq')); a few aliases convert to their sibling.
const REG_CASTS = [...REG_TYPE_OIDS].flatMap((r) => [`20:${r}:i`, `21:${r}:i`, `23:${r}:i`, `26:${r}:i`, `${r}:20:a`, `${r}:23:a`, `${r}:26:i`]);
const REG_EXTRA_CASTS = ["25:2205:i", "1043:2205:i", "24:2202:i", "2202:24:i", "2203:2204:i", "2204:2203:i"];

const CAST_CONTEXT = new Map<string, CastContext>();
for (const entry of [...PG_CAST.split(/\s+/), ...REG_CASTS, ...REG_EXTRA_CASTS]) {
  if (entry === "") continue;
  const [s, t, c] = entry.split(":");
  CAST_CONTEXT.set(`${s}:${t}`, c === "i" ? "implicit" : c === "a" ? "assignment" : "explicit");
}

function isStringCategory(t: SqlType): boolean {
  return t.elem === undefined && typeCategory(t) === "S";
}

/**
 * The weakest context in which a value of `from` converts to `to`, or null when no cast exists.
 * Same type (any typmod) is implicit; unknown (an untyped literal) converts to anything implicitly.
 */
export function castContext(from: SqlType, to: SqlType): CastContext | null {
  if (from.oid === to.oid) return "implicit";
  if (from.oid === Oid.unknown) return "implicit";
  if (to.oid === Oid.unknown) return null;
  if (from.elem !== undefined && to.elem !== undefined) return castContext(from.elem, to.elem);
  if (from.elem === undefined && to.elem === undefined) {
    const c = CAST_CONTEXT.get(`${from.oid}:${to.oid}`);
    if (c !== undefined) return c;
  }
  // Automatic I/O conversion casts (Postgres: "any type to a string type is an assignment cast,
  // a string type to any type is explicit").
  if (to.oid === Oid.record || from.oid === Oid.record || to.oid === Oid.void || from.oid === Oid.void) return null;
  if (isStringCategory(to)) return "assignment";
  if (isStringCategory(from)) return "explicit";
  return null;
}

/** Whether `from` may be converted to `to` in `context` (or any weaker one). */
export function canCast(from: SqlType, to: SqlType, context: CastContext): boolean {
  const c = castContext(from, to);
  return c !== null && RANK[c] <= RANK[context];
}

export function canImplicitlyCast(from: SqlType, to: SqlType): boolean {
  return canCast(from, to, "implicit");
}

/**
 * Postgres's select_common_type: the type that CASE branches, UNION columns, COALESCE/GREATEST
 * arguments, IN lists, VALUES columns and ARRAY[] elements resolve to. Unknown literals take the
 * other inputs' type (text when all are unknown); inputs of different categories fail with 42804
 * "`<context>` types X and Y cannot be matched"; within a category, a type is replaced by one it
 * implicitly converts to (and not back), unless it is the category's preferred type. The typmod
 * is kept when every input has the same one.
 */
export function commonType(types: readonly SqlType[], context: string): SqlType {
  const known = types.filter((t) => t.oid !== Oid.unknown);
  if (known.length === 0) return Types.text;
  let best = known[0]!;
  for (const t of known.slice(1)) {
    if (t.oid === best.oid) continue;
    const bestCategory = typeCategory(best);
    if (typeCategory(t) !== bestCategory) throw mismatch(context, best, t);
    if (!isPreferredType(best) && canImplicitlyCast(best, t) && !canImplicitlyCast(t, best)) best = t;
  }
  for (const t of known) {
    if (!canImplicitlyCast(t, best)) throw mismatch(context, best, t);
  }
  const typmod = known.every((t) => t.oid === best.oid && t.typmod === known[0]!.typmod) ? known[0]!.typmod : -1;
  return withTypmod(best, typmod);
}

function mismatch(context: string, a: SqlType, b: SqlType): PgError {
  return new PgError("datatype_mismatch", `${context} types ${formatType(a)} and ${formatType(b)} cannot be matched`);
}
