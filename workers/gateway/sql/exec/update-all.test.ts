// An UPDATE (and DELETE) of every row of a table, over the real storage node. Where the statement
// cannot meet its own writes ahead of its scan (exec/dml.ts streamable: one scan of the table, no
// indexed column set, no subquery), rows are updated as the scan produces them, so the statement's
// memory stays bounded whatever the table's size; otherwise its target rows are collected first
// (so it never reads back what it wrote) under the statement's working-memory budget, and past it
// the statement fails with 53200 and changes nothing. The writes go to the node as intents in
// batches once the buffer passes txn/limits.ts flushKeysHard (big-txn.serial.test.ts shows that at
// 100,000 rows). Small sizes so this runs in seconds: work_mem stands in for the 64 MiB budget.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgError } from "../../../../common/errors.ts";
import { Session } from "../session.ts";
import { startRealStorage, type RealStorage } from "../testing/storage-node.ts";

const ROWS = 6_000;

let storage: RealStorage;
let s: Session;

async function one(sql: string): Promise<Array<string | null>> {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows[0]!;
}

beforeAll(async () => {
  storage = await startRealStorage();
  s = new Session({ kv: await storage.capability(91), tenantId: 91 });
  await s.execute("CREATE TABLE acc (aid INT PRIMARY KEY, bal INT NOT NULL, filler CHAR(84))");
  await s.execute(`INSERT INTO acc SELECT i, 0, '' FROM generate_series(1, ${ROWS}) i`);
}, 120_000);

afterAll(async () => {
  await storage?.close();
});

describe("UPDATE of every row", () => {
  it("streams when it cannot meet its own writes: far past the statement's working memory, every row updated once", async () => {
    // 6,000 pgbench-shaped rows hold ~1.7 MB if collected; 1 MB of work_mem is too little for that.
    await s.execute("SET work_mem = '1MB'");
    try {
      const [r] = await s.execute("UPDATE acc SET bal = bal + 1, filler = 'x' WHERE aid > 0");
      expect(r!.rowCount).toBe(ROWS);
      expect(await one("SELECT count(*), sum(bal), min(bal), max(bal) FROM acc")).toEqual([String(ROWS), String(ROWS), "1", "1"]);
      await s.execute("UPDATE acc SET bal = bal - 1");
    } finally {
      await s.execute("RESET work_mem");
    }
    expect(await one("SELECT sum(bal) FROM acc")).toEqual(["0"]);
  });

  it("collects when it could meet its own writes (an indexed column set): past the working memory, 53200, and nothing changed", async () => {
    await s.execute("CREATE INDEX acc_bal ON acc (bal)");
    await s.execute("SET work_mem = '1MB'");
    try {
      for (const sql of ["UPDATE acc SET bal = bal + 1", "UPDATE acc SET bal = bal + 1 WHERE bal >= 0", "UPDATE acc SET bal = bal + 1 WHERE aid IN (SELECT aid FROM acc)"]) {
        const err = await s.execute(sql).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(PgError);
        expect((err as PgError).code).toBe("53200");
        expect((err as PgError).message).toMatch(/UPDATE needs more than the 1 MiB of working memory/);
      }
    } finally {
      await s.execute("RESET work_mem");
      await s.execute("DROP INDEX acc_bal");
    }
    expect(await one("SELECT count(*), sum(bal) FROM acc")).toEqual([String(ROWS), "0"]);
  });

  it("inside a transaction: seen by the transaction, undone whole by ROLLBACK; in autocommit: committed", async () => {
    await s.execute("BEGIN");
    await s.execute("UPDATE acc SET bal = bal + 1");
    expect(await one("SELECT count(*), sum(bal), min(bal) FROM acc")).toEqual([String(ROWS), String(ROWS), "1"]);
    await s.execute("ROLLBACK");
    expect(await one("SELECT sum(bal) FROM acc")).toEqual(["0"]);
    await s.execute("UPDATE acc SET bal = bal + 2");
    expect(await one("SELECT count(*), sum(bal), min(bal), max(bal) FROM acc")).toEqual([String(ROWS), String(2 * ROWS), "2", "2"]);
  });

  it("DELETE of every row streams too: past the working memory, inside a transaction, undone by ROLLBACK", async () => {
    await s.execute("SET work_mem = '1MB'");
    try {
      await s.execute("BEGIN");
      const [r] = await s.execute("DELETE FROM acc WHERE filler IS NOT NULL");
      expect(r!.rowCount).toBe(ROWS);
      expect(await one("SELECT count(*) FROM acc")).toEqual(["0"]);
      await s.execute("ROLLBACK");
    } finally {
      await s.execute("RESET work_mem");
    }
    expect(await one("SELECT count(*) FROM acc")).toEqual([String(ROWS)]);
  });
});
