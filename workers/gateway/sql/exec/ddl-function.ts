// User-defined functions: CREATE [OR REPLACE] FUNCTION, DROP FUNCTION.
//
// A function is a FunctionDesc (catalog/descriptors.ts) keyed by schema, name and argument types.
// LANGUAGE sql functions whose body is one `SELECT expr` (no FROM, WHERE, …) are parsed here and
// inlined where they are called (bind/expr.ts), as Postgres inlines such functions; other SQL
// bodies are stored but refused when called. LANGUAGE plpgsql bodies are stored (pg_proc.prosrc)
// and run by the interpreter in ../plpgsql/ (checked by its grammar when created, in statement.ts).
import { PgError } from "../../../../common/errors.ts";
import type { FunctionDesc, StoredType, TableDesc } from "../../catalog/descriptors.ts";
import { triggersUsing } from "./ddl-trigger.ts";
import { bindTypeRef } from "../bind/expr.ts";
import { type CreateFunctionCommand, type DropFunctionCommand, type FunctionTypeRef, storedInlinableBody } from "../bind/ddl/function.ts";
import { formatType, Oid, storedTypeOf, typeOfStored } from "../types/type.ts";
import { bump } from "./ddl-common.ts";
import type { DdlChange } from "./ddl-create-table.ts";
import type { DdlExecEnv } from "./ddl.ts";
import { sqlLimits } from "../limits.ts";

/** A parameter or result type; `void` and `trigger` are pseudo-types only functions use. */
function functionType(env: DdlExecEnv, tn: FunctionTypeRef): StoredType {
  const names = tn.type.names;
  const last = names[names.length - 1];
  if (names.length <= 2 && (last === "void" || last === "trigger")) return { oid: last === "void" ? Oid.void : TRIGGER_OID, typmod: -1 };
  if (tn.setof) throw new PgError("feature_not_supported", "functions returning SETOF are not supported");
  return storedTypeOf(bindTypeRef(tn.type, env)) as StoredType;
}

/** pg_type.oid of the `trigger` pseudo-type. */
export const TRIGGER_OID = Oid.trigger;

/** Text of a stored type for messages: integer, text, trigger, … */
export function storedTypeText(t: StoredType): string {
  if (t.oid === TRIGGER_OID) return "trigger";
  return formatType(typeOfStored(t));
}

function sameArgs(a: readonly StoredType[], b: readonly StoredType[]): boolean {
  return a.length === b.length && a.every((t, i) => t.oid === b[i]!.oid && t.domain?.typeId === b[i]!.domain?.typeId);
}

function signature(name: string, args: readonly StoredType[]): string {
  return `${name}(${args.map(storedTypeText).join(", ")})`;
}

export async function createFunction(env: DdlExecEnv, stmt: CreateFunctionCommand): Promise<DdlChange> {
  const names = stmt.names;
  const name = names[names.length - 1]!;
  const schema = env.catalog.creationSchema(names, env.searchPath);
  if (stmt.procedure) throw new PgError("feature_not_supported", "CREATE PROCEDURE is not supported");
  const argNames: string[] = [];
  const argTypes: StoredType[] = [];
  for (const p of stmt.parameters) {
    if (!p.inMode) throw new PgError("feature_not_supported", "only IN parameters are supported (no OUT, INOUT, VARIADIC or RETURNS TABLE)");
    if (p.hasDefault) throw new PgError("feature_not_supported", "parameter defaults are not supported");
    argNames.push(p.name);
    argTypes.push(functionType(env, p.type));
  }
  if (argTypes.length > sqlLimits.functionArgsMax) throw new PgError("too_many_arguments", `functions cannot have more than ${sqlLimits.functionArgsMax} arguments`);
  const rt = stmt.returnType;
  if (rt === null) throw new PgError("invalid_function_definition", "function result type must be specified");
  const returnType = functionType(env, rt);
  let language: string | undefined;
  let body: string | undefined;
  let volatility: FunctionDesc["volatility"] = "v";
  let strict = false;
  for (const o of stmt.options) {
    switch (o.kind) {
      case "language":
        language = o.language;
        break;
      case "as":
        if (o.items.length !== 1) throw new PgError("invalid_function_definition", "only one AS item needed for language");
        body = o.items[0]!;
        break;
      case "volatility":
        volatility = o.volatility;
        break;
      case "strict":
        strict = o.strict;
        break;
      case "other":
        break;
    }
  }
  if (stmt.standardBody) throw new PgError("feature_not_supported", "SQL-standard function bodies (BEGIN ATOMIC / RETURN) are not supported; use AS '…'");
  if (language === undefined) throw new PgError("invalid_function_definition", "no language specified");
  if (language !== "sql" && language !== "plpgsql") throw new PgError("undefined_object", `language "${language}" does not exist`);
  if (body === undefined) throw new PgError("invalid_function_definition", "no function body specified");
  if (body.length > sqlLimits.functionBodyCharsMax) throw new PgError("program_limit_exceeded", `a function body may be at most ${sqlLimits.functionBodyCharsMax} characters`);
  if (returnType.oid === TRIGGER_OID && language !== "plpgsql") throw new PgError("invalid_function_definition", "SQL functions cannot return type trigger");
  const sqlExpr = language === "sql" ? await storedInlinableBody(body) : null;
  const existing = env.catalog.functionsIn(schema.id, name).find((f) => sameArgs(f.argTypes, argTypes));
  const fields = { argNames, argTypes, returnType, language, body, volatility, strict, sqlExpr } as const;
  if (existing !== undefined) {
    if (!stmt.replace) throw new PgError("duplicate_function", `function "${name}" already exists with same argument types`);
    if (existing.returnType.oid !== returnType.oid) {
      throw new PgError("invalid_function_definition", "cannot change return type of existing function", { hint: `Use DROP FUNCTION ${signature(name, argTypes)} first.` });
    }
    const next: FunctionDesc = { ...bump(existing), ...fields, argNames: [...argNames], argTypes: [...argTypes] };
    return { changed: [next], removed: [], tag: "CREATE FUNCTION" };
  }
  const id = await env.allocateId();
  const d: FunctionDesc = { kind: "function", id, name, schemaId: schema.id, version: 1, ...fields, argNames: [...argNames], argTypes: [...argTypes] };
  return { changed: [d], removed: [], tag: "CREATE FUNCTION" };
}

export async function dropFunctions(env: DdlExecEnv, stmt: DropFunctionCommand): Promise<DdlChange> {
  const missingOk = stmt.missingOk;
  const removed: number[] = [];
  for (const o of stmt.functions) {
    const names = o.names;
    const name = names[names.length - 1]!;
    const overloads = env.catalog.resolveFunctions(names, env.searchPath);
    let f: FunctionDesc | undefined;
    let shown = names.join(".");
    if (o.args === null) {
      if (overloads.length > 1) throw new PgError("ambiguous_function", `function name "${shown}" is not unique`, { hint: "Specify the argument list to select the function unambiguously." });
      f = overloads[0];
    } else {
      const args = o.args.map((t) => functionType(env, t));
      shown = signature(names.join("."), args);
      f = overloads.find((x) => sameArgs(x.argTypes, args));
    }
    if (f === undefined) {
      if (missingOk) continue;
      throw new PgError("undefined_function", `function ${shown} does not exist`);
    }
    void name;
    removed.push(f.id);
  }
  // Triggers run their function by id: dropping it would leave them pointing at nothing.
  const tables = env.catalog.descriptors().filter((d): d is TableDesc => d.kind === "table");
  const users = triggersUsing(tables, new Set(removed));
  const changed: TableDesc[] = [];
  if (users.length > 0) {
    const first = users[0]!;
    const fn = env.catalog.get(first.trigger.functionId) as FunctionDesc;
    if (!stmt.cascade) {
      throw new PgError("dependent_objects_still_exist", `cannot drop function ${signature(fn.name, fn.argTypes)} because other objects depend on it`, {
        detail: users.map((u) => `trigger ${u.trigger.name} on table ${u.table.name} depends on function ${signature(fn.name, fn.argTypes)}`).join("\n"),
        hint: "Use DROP ... CASCADE to drop the dependent objects too.",
      });
    }
    for (const u of users) {
      const at = changed.findIndex((t) => t.id === u.table.id);
      const base = at >= 0 ? changed[at]! : bump(u.table);
      const next = { ...base, triggers: (base.triggers ?? []).filter((t) => t.id !== u.trigger.id) };
      if (at >= 0) changed[at] = next;
      else changed.push(next);
    }
  }
  return { changed, removed, tag: "DROP FUNCTION" };
}
