// The parser's output is libpg-query's JSON AST: every node is an object with one key naming its
// kind ({ SelectStmt: {...} }, { ColumnRef: {...} }). It is large and loosely typed, so it stays at
// the edge of the SQL layer: only bind/ reads it, through these helpers, and turns it into the
// small typed bound-node set (bind/bound.ts) every later pass works on.

// `any` on purpose: the AST is external JSON; bind/ checks every field it reads.
export type PgNode = { [key: string]: any };

/** The node's kind (its single key) and body. */
export function nodeKind(n: PgNode): [string, PgNode] {
  const keys = Object.keys(n);
  if (keys.length !== 1) return ["", n];
  return [keys[0]!, n[keys[0]!] as PgNode];
}

/** A list of `{ String: { sval } }` nodes as plain strings. */
export function stringList(list: PgNode[] | undefined): string[] {
  return (list ?? []).map((n) => {
    const s = n["String"] as { sval?: string } | undefined;
    return s?.sval ?? "";
  });
}

/** Freezes a tree and everything in it: parsed trees are shared by every reader of a cache. */
export function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== "object" || Object.isFrozen(n)) continue;
    Object.freeze(n);
    for (const v of Object.values(n as object)) stack.push(v);
  }
  return root;
}

/**
 * Visits every object node under `root` (arrays are walked through, not visited) with an explicit
 * stack, since a tree may be deeper than the JavaScript stack; stops at the first node for which
 * `visit` returns true, and says whether one did.
 */
export function someNode(root: unknown, visit: (node: PgNode) => boolean): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      for (const x of n) stack.push(x);
      continue;
    }
    if (visit(n as PgNode)) return true;
    for (const v of Object.values(n as object)) stack.push(v);
  }
  return false;
}

declare const statementTreeBrand: unique symbol;

/**
 * A parsed statement (`{ SelectStmt: … }`) as the layers above bind/ hold it: an opaque handle
 * they pass back to bind/ functions, never read (scripts/count-parse-trees.ts counts every
 * unwrapping outside parse/ and bind/).
 */
export type StatementTree = { readonly [statementTreeBrand]: true };

/** The handle of a statement's tree. */
export function statementTree(n: PgNode): StatementTree {
  return n as unknown as StatementTree;
}

/** The tree behind a handle: for parse/ and bind/ only. */
export function treeOf(t: StatementTree): PgNode {
  return t as unknown as PgNode;
}
