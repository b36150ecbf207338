// A stored LANGUAGE plpgsql function as the interpreter's tree: its CREATE FUNCTION text is given to
// PostgreSQL's PL/pgSQL grammar (parse/parser.ts) and converted (parse/plpgsql-tree.ts), once per
// descriptor.
import type { FunctionDesc } from "../../catalog/descriptors.ts";
import { parsePlpgsql } from "../parse/parser.ts";
import { plpgsqlFunction, type PlFunction } from "../parse/plpgsql-tree.ts";
import { formatType, Oid, typeOfStored } from "../types/type.ts";

/** pg_type.oid of the `trigger` pseudo-type. */
export const TRIGGER_TYPE_OID = Oid.trigger;

function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

/** A dollar quote the body does not contain. */
function dollarQuote(body: string): string {
  let tag = "$pl$";
  for (let i = 0; body.includes(tag); i++) tag = `$pl${i}$`;
  return tag;
}

/**
 * The CREATE FUNCTION text the PL/pgSQL grammar reads: it needs the parameter names (they become
 * variables), whether the function is a trigger (NEW, OLD, TG_*), and whether it returns void.
 * Type names are only labels to it; the interpreter resolves types itself.
 */
export function plpgsqlSource(name: string, argNames: readonly string[], argTypes: readonly string[], returnType: string, body: string): string {
  const params = argTypes.map((t, i) => (argNames[i] ? `${quoteIdent(argNames[i]!)} ${t}` : t)).join(", ");
  const q = dollarQuote(body);
  return `CREATE FUNCTION ${quoteIdent(name)}(${params}) RETURNS ${returnType} LANGUAGE plpgsql AS ${q}${body}${q}`;
}

function typeText(oid: number, t: FunctionDesc["returnType"]): string {
  if (oid === TRIGGER_TYPE_OID) return "trigger";
  return formatType(typeOfStored(t));
}

const cache = new WeakMap<FunctionDesc, Promise<PlFunction>>();

/** The function's tree (parsed once per descriptor object; a new version is a new object). */
export function plpgsqlOf(fn: FunctionDesc): Promise<PlFunction> {
  let p = cache.get(fn);
  if (p === undefined) {
    const text = plpgsqlSource(fn.name, fn.argNames, fn.argTypes.map((t) => typeText(t.oid, t)), typeText(fn.returnType.oid, fn.returnType), fn.body);
    p = parsePlpgsql(text).then(plpgsqlFunction);
    p.catch(() => cache.delete(fn));
    cache.set(fn, p);
  }
  return p;
}
