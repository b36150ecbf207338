// What the PL/pgSQL interpreter needs from the statement that calls it (statement.ts implements
// it): the statement's execution context, binders on the current catalog, and the statements the
// interpreter does not run itself (DDL and other utility statements inside a function).
import type { PgError } from "../../../../common/errors.ts";
import type { Catalog } from "../../catalog/catalog.ts";
import type { Binder } from "../bind/binder.ts";
import type { ExecContext } from "../exec/context.ts";
import type { StatementTree } from "../parse/ast.ts";
import type { StatementResult } from "../result.ts";

export interface PlHost {
  /** The calling statement's context: its transaction, budget, memory, session services. */
  readonly ctx: ExecContext;
  readonly searchPath: readonly string[];
  /** A binder on the catalog of this moment (a function's DDL changes it). */
  binder(): Binder;
  /** The transaction's catalog now, and a way back to an earlier one (an EXCEPTION block rolls DDL back too). */
  catalog(): Catalog;
  restoreCatalog(c: Catalog): void;
  /** Runs a statement other than SELECT / INSERT / UPDATE / DELETE (CREATE TABLE …) in the transaction. */
  runUtility(statement: StatementTree): Promise<StatementResult>;
  /** RAISE NOTICE / WARNING / INFO: a message for the client, sent with the statement's result. */
  notice(n: PgError, severity: "NOTICE" | "WARNING" | "INFO"): void;
}
