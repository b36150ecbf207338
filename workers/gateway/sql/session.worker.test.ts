// The whole engine inside workerd (the gateway isolate's runtime): DDL, writes, a join, an
// aggregate and a transaction over the in-memory KV behind the same capability interface.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "./session.ts";

describe("engine in workerd", () => {
  it("runs statements end to end", async () => {
    const s = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: 3 });
    await s.execute("CREATE TABLE a (id INT PRIMARY KEY, n NUMERIC(6,2), t TIMESTAMPTZ DEFAULT now())");
    await s.execute("CREATE TABLE b (id SERIAL PRIMARY KEY, a_id INT REFERENCES a (id), note TEXT)");
    await s.execute("BEGIN; INSERT INTO a (id, n) VALUES (1, 1.5), (2, 2.25); INSERT INTO b (a_id, note) VALUES (1, 'x'), (1, 'y'), (2, 'z'); COMMIT");
    const r = await s.execute("SELECT a.id, sum(a.n), count(b.id), string_agg(b.note, ',' ORDER BY b.note) FROM a JOIN b ON b.a_id = a.id GROUP BY a.id ORDER BY a.id");
    expect(r[0]!.rows).toEqual([["1", "3.00", "2", "x,y"], ["2", "2.25", "1", "z"]]);
    await expect(s.execute("INSERT INTO b (a_id) VALUES (9)")).rejects.toMatchObject({ code: "23503" });
    // Temporary tables live in the session's memory (kv/local-range.ts) and end with it.
    await s.execute("CREATE TEMP TABLE scratch (id SERIAL PRIMARY KEY, v TEXT) ON COMMIT PRESERVE ROWS");
    await s.execute("INSERT INTO scratch (v) SELECT note FROM b");
    expect((await s.execute("SELECT count(*), max(id) FROM scratch"))[0]!.rows).toEqual([["3", "3"]]);
    s.close();
    const again = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: 3 });
    await expect(again.execute("SELECT * FROM scratch")).rejects.toMatchObject({ code: "42P01" });
  });

  it("runs PL/pgSQL functions and triggers (the PL/pgSQL grammar of the same wasm module)", async () => {
    const s = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: 4 });
    await s.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT, n INT NOT NULL DEFAULT 0)");
    await s.execute(`CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.n := NEW.n + 1; RAISE NOTICE '% %', TG_OP, NEW.id; RETURN NEW; END $$`);
    await s.execute("CREATE TRIGGER t_bump BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION bump()");
    const ins = await s.execute("INSERT INTO t (id, v) VALUES (1, 'a')");
    expect(ins[0]!.notices?.map((n) => n.error.message)).toEqual(["INSERT 1"]);
    await s.execute(`CREATE FUNCTION total() RETURNS bigint LANGUAGE plpgsql AS $$ DECLARE r record; s bigint := 0; BEGIN FOR r IN SELECT n FROM t LOOP s := s + r.n; END LOOP; RETURN s; END $$`);
    await s.execute("UPDATE t SET v = 'b'");
    expect((await s.execute("SELECT total()"))[0]!.rows).toEqual([["2"]]);
    await expect(s.execute("CREATE FUNCTION bad() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$")).rejects.toMatchObject({ code: "42601" });
  });
});
