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
import { bindTypeName } from "../bind/expr.ts";
import { nodeKind, stringList, type PgNode } from "../parse/ast.ts";
import { parseSql } from "../parse/parser.ts";
import { formatType, Oid, storedTypeOf, typeOfStored } from "../types/type.ts";
import { bump } from "./ddl-common.ts";
import type { DdlChange } from "./ddl-create-table.ts";
import type { DdlExecEnv } from "./ddl.ts";
import { sqlLimits } from "../limits.ts";
import { storeExpr } from "../bind/stored-sql.ts";

/** A parameter or result type; `void` and `trigger` are pseudo-types only functions use. */
function functionType(env: DdlExecEnv, tn: PgNode): StoredType {
  const names = stringList(tn["names"] as PgNode[]);
  const last = names[names.length - 1];
  if (names.length <= 2 && (last === "void" || last === "trigger")) return { oid: last === "void" ? Oid.void : TRIGGER_OID, typmod: -1 };
  if (tn["setof"] === true) throw new PgError("feature_not_supported", "functions returning SETOF are not supported");
  return storedTypeOf(bindTypeName(tn, env)) as StoredType;
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

/**
 * The expression of a LANGUAGE sql body that is a single `SELECT expr` with nothing else, or
 * null (a body Postgres would run as a query; stored, refused when called).
 */
/** The inlinable expression as stored; one the catalog cannot store (0A000) is not inlined. */
function storedInlinable(e: PgNode | null): string | null {
  if (e === null) return null;
  try {
    return storeExpr(e);
  } catch (err) {
    if (err instanceof PgError && err.condition === "feature_not_supported") return null;
    throw err;
  }
}

async function inlinableExpr(body: string): Promise<PgNode | null> {
  let stmts;
  try {
    stmts = await parseSql(body);
  } catch (err) {
    if (err instanceof PgError) throw new PgError(err.condition, err.message, { where: "SQL function body" });
    throw err;
  }
  if (stmts.length !== 1) return null;
  const [kind, sel] = nodeKind(stmts[0]!.stmt);
  if (kind !== "SelectStmt") return null;
  const others = Object.keys(sel).filter((k) => !["targetList", "limitOption", "op"].includes(k));
  const targets = (sel["targetList"] as PgNode[] | undefined) ?? [];
  if (others.length > 0 || targets.length !== 1 || sel["op"] !== "SETOP_NONE") return null;
  const val = ((targets[0]!["ResTarget"] as PgNode)["val"] as PgNode | undefined) ?? null;
  // A subquery would see the arguments as outer references; such bodies are not inlined.
  return val !== null && JSON.stringify(val).includes('"SubLink"') ? null : val;
}

export async function createFunction(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const names = stringList(stmt["funcname"] as PgNode[]);
  const name = names[names.length - 1]!;
  const schema = env.catalog.creationSchema(names, env.searchPath);
  if (stmt["is_procedure"] === true) throw new PgError("feature_not_supported", "CREATE PROCEDURE is not supported");
  const argNames: string[] = [];
  const argTypes: StoredType[] = [];
  for (const pn of (stmt["parameters"] as PgNode[] | undefined) ?? []) {
    const p = pn["FunctionParameter"] as PgNode;
    const mode = p["mode"] as string;
    if (mode !== "FUNC_PARAM_DEFAULT" && mode !== "FUNC_PARAM_IN") throw new PgError("feature_not_supported", "only IN parameters are supported (no OUT, INOUT, VARIADIC or RETURNS TABLE)");
    if (p["defexpr"] !== undefined) throw new PgError("feature_not_supported", "parameter defaults are not supported");
    argNames.push((p["name"] as string | undefined) ?? "");
    argTypes.push(functionType(env, p["argType"] as PgNode));
  }
  if (argTypes.length > sqlLimits.functionArgsMax) throw new PgError("too_many_arguments", `functions cannot have more than ${sqlLimits.functionArgsMax} arguments`);
  const rt = stmt["returnType"] as PgNode | undefined;
  if (rt === undefined) throw new PgError("invalid_function_definition", "function result type must be specified");
  const returnType = functionType(env, rt);
  let language: string | undefined;
  let body: string | undefined;
  let volatility: FunctionDesc["volatility"] = "v";
  let strict = false;
  for (const o of (stmt["options"] as PgNode[] | undefined) ?? []) {
    const d = o["DefElem"] as PgNode;
    const arg = d["arg"] as PgNode | undefined;
    switch (d["defname"]) {
      case "language":
        language = ((arg?.["String"] as PgNode | undefined)?.["sval"] as string | undefined)?.toLowerCase();
        break;
      case "as": {
        const items = stringList(((arg?.["List"] as PgNode | undefined)?.["items"] as PgNode[] | undefined) ?? []);
        if (items.length !== 1) throw new PgError("invalid_function_definition", "only one AS item needed for language");
        body = items[0]!;
        break;
      }
      case "volatility": {
        const v = (arg?.["String"] as PgNode | undefined)?.["sval"] as string | undefined;
        volatility = v === "immutable" ? "i" : v === "stable" ? "s" : "v";
        break;
      }
      case "strict":
        strict = (arg?.["Boolean"] as PgNode | undefined)?.["boolval"] === true;
        break;
      default:
        break; // SECURITY, COST, PARALLEL, LEAKPROOF, SET: accepted, not used
    }
  }
  if (stmt["sql_body"] !== undefined) throw new PgError("feature_not_supported", "SQL-standard function bodies (BEGIN ATOMIC / RETURN) are not supported; use AS '…'");
  if (language === undefined) throw new PgError("invalid_function_definition", "no language specified");
  if (language !== "sql" && language !== "plpgsql") throw new PgError("undefined_object", `language "${language}" does not exist`);
  if (body === undefined) throw new PgError("invalid_function_definition", "no function body specified");
  if (body.length > sqlLimits.functionBodyCharsMax) throw new PgError("program_limit_exceeded", `a function body may be at most ${sqlLimits.functionBodyCharsMax} characters`);
  if (returnType.oid === TRIGGER_OID && language !== "plpgsql") throw new PgError("invalid_function_definition", "SQL functions cannot return type trigger");
  const sqlExpr = language === "sql" ? storedInlinable(await inlinableExpr(body)) : null;
  const existing = env.catalog.functionsIn(schema.id, name).find((f) => sameArgs(f.argTypes, argTypes));
  const fields = { argNames, argTypes, returnType, language, body, volatility, strict, sqlExpr } as const;
  if (existing !== undefined) {
    if (stmt["replace"] !== true) throw new PgError("duplicate_function", `function "${name}" already exists with same argument types`);
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

export async function dropFunctions(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const missingOk = stmt["missing_ok"] === true;
  const removed: number[] = [];
  for (const o of stmt["objects"] as PgNode[]) {
    const ow = o["ObjectWithArgs"] as PgNode;
    const names = stringList(ow["objname"] as PgNode[]);
    const name = names[names.length - 1]!;
    const overloads = env.catalog.resolveFunctions(names, env.searchPath);
    let f: FunctionDesc | undefined;
    let shown = names.join(".");
    if (ow["args_unspecified"] === true) {
      if (overloads.length > 1) throw new PgError("ambiguous_function", `function name "${shown}" is not unique`, { hint: "Specify the argument list to select the function unambiguously." });
      f = overloads[0];
    } else {
      const args = ((ow["objargs"] as PgNode[] | undefined) ?? []).map((t) => functionType(env, (t["TypeName"] as PgNode | undefined) ?? t));
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
    if (stmt["behavior"] !== "DROP_CASCADE") {
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
