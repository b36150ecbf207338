// An UPDATE of every row of a table, over the real storage node. Its target rows are collected
// first (so it never reads back what it wrote) under the statement's working-memory budget; past
// it the UPDATE fails with 53200 and changes nothing. The writes go to the node as intents in
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
  it("past the statement's working memory: 53200, and nothing changed", async () => {
    // 6,000 pgbench-shaped rows hold ~1.7 MB as the UPDATE collects them; 1 MB of work_mem is too little.
    await s.execute("SET work_mem = '1MB'");
    const err = await s.execute("UPDATE acc SET bal = bal + 1").then(
      () => null,
      (e: unknown) => e,
    );
    await s.execute("RESET work_mem");
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).code).toBe("53200");
    expect((err as PgError).message).toMatch(/UPDATE needs more than the 1 MiB of working memory/);
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
});
