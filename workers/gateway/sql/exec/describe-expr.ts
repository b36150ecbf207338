// Expression text for EXPLAIN ("(a > 5)", "(b = $1)"). Column references print the input
// column's name when the planner passes names, else their position.
import { formatText } from "../types/text-io.ts";
import type { Expr, ExprVisitor } from "../bind/bound.ts";
import { visitExpr } from "../bind/bound.ts";

export function describeExpr(e: Expr, names: readonly string[] = []): string {
  const d = (x: Expr): string => describeExpr(x, names);
  const v: ExprVisitor<string> = {
    const: (x) => (x.value === null ? "NULL" : typeof x.value === "string" ? `'${x.value}'` : (formatText(x.value, x.type) ?? "NULL")),
    param: (x) => `$${x.index + 1}`,
    col: (x) => names[x.index] ?? `#${x.index + 1}`,
    outer: (x) => `outer${x.level}.#${x.index + 1}`,
    call: (x) => (x.args.length === 2 && !/^[a-z_]/.test(x.name) ? `(${d(x.args[0]!)} ${x.name} ${d(x.args[1]!)})` : x.args.length === 1 && !/^[a-z_]/.test(x.name) ? `(${x.name} ${d(x.args[0]!)})` : `${x.name}(${x.args.map(d).join(", ")})`),
    and: (x) => `(${x.args.map(d).join(" AND ")})`,
    or: (x) => `(${x.args.map(d).join(" OR ")})`,
    not: (x) => `(NOT ${d(x.arg)})`,
    isnull: (x) => `(${d(x.arg)} IS ${x.negate ? "NOT " : ""}NULL)`,
    booltest: (x) => `(${d(x.arg)} IS ${x.negate ? "NOT " : ""}${x.test.toUpperCase()})`,
    case: (x) => `CASE ${x.whens.map((w) => `WHEN ${d(w.when)} THEN ${d(w.then)}`).join(" ")} ELSE ${d(x.else)} END`,
    coalesce: (x) => `COALESCE(${x.args.map(d).join(", ")})`,
    minmax: (x) => `${x.greatest ? "GREATEST" : "LEAST"}(${x.args.map(d).join(", ")})`,
    cast: (x) => `(${d(x.arg)})::${x.type.name}`,
    inlist: (x) => `(${d(x.arg)} ${x.negate ? "NOT IN" : "IN"} (${x.list.map(d).join(", ")}))`,
    distinct: (x) => `(${d(x.left)} IS ${x.negate ? "NOT " : ""}DISTINCT FROM ${d(x.right)})`,
    subquery: (x) => `(SubPlan ${x.sub.id + 1})`,
    array: (x) => `ARRAY[${x.elems.map(d).join(", ")}]`,
    domain: (x) => `(${d(x.arg)})::${x.domainName}`,
    special: (x) => `${x.name}(${x.args.map(d).join(", ")})`,
    routine: (x) => `${x.fn.name}(${x.args.map(d).join(", ")})`,
  };
  return visitExpr(e, v);
}
