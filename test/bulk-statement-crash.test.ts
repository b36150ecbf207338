// Large single statements are all-or-nothing through a storage-node crash (issue 10, "transactions
// of any size"; the DESIGN's "an acknowledged commit survives kill -9"): a COPY FROM STDIN outside a
// transaction, an UPDATE of every row and a DELETE of half the rows — each streamed to the storage
// node as intents under one transaction record — while the storage node is killed with SIGKILL at a
// random moment of the statement (`warren dev` starts it again on the same LMDB file).
//
// The kill moment is drawn from the statement's own duration, measured in the same run by one
// statement of the same size that is not interrupted (so the kill lands mid-statement on a busy
// machine as on a quiet one). Afterwards, each time:
//   - the table holds all of the statement's rows or none (COPY: 0 or N new rows; UPDATE: every row
//     at the old value or every row at the new; DELETE: all N or N/2 rows), never a part;
//   - a statement psql saw succeed (exit 0, its command tag printed) is entirely there;
//   - the table is usable at once: a row inserted and updated, counted back (no intent left
//     blocking it, no lock held by the dead transaction).
//
// psql runs each statement through the tunnel (COPY's data on its stdin), as a user would.
// WARREN_BULK_KILL_ROUNDS sets the rounds per statement kind (default 1, to keep CI short;
// scripts/fault-soak.sh runs more).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTool, type ToolRun } from "./harness/run-tool.ts";
import { httpSql, killStorageNode, startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const rounds = Number(process.env.WARREN_BULK_KILL_ROUNDS ?? 1);
/** Rows per statement: about a second of work on a quiet machine (bench:copy: ~40 µs a row). */
const ROWS = Number(process.env.WARREN_BULK_ROWS ?? 20_000);

interface PsqlRun extends ToolRun {
  ms: number;
}

async function psql(url: string, command: string, stdin = ""): Promise<PsqlRun> {
  const started = performance.now();
  const run = await runTool("psql", [url, "-X", "-v", "ON_ERROR_STOP=1", "-c", command], { stdin, env: { PGCONNECT_TIMEOUT: "20" } });
  return { ...run, ms: performance.now() - started };
}

const copyData = (table: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${from + i}\t0\t${table} row ${from + i} ${"x".repeat(40)}\n`).join("");

const firstLine = (out: string) => out.trim().split("\n")[0] ?? "";

async function count(t: TenantConnection, sql: string): Promise<number> {
  return Number(((await httpSql(t, sql)).rows[0] as { n: number }).n);
}

describe("large statements through a storage-node SIGKILL: all or nothing", () => {
  let stack: Stack;
  let t: TenantConnection;
  const seen: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    t = stack.demo;
  }, 180_000);
  afterAll(async () => {
    console.log(`bulk statements through kills (${ROWS} rows each):\n  ${seen.join("\n  ")}`);
    await stack?.stop();
  });

  /**
   * Runs `statement` (psql, through the tunnel) and kills the storage node at a random moment within
   * its expected duration; resolves with what psql said and when the kill happened.
   */
  async function killedDuring(statement: string, stdin: string, expectedMs: number): Promise<{ run: PsqlRun; killAtMs: number; servedAgainMs: number }> {
    const running = psql(stack.demo.pg, statement, stdin);
    const killAtMs = expectedMs * (0.1 + 0.8 * Math.random());
    await new Promise((r) => setTimeout(r, killAtMs));
    const servedAgainMs = await killStorageNode(stack, () => httpSql(t, "select 1"));
    return { run: await running, killAtMs, servedAgainMs };
  }

  /** The table takes a row, an update of it and a count at once (no intent or lock of the dead statement in the way). */
  async function usable(table: string, id: number): Promise<void> {
    await httpSql(t, `insert into ${table} (id, v, pad) values ($1, 7, 'after the crash')`, [id]);
    await httpSql(t, `update ${table} set v = 8 where id = $1`, [id]);
    expect(await count(t, `select count(*)::int as n from ${table} where id = ${id} and v = 8`)).toBe(1);
    await httpSql(t, `delete from ${table} where id = $1`, [id]);
  }

  it(`COPY FROM STDIN of ${ROWS} rows outside a transaction, killed mid-load: 0 or ${ROWS} rows`, async () => {
    await httpSql(t, "create table copy_base (id int primary key, v int, pad text)");
    const base = await psql(stack.demo.pg, "copy copy_base from stdin", copyData("copy_base", 1, ROWS));
    expect(base.code, base.out).toBe(0);
    expect(await count(t, "select count(*)::int as n from copy_base")).toBe(ROWS);
    for (let r = 0; r < rounds; r++) {
      const table = `copy_killed_${r}`;
      await httpSql(t, `create table ${table} (id int primary key, v int, pad text)`);
      const k = await killedDuring(`copy ${table} from stdin`, copyData(table, 1, ROWS), base.ms);
      const n = await count(t, `select count(*)::int as n from ${table}`);
      seen.push(`COPY: killed at ${k.killAtMs.toFixed(0)} ms of ~${base.ms.toFixed(0)}; psql exit ${k.run.code} (${firstLine(k.run.out)}); ${n} rows after; served again in ${k.servedAgainMs.toFixed(0)} ms`);
      expect([0, ROWS], `rows of ${table} after a kill at ${k.killAtMs.toFixed(0)} ms`).toContain(n);
      if (k.run.code === 0) expect(n, "an acknowledged COPY").toBe(ROWS);
      // Every row is whole when the load is there (not only the count).
      if (n === ROWS) expect(await count(t, `select count(*)::int as n from ${table} where pad = '${table} row ' || id || ' ${"x".repeat(40)}'`)).toBe(ROWS);
      await usable(table, ROWS + 1);
    }
  }, 60_000 + rounds * 120_000);

  it(`UPDATE of ${ROWS} rows, killed mid-statement: every row old or every row new`, async () => {
    const base = await psql(stack.demo.pg, "update copy_base set v = v + 1");
    expect(base.code, base.out).toBe(0);
    let v = 1;
    for (let r = 0; r < rounds; r++) {
      const k = await killedDuring("update copy_base set v = v + 1", "", base.ms);
      const groups = (await httpSql(t, "select v, count(*)::int as n from copy_base group by v order by v")).rows as Array<{ v: number; n: number }>;
      seen.push(`UPDATE: killed at ${k.killAtMs.toFixed(0)} ms of ~${base.ms.toFixed(0)}; psql exit ${k.run.code} (${firstLine(k.run.out)}); values after ${JSON.stringify(groups)}`);
      expect(groups, "one value across every row").toHaveLength(1);
      expect(groups[0]!.n).toBe(ROWS);
      expect([v, v + 1]).toContain(Number(groups[0]!.v));
      if (k.run.code === 0) expect(Number(groups[0]!.v), "an acknowledged UPDATE").toBe(v + 1);
      v = Number(groups[0]!.v);
      await usable("copy_base", ROWS + 1);
    }
  }, 60_000 + rounds * 120_000);

  it(`DELETE of half of ${ROWS} rows, killed mid-statement: all rows or half`, async () => {
    // The uninterrupted baseline deletes from a copy of the same size.
    await httpSql(t, "create table delete_base (id int primary key, v int, pad text)");
    expect((await psql(stack.demo.pg, "copy delete_base from stdin", copyData("delete_base", 1, ROWS))).code).toBe(0);
    const base = await psql(stack.demo.pg, "delete from delete_base where id % 2 = 0");
    expect(base.code, base.out).toBe(0);
    for (let r = 0; r < rounds; r++) {
      const before = await count(t, "select count(*)::int as n from copy_base");
      const k = await killedDuring(`delete from copy_base where id % 2 = ${r % 2}`, "", base.ms);
      const n = await count(t, "select count(*)::int as n from copy_base");
      const gone = await count(t, `select count(*)::int as n from copy_base where id % 2 = ${r % 2}`);
      seen.push(`DELETE: killed at ${k.killAtMs.toFixed(0)} ms of ~${base.ms.toFixed(0)}; psql exit ${k.run.code} (${firstLine(k.run.out)}); ${before} → ${n} rows`);
      const half = ROWS / 2;
      expect([before, before - half], "all of the delete or none").toContain(n);
      expect([0, half]).toContain(gone);
      if (k.run.code === 0) expect(gone, "an acknowledged DELETE").toBe(0);
      await usable("copy_base", ROWS + 1);
      if (n === before - half) break; // nothing left to delete on this side
    }
  }, 60_000 + rounds * 120_000);
});
