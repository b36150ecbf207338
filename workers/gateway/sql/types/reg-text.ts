// Text I/O of the OID alias types (regclass, regtype, regnamespace, regrole, regproc,
// regprocedure, regoper, regoperator, regconfig). Underneath each is an oid; its text form is the
// name of the object the OID points at, so input and output need the catalog: a `RegCatalog`
// supplied through the evaluation context (the statement's catalog snapshot). Without one (tests,
// values formatted outside a statement) only the catalog-free forms work: numbers, '-', and
// regtype, whose names are the engine's own fixed set of types.
//
// As in Postgres: '-' and 0 are InvalidOid in both directions, an all-digits string is taken as
// the OID itself, and an OID that names nothing prints as its number.

import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "./datum.ts";
import { parseOid } from "./scalar-text.ts";
import { Oid, formatType, isKnownTypeOid, typeFromOid, typeFromName } from "./type.ts";

/** What reg* text I/O asks of the catalog. */
export interface RegCatalog {
  /** The OID `name` denotes as a value of reg type `typeOid`; throws Postgres's error when none. */
  lookup(typeOid: number, name: string): number;
  /** The text an OID of reg type `typeOid` prints as; null when it names nothing (print the number). */
  nameOf(typeOid: number, oid: number): string | null;
}

/** The word Postgres uses for a reg type's object kind in "… does not exist" errors. */
export function regObjectKind(typeOid: number): string {
  switch (typeOid) {
    case Oid.regclass: return "relation";
    case Oid.regtype: return "type";
    case Oid.regnamespace: return "schema";
    case Oid.regrole: return "role";
    case Oid.regproc:
    case Oid.regprocedure: return "function";
    case Oid.regoper:
    case Oid.regoperator: return "operator";
    case Oid.regconfig: return "text search configuration";
    default: return "object";
  }
}

/** The condition Postgres raises when a reg* input names nothing. */
export function regUndefined(typeOid: number, name: string): PgError {
  switch (typeOid) {
    case Oid.regclass: return new PgError("undefined_table", `relation "${name}" does not exist`);
    case Oid.regnamespace: return new PgError("invalid_schema_name", `schema "${name}" does not exist`);
    case Oid.regproc:
    case Oid.regprocedure: return new PgError("undefined_function", `function "${name}" does not exist`);
    case Oid.regoper:
    case Oid.regoperator: return new PgError("undefined_function", `operator does not exist: ${name}`);
    default: return new PgError("undefined_object", `${regObjectKind(typeOid)} "${name}" does not exist`);
  }
}

/** regtype's input without a catalog: the engine's types are fixed, so names resolve statically. */
function lookupType(name: string): number {
  const m = /^(.*?)(\s*\[\])?$/.exec(name.trim())!;
  // Quoted, "char" is the one-byte internal type; unquoted, char is character(1).
  if (m[1]!.replace(/^pg_catalog\./i, "") === '"char"') return m[2] !== undefined ? 1002 : Oid.char;
  try {
    return typeFromName(m[1]!.replace(/^pg_catalog\./i, "").replace(/^"(.*)"$/, "$1"), [], m[2] !== undefined ? 1 : 0).oid;
  } catch {
    throw regUndefined(Oid.regtype, name);
  }
}

export function parseReg(text: string, typeOid: number, catalog: RegCatalog | undefined): Datum {
  const s = text.trim();
  if (s === "-") return 0;
  if (/^\d+$/.test(s)) return parseOid(s);
  if (typeOid === Oid.regtype) {
    // Built-in types resolve statically; user-defined ones (enums) through the catalog.
    try {
      return lookupType(s);
    } catch (err) {
      if (catalog === undefined) throw err;
      return catalog.lookup(typeOid, s);
    }
  }
  if (catalog === undefined) throw new PgError("feature_not_supported", `${regObjectKind(typeOid)} names cannot be resolved here; use the OID`);
  return catalog.lookup(typeOid, s);
}

export function formatReg(oid: number, typeOid: number, catalog: RegCatalog | undefined): string {
  if (oid === 0) return "-";
  if (typeOid === Oid.regtype) {
    // regtype prints a type without a modifier (PostgreSQL's format_type_be): bpchar is
    // "character" there, where format_type(1042, -1) and a column without a length say "bpchar".
    if (oid === Oid.bpchar) return "character";
    return isKnownTypeOid(oid) ? formatType(typeFromOid(oid)) : (catalog?.nameOf(typeOid, oid) ?? String(oid));
  }
  return catalog?.nameOf(typeOid, oid) ?? String(oid);
}
