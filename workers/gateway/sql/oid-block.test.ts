// The OID block of a table (catalog/oids.ts): its indexes and constraints get OIDs from a fixed
// range per descriptor, so the limits that keep them inside it are checked at their edge, and the
// OIDs a client sees for indexes, constraints and enum labels never coincide.
import { describe, expect, it } from "vitest";
import { CONSTRAINTS_PER_TABLE_MAX, ENUM_LABELS_MAX, INDEX_ID_MAX } from "../catalog/oids.ts";
import { memoryCapability, MemoryKv } from "../kv/memory-kv.ts";
import { sqlLimits } from "./limits.ts";
import { Session } from "./session.ts";

let tenant = 7_500;
const session = (): Session => new Session({ kv: memoryCapability(new MemoryKv()), tenantId: tenant++ });
const rows = async (s: Session, sql: string): Promise<Array<Array<string | null>>> => {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows;
};

describe("OID blocks", () => {
  it("the SQL limits repeat the block layout of catalog/oids.ts exactly", () => {
    expect([sqlLimits.indexIdMax, sqlLimits.constraintsPerTableMax, sqlLimits.enumLabelsMax]).toEqual([INDEX_ID_MAX, CONSTRAINTS_PER_TABLE_MAX, ENUM_LABELS_MAX]);
  });

  it(`a table may use index ids up to ${sqlLimits.indexIdMax}; the next CREATE INDEX gets 54000 and changes nothing`, async () => {
    const s = session();
    await s.execute("CREATE TABLE t (a INT PRIMARY KEY, b INT)"); // the primary index is id 1
    // Dropped indexes do not give their ids back: create and drop up to the last free id.
    const batch: string[] = [];
    for (let id = 2; id < sqlLimits.indexIdMax; id++) batch.push(`CREATE INDEX i${id} ON t (b); DROP INDEX i${id};`);
    await s.execute(batch.join("\n"));
    await s.execute("CREATE INDEX last_one ON t (b)"); // id indexIdMax
    await expect(s.execute("CREATE INDEX one_more ON t (b)")).rejects.toMatchObject({ code: "54000", message: `table "t" has used all ${sqlLimits.indexIdMax} index ids` });
    expect(await rows(s, "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 't'::regclass ORDER BY 1")).toEqual([["last_one"], ["t_pkey"]]);
  }, 120_000);

  it(`a table may hold ${sqlLimits.constraintsPerTableMax} constraints, not one more`, async () => {
    const s = session();
    const checks = (n: number): string => Array.from({ length: n }, (_, i) => `CONSTRAINT c${i} CHECK (a <> ${i})`).join(", ");
    // The primary key is a constraint too.
    await s.execute(`CREATE TABLE ok (a INT PRIMARY KEY, ${checks(sqlLimits.constraintsPerTableMax - 1)})`);
    expect(await rows(s, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'ok'::regclass")).toEqual([[String(sqlLimits.constraintsPerTableMax)]]);
    await expect(s.execute("ALTER TABLE ok ADD CONSTRAINT extra CHECK (a > -1)")).rejects.toMatchObject({ code: "54000" });
    await expect(s.execute(`CREATE TABLE too_many (a INT PRIMARY KEY, ${checks(sqlLimits.constraintsPerTableMax)})`)).rejects.toMatchObject({ code: "54000" });
    expect(await rows(s, "SELECT count(*) FROM pg_class WHERE relname = 'too_many'")).toEqual([["0"]]);
  }, 60_000);

  it("index, constraint, relation and enum label OIDs are distinct, for stored and temporary tables", async () => {
    const s = session();
    await s.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
    await s.execute("CREATE TABLE st (a INT PRIMARY KEY, b INT UNIQUE CHECK (b > 0))");
    await s.execute("CREATE INDEX ON st (b)");
    await s.execute("CREATE TEMP TABLE tt (a INT PRIMARY KEY, b INT UNIQUE CHECK (b > 0))");
    await s.execute("CREATE INDEX ON tt (b)");
    const oids = await rows(
      s,
      `SELECT oid::bigint FROM pg_class WHERE relname IN ('st', 'tt') OR relname LIKE 'st\\_%' OR relname LIKE 'tt\\_%'
       UNION ALL SELECT oid::bigint FROM pg_constraint WHERE conrelid IN ('st'::regclass, 'tt'::regclass)
       UNION ALL SELECT oid::bigint FROM pg_enum UNION ALL SELECT oid::bigint FROM pg_type WHERE typname = 'mood'`,
    );
    const values = oids.map((r) => Number(r[0]));
    expect(values.length).toBe(2 + 3 * 2 + 3 * 2 + 3 + 1); // 2 tables, 3 indexes and 3 constraints each, 3 labels, the type
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(v).toBeLessThan(2 ** 32);
    // regclass of an index OID is the index, of a constraint OID nothing of ours.
    expect(await rows(s, "SELECT conindid::regclass::text FROM pg_constraint WHERE conname = 'tt_b_key'")).toEqual([["tt_b_key"]]);
  });
});
