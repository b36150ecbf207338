// COMMENT ON TABLE / VIEW / SEQUENCE / INDEX / COLUMN / SCHEMA: the comment is kept on the
// object's descriptor (pg_description and psql's \d+ read it back); IS NULL or '' removes it, as
// in Postgres. Built-in schemas are refused here, kinds of object Warren does not have by
// bind/ddl/comment.ts.
import { PgError } from "../../../../common/errors.ts";
import type { Descriptor } from "../../catalog/descriptors.ts";
import type { CommentCommand } from "../bind/ddl/comment.ts";
import type { DdlChange, DdlEnv } from "./ddl-create-table.ts";

function withComment<T extends { comment?: string }>(o: T, comment: string | null): T {
  const copy = { ...o };
  if (comment === null) delete copy.comment;
  else copy.comment = comment;
  return copy;
}

export function commentOn(env: DdlEnv, cmd: CommentCommand): DdlChange {
  const { names, comment } = cmd;
  const bump = <T extends Descriptor>(d: T): T => ({ ...d, version: d.version + 1 });
  const done = (d: Descriptor): DdlChange => ({ changed: [bump(d) as DdlChange["changed"][number]], removed: [], tag: "COMMENT" });
  switch (cmd.target) {
    case "table":
    case "view":
    case "sequence": {
      const rel = env.catalog.resolveRelation(names, env.searchPath);
      if (rel === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
      if (rel.kind !== cmd.target) throw new PgError("wrong_object_type", `"${rel.name}" is not a ${cmd.target}`);
      return done(withComment(rel, comment));
    }
    case "index": {
      const found = env.catalog.resolveIndex(names, env.searchPath);
      if (found === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
      const t = found.table;
      const primaryIndex = found.index.id === t.primaryIndex.id ? withComment(t.primaryIndex, comment) : t.primaryIndex;
      const indexes = t.indexes.map((ix) => (ix.id === found.index.id ? withComment(ix, comment) : ix));
      return done({ ...t, primaryIndex, indexes });
    }
    case "column": {
      if (names.length < 2) throw new PgError("syntax_error", "column name must be qualified");
      const col = names[names.length - 1]!;
      const rel = env.catalog.resolveRelation(names.slice(0, -1), env.searchPath);
      if (rel === undefined) throw new PgError("undefined_table", `relation "${names.slice(0, -1).join(".")}" does not exist`);
      if (rel.kind !== "table") throw new PgError("feature_not_supported", `comments on columns of a ${rel.kind} are not supported`);
      if (!rel.columns.some((c) => c.name === col && !c.hidden)) throw new PgError("undefined_column", `column "${col}" of relation "${rel.name}" does not exist`);
      return done({ ...rel, columns: rel.columns.map((c) => (c.name === col ? withComment(c, comment) : c)) });
    }
    case "schema": {
      const s = env.catalog.schema(names[0]!);
      if (s === undefined) throw new PgError("invalid_schema_name", `schema "${names[0]}" does not exist`);
      if (env.catalog.get(s.id) === undefined || !env.catalog.descriptors().some((d) => d.id === s.id)) {
        throw new PgError("feature_not_supported", `the comment of built-in schema "${s.name}" cannot be changed`);
      }
      return done(withComment(s, comment));
    }
  }
}
