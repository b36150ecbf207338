// The text pg_get_functiondef and pg_get_function_arguments/_result print for a user-defined
// function (CREATE FUNCTION), in PostgreSQL 15's layout.
import type { Catalog } from "../../catalog/catalog.ts";
import type { FunctionDesc, StoredType } from "../../catalog/descriptors.ts";
import { descIdOfOid } from "../../catalog/oids.ts";
import { quoteIdent } from "../functions/string-functions.ts";
import { formatType, Oid, typeOfStored } from "../types/type.ts";

/** pg_type.oid of the `trigger` pseudo-type. */
const TRIGGER_OID = 2279;

/** The function whose pg_proc.oid is `oid`, or undefined. */
export function functionByOid(catalog: Catalog, oid: number): FunctionDesc | undefined {
  const id = descIdOfOid(oid);
  const d = id === null ? undefined : catalog.get(id);
  return d?.kind === "function" ? d : undefined;
}

function typeText(t: StoredType): string {
  if (t.oid === TRIGGER_OID) return "trigger";
  if (t.oid === Oid.void) return "void";
  if (t.domain !== undefined) return t.domain.schema === "public" ? quoteIdent(t.domain.name) : `${quoteIdent(t.domain.schema)}.${quoteIdent(t.domain.name)}`;
  return formatType(typeOfStored(t));
}

/** pg_get_function_arguments: "a integer, b integer" (unnamed parameters: the type alone). */
export function functionArguments(f: FunctionDesc): string {
  return f.argTypes.map((t, i) => (f.argNames[i] ? `${quoteIdent(f.argNames[i]!)} ${typeText(t)}` : typeText(t))).join(", ");
}

export function functionResult(f: FunctionDesc): string {
  return typeText(f.returnType);
}

/** pg_get_functiondef: CREATE OR REPLACE FUNCTION schema.name(args) with one option per line. */
export function functionDef(catalog: Catalog, f: FunctionDesc): string {
  const schema = catalog.get(f.schemaId)?.name ?? "public";
  const attrs = [f.volatility === "i" ? "IMMUTABLE" : f.volatility === "s" ? "STABLE" : "", f.strict ? "STRICT" : ""].filter((s) => s !== "").join(" ");
  let tag = "function";
  for (let i = 1; f.body.includes(`$${tag}$`); i++) tag = `function${i}`;
  return `CREATE OR REPLACE FUNCTION ${quoteIdent(schema)}.${quoteIdent(f.name)}(${functionArguments(f)})\n RETURNS ${functionResult(f)}\n LANGUAGE ${f.language}\n${attrs === "" ? "" : ` ${attrs}\n`}AS $${tag}$${f.body}$${tag}$\n`;
}
