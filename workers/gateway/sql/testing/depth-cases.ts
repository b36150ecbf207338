// Deeply nested statements of every shape that recurses somewhere (parser, tree walks, binder,
// planner, EXPLAIN, Describe, executor), each at a size that must work and at sizes that must end
// in 54001 "stack depth limit exceeded" (or, past the grammar's own stack, 42601 as in Postgres) —
// never a JavaScript stack overflow (XX000). Shared by depth.test.ts (Node) and
// depth.worker.test.ts (workerd, whose stack is the smaller one). What Postgres 15 does with each
// is noted beside it (measured with psql, default max_stack_depth 2 MB).
import { expect } from "vitest";
import type { Session } from "../session.ts";

export interface DepthCase {
  name: string;
  sql: (n: number) => string;
  /** Sizes that must work. */
  ok: number[];
  /** Sizes that must fail, with the SQLSTATE. */
  fail: Array<[number, string]>;
}

const unionAll = (n: number): string => `SELECT count(*) FROM (${Array.from({ length: n }, (_, i) => `SELECT ${i}`).join(" UNION ALL ")}) t`;

export const depthCases: DepthCase[] = [
  // PG 15: 3,000 terms work, 5,000 fail with 54001.
  { name: "1+1+…+1", sql: (n) => `SELECT ${Array(n).fill("1").join("+")}`, ok: [790], fail: [[1000, "54001"], [5000, "54001"], [100_000, "54001"]] },
  // PG 15: 3,000 work.
  { name: "nested function calls", sql: (n) => `SELECT ${"abs(".repeat(n)}1${")".repeat(n)}`, ok: [790], fail: [[3000, "54001"]] },
  // PG 15: 2,000 levels work, 3,000 fail with 54001.
  { name: "nested scalar subqueries", sql: (n) => `SELECT ${"(SELECT ".repeat(n)}1${")".repeat(n)}`, ok: [330], fail: [[400, "54001"], [2000, "54001"]] },
  // PG 15: 1,500 work.
  { name: "nested derived tables", sql: (n) => `SELECT * FROM ${"(SELECT * FROM ".repeat(n)}(SELECT 1) t${") t".repeat(n)}`, ok: [490], fail: [[1500, "54001"]] },
  // PG 15: 5,000 arms work, 10,000 fail with 54001.
  { name: "UNION ALL chain", sql: unionAll, ok: [5000], fail: [[10_000, "54001"]] },
  // PG 15: 1,500 work; 2,500 fail in the grammar, 42601 "memory exhausted".
  { name: "right-nested UNION ALL", sql: (n) => `SELECT ${"1 UNION ALL (SELECT ".repeat(n)}1${")".repeat(n)}`, ok: [790], fail: [[1000, "54001"], [2500, "42601"]] },
  // PG 15: 790 work, 5,000 fail with 54001. Here each INTERSECT counts two levels (see bindSetOperations).
  { name: "INTERSECT chain", sql: (n) => Array.from({ length: n }, () => "SELECT 1").join(" INTERSECT "), ok: [390], fail: [[420, "54001"], [5000, "54001"]] },
  // PG 15: 990 joins exhaust the server's memory (the backend is killed); here they plan greedily.
  { name: "joins", sql: (n) => `SELECT count(*) FROM (SELECT 1 a) t0${Array.from({ length: n }, (_, i) => ` JOIN (SELECT 1 a) t${i + 1} ON true`).join("")}`, ok: [990], fail: [[3000, "54001"]] },
  // PG 15: 1,500 work.
  { name: "nested CASE", sql: (n) => `SELECT ${"CASE WHEN true THEN ".repeat(n)}1${" END".repeat(n)}`, ok: [490], fail: [[1500, "54001"]] },
  // PG 15: more than 6 levels are more array dimensions than it allows (54000). Arrays here have
  // one dimension, so two levels are 0A000 already; the binder still walks every level first.
  { name: "nested ARRAY[]", sql: (n) => `SELECT ${"ARRAY[".repeat(n)}1${"]".repeat(n)}`, ok: [1], fail: [[2, "0A000"], [790, "0A000"], [3000, "54001"]] },
  // Parentheses add no node. PG 15: 5,000 work; 10,000 fail in the grammar, 42601 "memory exhausted".
  { name: "nested parentheses", sql: (n) => `SELECT ${"(".repeat(n)}1${")".repeat(n)}`, ok: [5000], fail: [[10_000, "42601"]] },
  { name: "a long AND list", sql: (n) => `SELECT 1 WHERE ${Array(n).fill("true").join(" AND ")}`, ok: [10_000], fail: [] },
];

/** Every way a statement is handled: run, EXPLAIN, EXPLAIN ANALYZE, Describe, streamed. */
export async function everyWay(s: Session, sql: string): Promise<Array<string | null>> {
  const ways = [
    () => s.execute(sql),
    () => s.execute(`EXPLAIN ${sql}`),
    () => s.execute(`EXPLAIN ANALYZE ${sql}`),
    () => s.describe(sql),
    () => s.executeStreaming(sql, [], async () => undefined),
  ];
  const out: Array<string | null> = [];
  for (const way of ways) {
    try {
      await way();
      out.push(null);
    } catch (err) {
      out.push((err as { code?: string }).code ?? String(err));
    }
  }
  return out;
}

export async function checkDepthCase(s: Session, c: DepthCase): Promise<void> {
  for (const n of c.ok) expect(await everyWay(s, c.sql(n)), `${c.name} × ${n}`).toEqual([null, null, null, null, null]);
  for (const [n, code] of c.fail) expect(await everyWay(s, c.sql(n)), `${c.name} × ${n}`).toEqual([code, code, code, code, code]);
}
