// The catalog side of reg* text I/O (types/reg-text.ts): names ↔ OIDs of relations (user tables,
// views, sequences, indexes, and the system catalogs), schemas and roles, resolved against one
// statement's catalog snapshot and search path, printed qualified only when not visible, as
// Postgres's regclassout does. regproc names user-defined functions; Warren has no user-defined
// operators or text search configurations, so those names never resolve.
import { PgError } from "../../../../common/errors.ts";
import type { Catalog } from "../../catalog/catalog.ts";
import { BOOTSTRAP_SUPERUSER_OID, descIdOfOid, indexOfOid, indexOid, namespaceOid, relationOid } from "../../catalog/oids.ts";
import { quoteIdent } from "../functions/string-functions.ts";
import { regUndefined, type RegCatalog } from "../types/reg-text.ts";
import { Oid } from "../types/type.ts";
import { roleName } from "./system-tables/cluster.ts";
import { schemaNames } from "./system-tables/context.ts";
import { systemRelationByOid, systemRelationOidOf } from "./system-tables/index.ts";
import { PG_DATABASE_OWNER_OID } from "./system-tables/oids.ts";

/** Splits `a."B".c` into identifiers: unquoted parts fold to lower case, quoted ones keep theirs. */
export function parseQualifiedName(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(\.|$)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < text.length && (m = re.exec(text)) !== null) {
    out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.trim().toLowerCase());
    at = re.lastIndex;
    if (m[3] === "") break;
  }
  if (at < text.length || out.length === 0) throw new PgError("invalid_name", `invalid name syntax`);
  return out;
}

export function regCatalog(catalogOf: () => Catalog, user: string, searchPath: readonly string[]): RegCatalog {
  const qualifiedUnlessVisible = (schemaId: number, name: string): string => {
    const catalog = catalogOf();
    const schema = catalog.get(schemaId)?.name ?? "public";
    const first = catalog.resolveRelation([name], searchPath);
    const firstIndex = catalog.resolveIndex([name], searchPath);
    const resolvesHere = (first !== undefined && first.schemaId === schemaId) || (first === undefined && firstIndex !== undefined && firstIndex.table.schemaId === schemaId);
    return resolvesHere ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
  };
  return {
    lookup(typeOid, text) {
      const catalog = catalogOf();
      switch (typeOid) {
        case Oid.regclass: {
          const names = parseQualifiedName(text);
          if (names.length > 3) throw new PgError("syntax_error", `improper relation name (too many dotted names): ${text}`);
          const rel = catalog.resolveRelation(names, searchPath);
          if (rel !== undefined) return relationOid(rel.id);
          const ix = catalog.resolveIndex(names, searchPath);
          if (ix !== undefined) return indexOid(ix.table.id, ix.index.id);
          const sys = systemRelationOidOf(names.length >= 2 ? names[names.length - 2]! : "pg_catalog", names[names.length - 1]!);
          if (sys !== null) return sys;
          throw regUndefined(typeOid, text);
        }
        case Oid.regnamespace: {
          const [name] = parseQualifiedName(text);
          const s = catalog.schema(name!);
          if (s === undefined) throw regUndefined(typeOid, text);
          return namespaceOid(s.id);
        }
        case Oid.regrole: {
          const [name] = parseQualifiedName(text);
          if (name === user) return BOOTSTRAP_SUPERUSER_OID;
          if (name === "pg_database_owner") return PG_DATABASE_OWNER_OID;
          throw new PgError("undefined_object", `role "${name}" does not exist`);
        }
        case Oid.regtype: {
          // Built-in type names were tried first (types/reg-text.ts); here only user-defined types.
          const d = catalog.resolveType(parseQualifiedName(text), searchPath);
          if (d === undefined) throw regUndefined(typeOid, text);
          return relationOid(d.id);
        }
        case Oid.regproc: {
          const found = catalog.resolveFunctions(parseQualifiedName(text), searchPath);
          if (found.length > 1) throw new PgError("ambiguous_function", `more than one function named "${text}"`);
          if (found.length === 1) return relationOid(found[0]!.id);
          throw regUndefined(typeOid, text);
        }
        default:
          throw regUndefined(typeOid, text.replace(/\(.*$/, ""));
      }
    },
    nameOf(typeOid, oid) {
      const catalog = catalogOf();
      switch (typeOid) {
        case Oid.regclass: {
          const id = descIdOfOid(oid);
          const rel = id === null ? undefined : catalog.get(id);
          if (rel !== undefined && rel.kind !== "schema" && rel.kind !== "type" && rel.kind !== "function") return qualifiedUnlessVisible(rel.schemaId, rel.name);
          const ix = indexOfOid(oid);
          const t = ix === null ? undefined : catalog.get(ix[0]);
          if (t?.kind === "table") {
            const index = [t.primaryIndex, ...t.indexes].find((i) => i.id === ix![1]);
            if (index !== undefined) return qualifiedUnlessVisible(t.schemaId, index.primary ? t.pkeyName : index.name);
          }
          const sys = systemRelationByOid(oid);
          if (sys === null) return null;
          return sys[0] === "pg_catalog" ? quoteIdent(sys[1]) : `${sys[0]}.${quoteIdent(sys[1])}`;
        }
        case Oid.regnamespace: {
          for (const name of schemaNames({ catalog })) if (namespaceOid(catalog.schema(name)!.id) === oid) return quoteIdent(name);
          return null;
        }
        case Oid.regtype: {
          const id = descIdOfOid(oid);
          const d = id === null ? undefined : catalog.get(id);
          if (d?.kind !== "type") return null;
          return catalog.resolveType([d.name], searchPath)?.id === d.id ? quoteIdent(d.name) : `${quoteIdent(catalog.get(d.schemaId)?.name ?? "public")}.${quoteIdent(d.name)}`;
        }
        case Oid.regproc: {
          // A user-defined function (pg_trigger.tgfoid::regproc): qualified unless its schema is searched.
          const id = descIdOfOid(oid);
          const f = id === null ? undefined : catalog.get(id);
          if (f?.kind !== "function") return null;
          return catalog.resolveFunctions([f.name], searchPath).some((x) => x.id === f.id) ? quoteIdent(f.name) : `${quoteIdent(catalog.get(f.schemaId)?.name ?? "public")}.${quoteIdent(f.name)}`;
        }
        case Oid.regrole:
          return oid === BOOTSTRAP_SUPERUSER_OID || oid === PG_DATABASE_OWNER_OID ? quoteIdent(roleName({ user }, oid)) : null;
        default:
          return null;
      }
    },
  };
}
