// Small helpers the schema-change modules share: name lookups and descriptor version bumps.
import { PgError } from "../../../../common/errors.ts";
import { type Descriptor, isTempId, type SequenceDesc, type TableDesc } from "../../catalog/descriptors.ts";
import type { DdlEnv } from "./ddl-create-table.ts";

/** The descriptor with its version raised by one (every change does this). */
export function bump<T extends Descriptor>(d: T): T {
  return { ...d, version: d.version + 1 };
}

/** A table by [schema.]name: 42P01 when absent (null with missingOk), 42809 when not a table. */
export function tableByName(env: DdlEnv, names: readonly string[], missingOk: boolean): TableDesc | null {
  const d = env.catalog.resolveRelation(names, env.searchPath);
  if (d === undefined) {
    if (missingOk) return null;
    throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
  }
  if (d.kind !== "table") throw new PgError("wrong_object_type", `"${d.name}" is not a table`);
  return d;
}

/**
 * A new data id for a table or sequence whose data moves to a fresh span (TRUNCATE, ADD PRIMARY
 * KEY): a temporary object's comes from the session's temporary ids, so its data stays in session
 * memory (kv/local-range.ts serves only that id range).
 */
export async function newDataId(env: DdlEnv, d: TableDesc | SequenceDesc): Promise<number> {
  return isTempId(d.id) ? env.temp.allocateId() : env.allocateId();
}
