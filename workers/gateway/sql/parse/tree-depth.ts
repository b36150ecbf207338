// How deeply a parse tree nests, measured without recursion, so that every later pass — most of
// which recurse over the tree (binder, planner, EXPLAIN, expression compilation) — can rely on a
// bound instead of overflowing the JavaScript stack. Depth counts nodes ({ Kind: {...} } objects):
// `1+1+1` is 2 A_Expr deep, a scalar subquery adds SelectStmt → ResTarget → SubLink. Parentheses
// add nothing. The left operand of a set operation counts at its parent's level, because the
// binder walks a chain of UNION / INTERSECT / EXCEPT iteratively (a 5,000-way UNION ALL is a
// 5,000-deep chain of `larg` in the tree, yet one level of the query).
import { PgError } from "../../../../common/errors.ts";
import { sqlLimits } from "../limits.ts";

/** Whether `o` is a node: one key, naming its kind with a capital letter (SelectStmt, A_Expr). */
function nodeBody(o: object): { kind: string; body: unknown } | null {
  const keys = Object.keys(o);
  if (keys.length !== 1) return null;
  const k = keys[0]!;
  const c = k.charCodeAt(0);
  return c >= 65 && c <= 90 ? { kind: k, body: (o as Record<string, unknown>)[k] } : null;
}

/** The deepest node nesting in `root` (0 for a tree without nodes). */
export function parseTreeDepth(root: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth]);
      continue;
    }
    const node = nodeBody(v);
    if (node === null) {
      for (const x of Object.values(v)) stack.push([x, depth]);
      continue;
    }
    const d = depth + 1;
    if (d > max) max = d;
    const body = node.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      stack.push([body, d]);
      continue;
    }
    const fields = body as Record<string, unknown>;
    for (const [k, x] of Object.entries(fields)) {
      if (node.kind === "SelectStmt" && (k === "larg" || k === "rarg") && x !== null && typeof x === "object") {
        // The operands of a set operation are SelectStmt bodies without the { SelectStmt: … }
        // wrapper. The left one sits at this statement's level: the binder walks that spine.
        stack.push([{ SelectStmt: x }, k === "larg" ? depth : d]);
        continue;
      }
      stack.push([x, d]);
    }
  }
  return max;
}

/** Refuses a tree nested deeper than sqlLimits.parseTreeDepthMax with Postgres's 54001. */
export function checkParseTreeDepth(root: unknown): void {
  const depth = parseTreeDepth(root);
  if (depth > sqlLimits.parseTreeDepthMax) {
    throw new PgError("statement_too_complex", "stack depth limit exceeded", {
      hint: `the statement nests ${depth} levels deep (expressions, subqueries, joins); at most ${sqlLimits.parseTreeDepthMax} are accepted`,
    });
  }
}
