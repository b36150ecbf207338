// A physical plan: a tree of operators, each an async generator of row batches. The planner builds
// it from the bound Rel; EXPLAIN prints it; EXPLAIN ANALYZE runs it with counters per operator.
import type { ExecContext } from "./context.ts";
import type { Row } from "./eval.ts";

export interface PlanStats {
  rows: number;
  kvRequests: number;
  timeMs: number;
  loops: number;
}

export interface PlanNode {
  /** Operator name as EXPLAIN shows it: "Point Get", "Index Scan", "Hash Join", … */
  readonly name: string;
  /** Lines under the operator: "Index: t_pkey", "Filter: (a > 5)", … */
  readonly details: string[];
  readonly children: PlanNode[];
  /** The planner's estimate of rows produced. */
  readonly estRows: number;
  run(ctx: ExecContext): AsyncGenerator<Row[]>;
  stats?: PlanStats;
}

/** Wraps every operator of a tree so it counts rows, KV requests and time (EXPLAIN ANALYZE). */
export function instrument(node: PlanNode): void {
  for (const c of node.children) instrument(c);
  const inner = node.run.bind(node);
  const stats: PlanStats = { rows: 0, kvRequests: 0, timeMs: 0, loops: 0 };
  node.stats = stats;
  node.run = async function* (ctx: ExecContext) {
    stats.loops++;
    const it = inner(ctx);
    for (;;) {
      const t0 = performance.now();
      const k0 = ctx.txn.kv.stats.requests;
      const r = await it.next();
      stats.timeMs += performance.now() - t0;
      stats.kvRequests += ctx.txn.kv.stats.requests - k0;
      if (r.done) return;
      stats.rows += r.value.length;
      yield r.value;
    }
  };
}

/** EXPLAIN's text: one line per operator, children indented under "->", like Postgres. */
export function formatPlan(node: PlanNode, analyze: boolean): string[] {
  const lines: string[] = [];
  const walk = (n: PlanNode, depth: number): void => {
    const pad = depth === 0 ? "" : `${" ".repeat(depth * 6 - 4)}->  `;
    let head = `${pad}${n.name}  (rows=${Math.max(1, Math.round(n.estRows))})`;
    if (analyze && n.stats !== undefined) {
      const s = n.stats;
      // KV requests counted per operator include its children's; subtract them to show its own.
      const own = s.kvRequests - n.children.reduce((acc, c) => acc + (c.stats?.kvRequests ?? 0), 0);
      head += ` (actual rows=${s.rows} loops=${s.loops} kv_requests=${own} time=${s.timeMs.toFixed(3)} ms)`;
    }
    lines.push(head);
    const detailPad = " ".repeat(depth === 0 ? 2 : depth * 6 + 2);
    for (const d of n.details) lines.push(`${detailPad}${d}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(node, 0);
  return lines;
}
