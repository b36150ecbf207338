// SQL-level prepared statements of a session: PREPARE name [(types)] AS statement, EXECUTE
// name [(values)], DEALLOCATE [PREPARE] {name | ALL} (pg_dump prepares its per-object queries,
// e.g. `PREPARE dumpFunc(pg_catalog.oid) AS …` then `EXECUTE dumpFunc('16401')`).
//
// The statement's tree is kept; each EXECUTE runs it with its values as the statement's
// parameters ($n, in text form, as the wire protocol passes them). A declared type wraps every
// `$n` in a cast to it (bind/session-statement.ts), so the parameter has that type wherever it is
// used, as in PostgreSQL. EXECUTE takes constants (what clients send); an expression argument is
// refused with 0A000.
import { PgError } from "../../../common/errors.ts";
import { sqlLimits } from "./limits.ts";
import type { StatementTree } from "./parse/ast.ts";
import type { ExpressionArgument } from "./bind/session-statement.ts";

export class SqlPreparedStatements {
  private readonly byName = new Map<string, { statement: StatementTree; paramCount: number }>();

  prepare(name: string, statement: StatementTree, paramCount: number): void {
    if (this.byName.has(name)) throw new PgError("duplicate_prepared_statement", `prepared statement "${name}" already exists`);
    if (this.byName.size >= sqlLimits.sqlPreparedStatementsMax) {
      throw new PgError("program_limit_exceeded", `a session may hold at most ${sqlLimits.sqlPreparedStatementsMax} prepared statements`, { hint: "DEALLOCATE the ones no longer needed" });
    }
    this.byName.set(name, { statement, paramCount });
  }

  /** The statement EXECUTE runs and its parameters. */
  execute(name: string, args: ReadonlyArray<string | null | ExpressionArgument>): { statement: StatementTree; params: Array<string | null> } {
    const p = this.byName.get(name);
    if (p === undefined) throw new PgError("invalid_sql_statement_name", `prepared statement "${name}" does not exist`);
    const params = args.map((a) => {
      if (a !== null && typeof a === "object") throw new PgError("feature_not_supported", "EXECUTE arguments must be constants");
      return a;
    });
    if (params.length !== p.paramCount) {
      throw new PgError("syntax_error", `wrong number of parameters for prepared statement "${name}"`, { detail: `Expected ${p.paramCount} parameters but got ${params.length}.` });
    }
    return { statement: p.statement, params };
  }

  /** DEALLOCATE name, or DEALLOCATE ALL (null). */
  deallocate(name: string | null): void {
    if (name === null) {
      this.byName.clear();
      return;
    }
    if (!this.byName.delete(name)) throw new PgError("invalid_sql_statement_name", `prepared statement "${name}" does not exist`);
  }

  clear(): void {
    this.byName.clear();
  }
}
