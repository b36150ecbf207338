// Expressions and queries the catalog stores, as SQL text (catalog/README.md says why):
//   storeExpr / storeQuery   a parse tree → the text kept in a descriptor, checked to parse back
//                            into the same tree (else 0A000: nothing is stored that would read
//                            back as something else);
//   exprNode / queryNode     the stored text → its parse tree, parsed once per text per isolate;
//   upgradeDescriptor        a descriptor of format 1 (parser JSON) → format 2, when it is read.
import { PgError } from "../../../../common/errors.ts";
import type { DescriptorUpgrade } from "../../catalog/catalog-store.ts";
import { DESCRIPTOR_FORMAT, type Descriptor, type StoredSql, type StoredType } from "../../catalog/descriptors.ts";
import { nodeKind, type PgNode } from "../parse/ast.ts";
import { parseSqlSync, storedTrees, warmParser } from "../parse/parser.ts";
import { POSITION_FIELDS, expr as printExpr, selectStmt as printSelect, Unprintable } from "../parse/sql-text.ts";

/** The stored text of an expression tree. */
export function storeExpr(node: PgNode): string {
  return store(node, printExpr, exprNodeOfText);
}

/** The stored text of a query tree ({ SelectStmt: … }). */
export function storeQuery(node: PgNode): string {
  return store(node, printSelect, queryNodeOfText);
}

function store(node: PgNode, print: (n: PgNode) => string, read: (text: string) => PgNode): string {
  let text: string;
  const key = print === printExpr ? exprKey : queryKey;
  try {
    text = print(node);
  } catch (err) {
    if (err instanceof Unprintable) throw new PgError("feature_not_supported", `this expression cannot be stored in the catalog: ${err.message}`);
    throw err;
  }
  if (!sameTree(read(text), node)) {
    throw new PgError("feature_not_supported", "this expression cannot be stored in the catalog: its SQL text reads back differently", { detail: text });
  }
  // While this isolate keeps it, the text reads as the tree it was printed from: errors found in it
  // later point into the statement that defined it (as they did when trees were stored).
  storedTrees.set(key(text), node);
  return text;
}

/**
 * The stored default of a serial or identity column, nextval('schema.seq'): schema-qualified, so
 * the default finds its sequence whatever the search path.
 */
export function storedNextval(seqName: string): string {
  return storeExpr({ FuncCall: { funcname: [{ String: { sval: "nextval" } }], args: [{ A_Const: { sval: { sval: seqName } } }], funcformat: "COERCE_EXPLICIT_CALL" } });
}

/** The parse tree of a stored expression. */
export function exprNode(s: StoredSql): PgNode {
  return typeof s === "string" ? exprNodeOfText(s) : (s.legacyTree as PgNode);
}

/** The parse tree ({ SelectStmt: … }) of a stored query. */
export function queryNode(s: StoredSql): PgNode {
  return typeof s === "string" ? queryNodeOfText(s) : (s.legacyTree as PgNode);
}

const exprKey = (text: string): string => `e:${text}`;
const queryKey = (text: string): string => `q:${text}`;

function exprNodeOfText(text: string): PgNode {
  const hit = storedTrees.get(exprKey(text));
  if (hit !== undefined) return hit;
  const q = parseOne(`SELECT ${text}`);
  const targets = (q["SelectStmt"] as PgNode)["targetList"] as PgNode[] | undefined;
  const val = targets?.length === 1 ? ((targets[0]!["ResTarget"] as PgNode | undefined)?.["val"] as PgNode | undefined) : undefined;
  if (val === undefined) throw new PgError("internal_error", "a stored expression is not one expression", { detail: text });
  storedTrees.set(exprKey(text), val);
  return val;
}

function queryNodeOfText(text: string): PgNode {
  const hit = storedTrees.get(queryKey(text));
  if (hit !== undefined) return hit;
  const q = parseOne(text);
  storedTrees.set(queryKey(text), q);
  return q;
}

function parseOne(text: string): PgNode {
  const stmts = parseSqlSync(text);
  if (stmts.length !== 1 || nodeKind(stmts[0]!.stmt)[0] !== "SelectStmt") throw new PgError("internal_error", "a stored text is not one query", { detail: text });
  return stmts[0]!.stmt;
}

/** Equal trees, but for where their nodes were in the text (POSITION_FIELDS). */
export function sameTree(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameTree(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => !POSITION_FIELDS.has(k));
  const bk = Object.keys(bo).filter((k) => !POSITION_FIELDS.has(k));
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(bo, k) && sameTree(ao[k], bo[k]));
}

/**
 * A format-1 tree as text, or the tree itself when it cannot be printed faithfully (it keeps
 * working as before; see StoredSql). Already text: unchanged.
 */
function upgraded(s: unknown, store: (n: PgNode) => string): StoredSql {
  if (typeof s === "string") return s;
  if (typeof s === "object" && s !== null && "legacyTree" in s) return s as StoredSql;
  try {
    return store(s as PgNode);
  } catch (err) {
    if (err instanceof PgError && err.condition === "feature_not_supported") return { legacyTree: s };
    throw err;
  }
}

function upgradeType(t: StoredType): StoredType {
  if (t.domain === undefined) return t;
  const d = t.domain;
  return { ...t, domain: { ...d, checks: d.checks.map((c) => ({ ...c, expr: upgraded(c.expr, storeExpr) })), defaultExpr: d.defaultExpr === null ? null : upgraded(d.defaultExpr, storeExpr) } };
}

/**
 * A descriptor as read from storage, in the current format: format 1 kept expressions as the
 * parser's JSON, which are printed as SQL text here; the next change to the descriptor writes the
 * new form. The parser must be loaded (warmParser) first: the texts are checked by parsing them.
 */
export function upgradeDescriptor(d: Descriptor): Descriptor {
  const format = d.format ?? 1;
  if (format === DESCRIPTOR_FORMAT) return d;
  if (format !== 1) {
    throw new PgError("internal_error", `catalog descriptor ${d.id} (${d.name}) has format ${format}, newer than this gateway reads (${DESCRIPTOR_FORMAT})`);
  }
  const e = (s: StoredSql): StoredSql => upgraded(s, storeExpr);
  switch (d.kind) {
    case "schema":
    case "sequence":
      return { ...d, format: DESCRIPTOR_FORMAT };
    case "table": {
      const ix = <T extends { predicate?: StoredSql }>(i: T): T => (i.predicate === undefined ? i : { ...i, predicate: e(i.predicate) });
      return {
        ...d,
        format: DESCRIPTOR_FORMAT,
        columns: d.columns.map((c) => {
          const col = { ...c, type: upgradeType(c.type), defaultExpr: c.defaultExpr === null ? null : e(c.defaultExpr) };
          if (c.generated !== undefined) col.generated = e(c.generated);
          return col;
        }),
        checks: d.checks.map((c) => ({ ...c, expr: e(c.expr) })),
        primaryIndex: ix(d.primaryIndex),
        indexes: d.indexes.map(ix),
      };
    }
    case "view":
      return { ...d, format: DESCRIPTOR_FORMAT, query: upgraded(d.query, storeQuery) };
    case "type": {
      if (d.domain === undefined) return { ...d, format: DESCRIPTOR_FORMAT };
      const dom = d.domain;
      return { ...d, format: DESCRIPTOR_FORMAT, domain: { ...dom, base: upgradeType(dom.base), checks: dom.checks.map((c) => ({ ...c, expr: e(c.expr) })), defaultExpr: dom.defaultExpr === null ? null : e(dom.defaultExpr) } };
    }
    case "function":
      return { ...d, format: DESCRIPTOR_FORMAT, argTypes: d.argTypes.map(upgradeType), returnType: upgradeType(d.returnType), sqlExpr: d.sqlExpr === null ? null : e(d.sqlExpr) };
  }
}

/** What the catalog store calls on descriptors of an older format (catalog-store.ts). */
export const descriptorUpgrade: DescriptorUpgrade = { prepare: warmParser, upgrade: upgradeDescriptor };
