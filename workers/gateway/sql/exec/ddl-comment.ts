// COMMENT ON TABLE / VIEW / SEQUENCE / INDEX / COLUMN / SCHEMA: the comment is kept on the
// object's descriptor (pg_description and psql's \d+ read it back); IS NULL or '' removes it, as
// in Postgres. Built-in schemas and kinds of object Warren does not have are refused.
import { PgError } from "../../../../common/errors.ts";
import type { Descriptor } from "../../catalog/descriptors.ts";
import { stringList, type PgNode } from "../parse/ast.ts";
import type { DdlChange, DdlEnv } from "./ddl-create-table.ts";

function withComment<T extends { comment?: string }>(o: T, comment: string | null): T {
  const copy = { ...o };
  if (comment === null) delete copy.comment;
  else copy.comment = comment;
  return copy;
}

const KIND_WORD: Record<string, "table" | "view" | "sequence"> = { OBJECT_TABLE: "table", OBJECT_VIEW: "view", OBJECT_SEQUENCE: "sequence" };

export function commentOn(env: DdlEnv, stmt: PgNode): DdlChange {
  const objtype = stmt["objtype"] as string;
  const raw = stmt["comment"] as string | undefined;
  const comment = raw === undefined || raw === "" ? null : raw;
  const object = stmt["object"] as PgNode;
  const names = object["List"] !== undefined ? stringList((object["List"] as PgNode)["items"] as PgNode[]) : stringList([object]);
  const bump = <T extends Descriptor>(d: T): T => ({ ...d, version: d.version + 1 });
  const done = (d: Descriptor): DdlChange => ({ changed: [bump(d) as DdlChange["changed"][number]], removed: [], tag: "COMMENT" });
  switch (objtype) {
    case "OBJECT_TABLE":
    case "OBJECT_VIEW":
    case "OBJECT_SEQUENCE": {
      const rel = env.catalog.resolveRelation(names, env.searchPath);
      if (rel === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
      if (rel.kind !== KIND_WORD[objtype]) throw new PgError("wrong_object_type", `"${rel.name}" is not a ${KIND_WORD[objtype]}`);
      return done(withComment(rel, comment));
    }
    case "OBJECT_INDEX": {
      const found = env.catalog.resolveIndex(names, env.searchPath);
      if (found === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
      const t = found.table;
      const primaryIndex = found.index.id === t.primaryIndex.id ? withComment(t.primaryIndex, comment) : t.primaryIndex;
      const indexes = t.indexes.map((ix) => (ix.id === found.index.id ? withComment(ix, comment) : ix));
      return done({ ...t, primaryIndex, indexes });
    }
    case "OBJECT_COLUMN": {
      if (names.length < 2) throw new PgError("syntax_error", "column name must be qualified");
      const col = names[names.length - 1]!;
      const rel = env.catalog.resolveRelation(names.slice(0, -1), env.searchPath);
      if (rel === undefined) throw new PgError("undefined_table", `relation "${names.slice(0, -1).join(".")}" does not exist`);
      if (rel.kind !== "table") throw new PgError("feature_not_supported", `comments on columns of a ${rel.kind} are not supported`);
      if (!rel.columns.some((c) => c.name === col && !c.hidden)) throw new PgError("undefined_column", `column "${col}" of relation "${rel.name}" does not exist`);
      return done({ ...rel, columns: rel.columns.map((c) => (c.name === col ? withComment(c, comment) : c)) });
    }
    case "OBJECT_SCHEMA": {
      const s = env.catalog.schema(names[0]!);
      if (s === undefined) throw new PgError("invalid_schema_name", `schema "${names[0]}" does not exist`);
      if (env.catalog.get(s.id) === undefined || !env.catalog.descriptors().some((d) => d.id === s.id)) {
        throw new PgError("feature_not_supported", `the comment of built-in schema "${s.name}" cannot be changed`);
      }
      return done(withComment(s, comment));
    }
  }
  throw new PgError("feature_not_supported", `COMMENT ON ${objtype.replace(/^OBJECT_/, "").toLowerCase().replace(/_/g, " ")} is not supported`);
}
