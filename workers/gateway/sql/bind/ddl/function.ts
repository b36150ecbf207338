// CREATE [OR REPLACE] FUNCTION and DROP FUNCTION, bound: names and type names as written, the
// parameters, the options in the order written, and (for LANGUAGE sql) the body's inlinable
// expression as stored SQL text. exec/ddl-function.ts resolves the types and checks the rest in
// PostgreSQL's order.
import { PgError } from "../../../../../common/errors.ts";
import { nodeKind, stringList, type PgNode } from "../../parse/ast.ts";
import { parseSql } from "../../parse/parser.ts";
import { storeExpr } from "../stored-sql.ts";
import { type TypeRef, typeRefOf } from "../type-ref.ts";

/** A parameter's or the result's type name, and whether SETOF was written. */
export interface FunctionTypeRef {
  readonly type: TypeRef;
  readonly setof: boolean;
}

export interface FunctionParameter {
  /** IN (or no mode); OUT, INOUT, VARIADIC and TABLE columns are refused. */
  readonly inMode: boolean;
  readonly hasDefault: boolean;
  /** "" for an unnamed parameter. */
  readonly name: string;
  readonly type: FunctionTypeRef;
}

export type FunctionOption =
  | { readonly kind: "language"; readonly language: string | undefined }
  /** AS 'body' (one item) or AS 'obj', 'link' (two). */
  | { readonly kind: "as"; readonly items: readonly string[] }
  | { readonly kind: "volatility"; readonly volatility: "i" | "s" | "v" }
  | { readonly kind: "strict"; readonly strict: boolean }
  /** SECURITY, COST, PARALLEL, LEAKPROOF, SET: accepted, not used. */
  | { readonly kind: "other" };

export interface CreateFunctionCommand {
  readonly kind: "create-function";
  readonly names: readonly string[];
  readonly replace: boolean;
  readonly procedure: boolean;
  readonly parameters: readonly FunctionParameter[];
  /** null: none written (42P13). */
  readonly returnType: FunctionTypeRef | null;
  readonly options: readonly FunctionOption[];
  /** BEGIN ATOMIC / RETURN (refused). */
  readonly standardBody: boolean;
}

export interface DropFunctionCommand {
  readonly kind: "drop-function";
  readonly missingOk: boolean;
  readonly cascade: boolean;
  /** Each function's name, and its argument types (null: none given, the name must be unique). */
  readonly functions: ReadonlyArray<{ readonly names: readonly string[]; readonly args: readonly FunctionTypeRef[] | null }>;
}

function functionTypeRef(tn: PgNode): FunctionTypeRef {
  return { type: typeRefOf(tn), setof: tn["setof"] === true };
}

function option(d: PgNode): FunctionOption {
  const arg = d["arg"] as PgNode | undefined;
  switch (d["defname"]) {
    case "language":
      return { kind: "language", language: ((arg?.["String"] as PgNode | undefined)?.["sval"] as string | undefined)?.toLowerCase() };
    case "as":
      return { kind: "as", items: stringList(((arg?.["List"] as PgNode | undefined)?.["items"] as PgNode[] | undefined) ?? []) };
    case "volatility": {
      const v = (arg?.["String"] as PgNode | undefined)?.["sval"] as string | undefined;
      return { kind: "volatility", volatility: v === "immutable" ? "i" : v === "stable" ? "s" : "v" };
    }
    case "strict":
      return { kind: "strict", strict: (arg?.["Boolean"] as PgNode | undefined)?.["boolval"] === true };
    default:
      return { kind: "other" };
  }
}

export function bindCreateFunction(stmt: PgNode): CreateFunctionCommand {
  const rt = stmt["returnType"] as PgNode | undefined;
  return {
    kind: "create-function",
    names: stringList(stmt["funcname"] as PgNode[]),
    replace: stmt["replace"] === true,
    procedure: stmt["is_procedure"] === true,
    parameters: ((stmt["parameters"] as PgNode[] | undefined) ?? []).map((pn) => {
      const p = pn["FunctionParameter"] as PgNode;
      const mode = p["mode"] as string;
      return { inMode: mode === "FUNC_PARAM_DEFAULT" || mode === "FUNC_PARAM_IN", hasDefault: p["defexpr"] !== undefined, name: (p["name"] as string | undefined) ?? "", type: functionTypeRef(p["argType"] as PgNode) };
    }),
    returnType: rt === undefined ? null : functionTypeRef(rt),
    options: ((stmt["options"] as PgNode[] | undefined) ?? []).map((o) => option(o["DefElem"] as PgNode)),
    standardBody: stmt["sql_body"] !== undefined,
  };
}

export function bindDropFunction(stmt: PgNode): DropFunctionCommand {
  return {
    kind: "drop-function",
    missingOk: stmt["missing_ok"] === true,
    cascade: stmt["behavior"] === "DROP_CASCADE",
    functions: (stmt["objects"] as PgNode[]).map((o) => {
      const ow = o["ObjectWithArgs"] as PgNode;
      const args = ow["args_unspecified"] === true ? null : ((ow["objargs"] as PgNode[] | undefined) ?? []).map((t) => functionTypeRef((t["TypeName"] as PgNode | undefined) ?? t));
      return { names: stringList(ow["objname"] as PgNode[]), args };
    }),
  };
}

/**
 * The expression of a LANGUAGE sql body that is a single `SELECT expr` with nothing else, or
 * null (a body Postgres would run as a query; stored, refused when called).
 */
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

/**
 * A LANGUAGE sql body's inlinable expression as stored text (42601 for a body that does not
 * parse); null when there is none, or when the catalog cannot store it (0A000: not inlined).
 */
export async function storedInlinableBody(body: string): Promise<string | null> {
  const e = await inlinableExpr(body);
  if (e === null) return null;
  try {
    return storeExpr(e);
  } catch (err) {
    if (err instanceof PgError && err.condition === "feature_not_supported") return null;
    throw err;
  }
}
