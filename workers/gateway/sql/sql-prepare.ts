// SQL-level prepared statements of a session: PREPARE name [(types)] AS statement, EXECUTE
// name [(values)], DEALLOCATE [PREPARE] {name | ALL} (pg_dump prepares its per-object queries,
// e.g. `PREPARE dumpFunc(pg_catalog.oid) AS …` then `EXECUTE dumpFunc('16401')`).
//
// The statement's tree is kept; each EXECUTE runs it with its values as the statement's
// parameters ($n, in text form, as the wire protocol passes them). A declared type wraps every
// `$n` in a cast to it, so the parameter has that type wherever it is used, as in PostgreSQL.
// EXECUTE takes constants (what clients send); an expression argument is refused with 0A000.
import { PgError } from "../../../common/errors.ts";
import { sqlLimits } from "./limits.ts";
import { nodeKind, type PgNode } from "./parse/ast.ts";

/** `$n` → `CAST($n AS type_n)` for the declared types, in a copy of the tree. */
function castParams(n: unknown, types: readonly PgNode[]): unknown {
  if (Array.isArray(n)) return n.map((x) => castParams(x, types));
  if (n === null || typeof n !== "object") return n;
  const o = n as PgNode;
  const ref = o["ParamRef"] as PgNode | undefined;
  if (ref !== undefined) {
    const t = types[((ref["number"] as number | undefined) ?? 0) - 1];
    return t === undefined ? o : { TypeCast: { arg: o, typeName: t["TypeName"] ?? t, location: -1 } };
  }
  const out: PgNode = {};
  for (const k of Object.keys(o)) out[k] = castParams(o[k], types);
  return out;
}

/** The text form of one EXECUTE argument: a constant, optionally cast. */
function constantText(n: PgNode): string | null {
  const [kind, body] = nodeKind(n);
  if (kind === "TypeCast") return constantText(body["arg"] as PgNode);
  if (kind !== "A_Const") throw new PgError("feature_not_supported", "EXECUTE arguments must be constants");
  if (body["isnull"] === true) return null;
  for (const [k, field] of [["sval", "sval"], ["ival", "ival"], ["fval", "fval"], ["boolval", "boolval"], ["bsval", "bsval"]] as const) {
    const v = body[k] as PgNode | undefined;
    if (v !== undefined) return k === "boolval" ? (v[field] === true ? "true" : "false") : String(v[field] ?? 0);
  }
  return null;
}

export class SqlPreparedStatements {
  private readonly byName = new Map<string, { node: PgNode; paramCount: number }>();

  prepare(body: PgNode): void {
    const name = body["name"] as string;
    if (this.byName.has(name)) throw new PgError("duplicate_prepared_statement", `prepared statement "${name}" already exists`);
    if (this.byName.size >= sqlLimits.sqlPreparedStatementsMax) {
      throw new PgError("program_limit_exceeded", `a session may hold at most ${sqlLimits.sqlPreparedStatementsMax} prepared statements`, { hint: "DEALLOCATE the ones no longer needed" });
    }
    const types = (body["argtypes"] as PgNode[] | undefined) ?? [];
    this.byName.set(name, { node: castParams(body["query"], types) as PgNode, paramCount: types.length });
  }

  /** The statement EXECUTE runs and its parameters. */
  execute(body: PgNode): { node: PgNode; params: Array<string | null> } {
    const name = body["name"] as string;
    const p = this.byName.get(name);
    if (p === undefined) throw new PgError("invalid_sql_statement_name", `prepared statement "${name}" does not exist`);
    const params = ((body["params"] as PgNode[] | undefined) ?? []).map(constantText);
    if (params.length !== p.paramCount) {
      throw new PgError("syntax_error", `wrong number of parameters for prepared statement "${name}"`, { detail: `Expected ${p.paramCount} parameters but got ${params.length}.` });
    }
    return { node: p.node, params };
  }

  deallocate(body: PgNode): void {
    if (body["isall"] === true) {
      this.byName.clear();
      return;
    }
    const name = body["name"] as string;
    if (!this.byName.delete(name)) throw new PgError("invalid_sql_statement_name", `prepared statement "${name}" does not exist`);
  }

  clear(): void {
    this.byName.clear();
  }
}
