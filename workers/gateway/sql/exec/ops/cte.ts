// WITH queries: each is computed once per statement and its rows kept (charged to the memory
// budget) for every reference. WITH RECURSIVE iterates the step over the previous iteration's
// rows until no new rows appear (UNION drops duplicates across iterations; UNION ALL keeps all).
import { PgError } from "../../../../../common/errors.ts";
import type { CteDef } from "../../bind/bound.ts";
import { sqlLimits } from "../../limits.ts";
import type { PlanNode } from "../plan-node.ts";
import { rowHashKey } from "../../types/compare.ts";
import type { SqlType } from "../../types/type.ts";
import type { ExecContext } from "../context.ts";
import type { Row } from "../eval.ts";
import { rowBytes } from "../memory.ts";

/** `types`: the WITH query's column types, by which UNION (without ALL) tells rows apart. */
async function collect(it: AsyncIterable<Row[]>, ctx: ExecContext, sink: Row[], seen: Set<string> | null, types: readonly SqlType[]): Promise<Row[]> {
  const fresh: Row[] = [];
  for await (const batch of it) {
    let bytes = 0;
    for (const r of batch) {
      if (seen !== null) {
        const k = rowHashKey(r, types);
        if (seen.has(k)) continue;
        seen.add(k);
      }
      sink.push(r);
      fresh.push(r);
      bytes += rowBytes(r);
    }
    ctx.memory.reserve(bytes, "WITH query");
  }
  return fresh;
}

export async function materializeCte(cte: CteDef, ctx: ExecContext): Promise<Row[]> {
  const done = ctx.cteRows.get(cte.id);
  if (done !== undefined) return done;
  const rows: Row[] = [];
  const types = cte.cols.map((c) => c.type);
  if (cte.recursive === null) {
    await collect(ctx.runRel(cte.rel), ctx, rows, null, types);
    ctx.cteRows.set(cte.id, rows);
    return rows;
  }
  const seen = cte.unionAll ? null : new Set<string>();
  let working = await collect(ctx.runRel(cte.rel), ctx, rows, seen, types);
  for (let iter = 0; working.length > 0; iter++) {
    if (iter >= sqlLimits.recursiveIterationsMax) {
      throw new PgError("program_limit_exceeded", `WITH RECURSIVE query "${cte.name}" ran more than ${sqlLimits.recursiveIterationsMax} iterations`);
    }
    // The step reads the previous iteration's rows through the CTE's own name.
    ctx.cteRows.set(cte.id, working);
    working = await collect(ctx.runRel(cte.recursive), ctx, rows, seen, types);
  }
  ctx.cteRows.set(cte.id, rows);
  return rows;
}

export function cteScanOp(cte: CteDef): PlanNode {
  return {
    name: "CTE Scan",
    details: [`CTE: ${cte.name}`],
    children: [],
    estRows: 100,
    async *run(ctx) {
      const rows = await materializeCte(cte, ctx);
      for (let i = 0; i < rows.length; i += 1024) yield rows.slice(i, i + 1024);
    },
  };
}
