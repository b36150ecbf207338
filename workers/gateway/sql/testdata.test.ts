// The data-driven SQL tests (testing/testdata-runner.ts) over the in-memory KV, through the wire
// codec and the capability interface. Each file gets a fresh tenant on a fresh KV.
// testdata-storage-node.serial.test.ts runs the same files over a real storage node.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "./session.ts";
import { runTestdataFile, testdataFiles } from "./testing/testdata-runner.ts";

let nextTenant = 1000;
for (const [name, text] of testdataFiles()) {
  const tenantId = nextTenant++;
  describe(name, () => {
    it("matches", async () => {
      const failures = await runTestdataFile(name, text, memoryCapability(new MemoryKv()), tenantId);
      expect(failures.join("\n\n")).toBe("");
    });
  });
}

describe("describe (extended query protocol)", () => {
  it("infers parameter types and result columns without running the statement", async () => {
    const mem = new MemoryKv();
    const s = new Session({ kv: memoryCapability(mem), tenantId: 999 });
    await s.execute("CREATE TABLE d (id INT PRIMARY KEY, name TEXT, price NUMERIC(8,2))");
    const sel = await s.describe("SELECT name, price * 2 AS p FROM d WHERE id = $1 AND name LIKE $2");
    expect(sel.paramTypes).toEqual([23, 25]);
    expect(sel.fields.map((f) => [f.name, f.dataTypeID])).toEqual([["name", 25], ["p", 1700]]);
    const ins = await s.describe("INSERT INTO d VALUES ($1, $2, $3) RETURNING id", [20]);
    expect(ins.paramTypes).toEqual([20, 25, 1700]);
    expect(ins.fields.map((f) => f.name)).toEqual(["id"]);
    expect((await s.execute("SELECT count(*) FROM d"))[0]!.rows).toEqual([["0"]]);
    await expect(s.describe("SELECT * FROM missing")).rejects.toMatchObject({ code: "42P01" });
    expect(s.transactionStatus()).toBe("I");
    await s.execute("BEGIN");
    expect(s.transactionStatus()).toBe("T");
    await s.execute("SELECT 1/0").catch(() => undefined);
    expect(s.transactionStatus()).toBe("E");
    await s.execute("ROLLBACK");
    expect(s.transactionStatus()).toBe("I");
  });
});

describe("executeStreaming", () => {
  it("hands query rows to the sink in batches and returns the tag and count only", async () => {
    const s = new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 998 });
    await s.execute("CREATE TABLE st (id INT PRIMARY KEY)");
    await s.execute("INSERT INTO st SELECT g FROM generate_series(1, 3000) g");
    const batches: number[] = [];
    const r = await s.executeStreaming("SELECT id FROM st", [], async (fields, rows) => {
      expect(fields.map((f) => f.name)).toEqual(["id"]);
      batches.push(rows.length);
    });
    expect(r).toMatchObject({ command: "SELECT", rowCount: 3000, rows: [] });
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(3000);
    const ins = await s.executeStreaming("INSERT INTO st VALUES (5000) RETURNING id", [], async (_f, rows) => {
      expect(rows).toEqual([["5000"]]);
    });
    expect(ins).toMatchObject({ command: "INSERT", rowCount: 1 });
  });
});

describe("sealed transactions", () => {
  it("carries an open transaction to another session, JSON round trip included", async () => {
    const cap = memoryCapability(new MemoryKv());
    const a = new Session({ kv: cap, tenantId: 997 });
    await a.execute("CREATE TABLE h (id INT PRIMARY KEY, v INT)");
    await a.execute("INSERT INTO h VALUES (1, 10)");
    await a.execute("BEGIN");
    await a.execute("UPDATE h SET v = 11 WHERE id = 1");
    await a.execute("CREATE TABLE h2 (x INT)");
    await a.execute("INSERT INTO h2 VALUES (5)");
    const handle = JSON.parse(JSON.stringify(await a.sealTransaction()));
    expect(a.transactionStatus()).toBe("I");
    const b = new Session({ kv: cap, tenantId: 997 });
    await b.resumeTransaction(handle);
    expect((await b.execute("SELECT v FROM h WHERE id = 1"))[0]!.rows).toEqual([["11"]]);
    expect((await b.execute("SELECT x FROM h2"))[0]!.rows).toEqual([["5"]]);
    await b.execute("COMMIT");
    expect((await a.execute("SELECT v FROM h"))[0]!.rows).toEqual([["11"]]);
    expect((await a.execute("SELECT count(*) FROM h2"))[0]!.rows).toEqual([["1"]]);
    await expect(b.resumeTransaction({ ...handle, txn: { ...handle.txn, v: 2 } })).rejects.toMatchObject({ code: "25000" });
  });
});
