// The table a `COPY table …` reads or writes, and the columns it moves, found through the session
// with ordinary SQL (the wire protocol has no catalog of its own): `SELECT * FROM t` prepared (bound,
// never run) for the columns and their types (and Postgres's errors for a missing relation or
// schema), and pg_class.relkind to refuse views, materialized views and sequences as Postgres does.
import { PgError } from "../../../common/errors.ts";
import type { CopyStatement } from "../sql/bind/copy-statement.ts";
import type { FieldDescription, SqlSession } from "../sql/result.ts";
import { checkColumnList } from "./copy-options.ts";

export interface CopyColumn {
  name: string;
  typeOid: number;
  typmod: number;
}

export interface CopyTarget {
  /** The relation as SQL: "schema"."table" (quoted). */
  sql: string;
  /** The relation's name as Postgres shows it in COPY's CONTEXT (unqualified). */
  relation: string;
  /** Its pg_class oid. */
  oid: number;
  /** Every column of the relation, in order. */
  tableColumns: CopyColumn[];
  /** The columns COPY moves, in order: the statement's column list, or all. */
  columns: CopyColumn[];
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function columnOf(f: FieldDescription): CopyColumn {
  return { name: f.name, typeOid: f.dataTypeID, typmod: f.dataTypeModifier };
}

async function schemaExists(session: SqlSession, schema: string): Promise<boolean> {
  const [r] = await session.execute(`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ${quoteLiteral(schema)}`);
  return (r?.rows.length ?? 0) > 0;
}

const KIND_NAMES: Record<string, string> = { v: "view", m: "materialized view", S: "sequence", f: "foreign table", p: "partitioned table" };

/** Resolves `COPY table [(columns)]` to its columns, with Postgres's errors in Postgres's order. */
export async function resolveCopyTable(session: SqlSession, copy: CopyStatement): Promise<CopyTarget> {
  const rel = copy.relation!;
  const sql = (rel.schema !== undefined ? quoteIdent(rel.schema) + "." : "") + quoteIdent(rel.name);
  const probe = async () => {
    const [all] = await session.parse(`SELECT * FROM ${sql}`);
    const fields = (await session.prepare(all!)).fields ?? [];
    const [kind] = await session.execute(`SELECT relkind, oid FROM pg_catalog.pg_class WHERE oid = ${quoteLiteral(sql)}::regclass`);
    const [generated] = await session.execute(`SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = ${quoteLiteral(sql)}::regclass AND attgenerated <> ''`);
    return { fields, kind, generated: new Set((generated?.rows ?? []).map((r) => r[0]!)) };
  };
  const { fields, kind, generated } = await probe()
    .catch(async (err: unknown) => {
      if (!(err instanceof PgError)) throw err;
      // COPY names a missing schema where a SELECT names the relation (Postgres's RangeVarGetRelid).
      if (err.code === "42P01" && rel.schema !== undefined && !(await schemaExists(session, rel.schema))) {
        throw new PgError("invalid_schema_name", `schema "${rel.schema}" does not exist`);
      }
      // A position would point into this probe, not the client's statement (Postgres gives none).
      throw err.with({ position: undefined });
    });
  const relkind = kind?.rows[0]?.[0] ?? "r";
  const oid = Number(kind?.rows[0]?.[1]);
  const what = KIND_NAMES[relkind];
  if (what !== undefined && relkind !== "p") {
    if (copy.direction === "to") {
      throw new PgError("wrong_object_type", `cannot copy from ${what} "${rel.name}"`, relkind === "S" || relkind === "f" ? {} : { hint: "Try the COPY (SELECT ...) TO variant." });
    }
    throw new PgError("wrong_object_type", `cannot copy to ${what} "${rel.name}"`, relkind === "v" ? { hint: "To enable copying to a view, provide an INSTEAD OF INSERT trigger." } : {});
  }
  const tableColumns = fields.map(columnOf);
  // Generated columns take no part in COPY (Postgres 15): left out of the default column list
  // (COPY FROM computes them), refused by name (42P10).
  let columns = tableColumns.filter((c) => !generated.has(c.name));
  if (copy.columns !== null) {
    checkColumnList(copy.columns, rel.name, tableColumns.map((c) => c.name), generated);
    columns = copy.columns.map((name) => tableColumns.find((c) => c.name === name)!);
  }
  return { sql, relation: rel.name, oid, tableColumns, columns };
}
