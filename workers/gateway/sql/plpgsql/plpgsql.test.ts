// The PL/pgSQL interpreter's bounds, at their edges, and the forms it refuses with 0A000. What a
// client sees of working functions and triggers is in testdata/plpgsql.test and triggers.test
// (expectations from PostgreSQL 15); these cases are Warren's own limits, which PostgreSQL sets
// differently (max_stack_depth) or not at all.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../../kv/memory-kv.ts";
import { sqlLimits } from "../limits.ts";
import { Session } from "../session.ts";

function session(tenantId: number): Session {
  return new Session({ kv: memoryCapability(new MemoryKv()), tenantId, statementTimeoutMsDefault: 120_000 });
}

async function rows(s: Session, sql: string): Promise<Array<Array<string | null>>> {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows;
}

describe("call depth (sqlLimits.plpgsqlCallDepthMax)", () => {
  const max = sqlLimits.plpgsqlCallDepthMax;

  it("runs a recursion exactly as deep as the limit and refuses one call deeper with 54001", async () => {
    const s = session(301);
    await s.execute(`CREATE FUNCTION down(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN IF n <= 1 THEN RETURN 1; END IF; RETURN 1 + down(n - 1); END $$`);
    expect(await rows(s, `SELECT down(${max})`)).toEqual([[String(max)]]);
    await expect(s.execute(`SELECT down(${max + 1})`)).rejects.toMatchObject({ code: "54001", message: "stack depth limit exceeded" });
    // The session goes on.
    expect(await rows(s, "SELECT down(3)")).toEqual([["3"]]);
  });

  it("counts triggers that write tables with triggers, and the failed statement writes nothing", async () => {
    const s = session(302);
    await s.execute("CREATE TABLE chain (n int PRIMARY KEY)");
    await s.execute(`CREATE FUNCTION next_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.n > 1 THEN INSERT INTO chain VALUES (NEW.n - 1); END IF; RETURN NEW; END $$`);
    await s.execute("CREATE TRIGGER link AFTER INSERT ON chain FOR EACH ROW EXECUTE FUNCTION next_link()");
    await s.execute(`INSERT INTO chain VALUES (${max})`);
    expect(await rows(s, "SELECT count(*), min(n), max(n) FROM chain")).toEqual([[String(max), "1", String(max)]]);
    await s.execute("DELETE FROM chain");
    await expect(s.execute(`INSERT INTO chain VALUES (${max + 1})`)).rejects.toMatchObject({ code: "54001" });
    expect(await rows(s, "SELECT count(*) FROM chain")).toEqual([["0"]]);
  });
});

describe("triggers per table (sqlLimits.triggersPerTableMax)", () => {
  it("accepts the last trigger within the limit and refuses the next with 54000, changing nothing", async () => {
    const s = session(308);
    const max = sqlLimits.triggersPerTableMax;
    await s.execute("CREATE TABLE many (a int)");
    await s.execute(`CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    const creates = Array.from({ length: max }, (_, i) => `CREATE TRIGGER t${i} BEFORE INSERT ON many FOR EACH ROW EXECUTE FUNCTION noop();`);
    await s.execute(creates.join("\n"));
    expect(await rows(s, "SELECT count(*) FROM pg_trigger")).toEqual([[String(max)]]);
    await expect(s.execute("CREATE TRIGGER one_more BEFORE INSERT ON many FOR EACH ROW EXECUTE FUNCTION noop()")).rejects.toMatchObject({ code: "54000" });
    // Replacing an existing trigger at the limit is not a new one.
    await s.execute("CREATE OR REPLACE TRIGGER t0 AFTER INSERT ON many FOR EACH ROW EXECUTE FUNCTION noop()");
    expect(await rows(s, "SELECT count(*) FROM pg_trigger")).toEqual([[String(max)]]);
  });
});

describe("statement budget", () => {
  it("ends an endless loop at statement_timeout with 57014, which EXCEPTION WHEN OTHERS does not catch", async () => {
    const s = session(303);
    await s.execute(`CREATE FUNCTION spin() RETURNS int LANGUAGE plpgsql AS $$ DECLARE i bigint := 0; BEGIN LOOP i := i + 1; END LOOP; EXCEPTION WHEN OTHERS THEN RETURN -1; END $$`);
    await s.execute("SET statement_timeout = '300ms'");
    await expect(s.execute("SELECT spin()")).rejects.toMatchObject({ code: "57014", message: "canceling statement due to statement timeout" });
    await s.execute("SET statement_timeout = 0");
    expect(await rows(s, "SELECT 1")).toEqual([["1"]]);
  });

  it("ends a running function on cancel()", async () => {
    const s = session(304);
    await s.execute(`CREATE FUNCTION spin() RETURNS int LANGUAGE plpgsql AS $$ BEGIN WHILE true LOOP PERFORM 1; END LOOP; END $$`);
    const running = s.execute("SELECT spin()").then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(s.cancel()).toBe(true);
    expect(await running).toMatchObject({ code: "57014", message: "canceling statement due to user request" });
  });
});

describe("notices (sqlLimits.noticesPerStatementMax)", () => {
  it("keeps the first noticesPerStatementMax notices of a statement", async () => {
    const s = session(305);
    const max = sqlLimits.noticesPerStatementMax;
    await s.execute(`CREATE FUNCTION talk(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..n LOOP RAISE NOTICE 'n%', i; END LOOP; RETURN n; END $$`);
    const atMax = await s.execute(`SELECT talk(${max})`);
    expect(atMax[0]!.notices?.length).toBe(max);
    const past = await s.execute(`SELECT talk(${max + 1})`);
    expect(past[0]!.notices?.length).toBe(max);
    expect(past[0]!.notices?.[max - 1]?.error.message).toBe(`n${max}`);
  });
});

describe("exception blocks", () => {
  it("undo the block's writes and keep the ones before it, inside an explicit transaction too", async () => {
    const s = session(306);
    await s.execute("CREATE TABLE w (id int PRIMARY KEY)");
    await s.execute(`CREATE FUNCTION try_insert(a int, b int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO w VALUES (a);
  BEGIN
    INSERT INTO w VALUES (b);
    INSERT INTO w VALUES (b + 1000);
    PERFORM 1 / (b - b);
  EXCEPTION WHEN division_by_zero THEN
    RETURN 'undone';
  END;
  RETURN 'kept';
END $$`);
    await s.execute("BEGIN");
    expect(await rows(s, "SELECT try_insert(1, 2)")).toEqual([["undone"]]);
    expect(await rows(s, "SELECT id FROM w ORDER BY id")).toEqual([["1"]]);
    await s.execute("COMMIT");
    expect(await rows(s, "SELECT id FROM w ORDER BY id")).toEqual([["1"]]);
  });
});

describe("not supported: 0A000, and nothing changes", () => {
  const s = session(307);
  const cases: Array<[string, string]> = [
    ["a statement trigger", "CREATE TRIGGER x AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION trg()"],
    ["an INSTEAD OF trigger", "CREATE TRIGGER x INSTEAD OF INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()"],
    ["UPDATE OF columns", "CREATE TRIGGER x BEFORE UPDATE OF a ON t FOR EACH ROW EXECUTE FUNCTION trg()"],
    ["a WHEN condition", "CREATE TRIGGER x BEFORE UPDATE ON t FOR EACH ROW WHEN (NEW.a > 0) EXECUTE FUNCTION trg()"],
    ["a TRUNCATE trigger", "CREATE TRIGGER x BEFORE TRUNCATE ON t EXECUTE FUNCTION trg()"],
    ["a set-returning function", "CREATE FUNCTION f_set() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN NEXT 1; END $$"],
    ["a cursor", "SELECT f_cursor()"],
    ["dynamic EXECUTE", "SELECT f_exec()"],
    ["a %TYPE declaration", "SELECT f_type()"],
  ];
  it.each(cases)("%s", async (_what, sql) => {
    await s.execute("CREATE TABLE IF NOT EXISTS t (a int)");
    await s.execute(`CREATE OR REPLACE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    await s.execute(`CREATE OR REPLACE FUNCTION f_cursor() RETURNS int LANGUAGE plpgsql AS $$ DECLARE c refcursor; BEGIN INSERT INTO t VALUES (1); OPEN c FOR SELECT 1; RETURN 1; END $$`);
    await s.execute(`CREATE OR REPLACE FUNCTION f_exec() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); EXECUTE 'SELECT 1'; RETURN 1; END $$`);
    await s.execute(`CREATE OR REPLACE FUNCTION f_type() RETURNS int LANGUAGE plpgsql AS $$ DECLARE x t.a%TYPE; BEGIN RETURN 1; END $$`);
    await expect(s.execute(sql)).rejects.toMatchObject({ code: "0A000" });
    expect(await rows(s, "SELECT count(*) FROM t")).toEqual([["0"]]);
    expect(await rows(s, "SELECT count(*) FROM pg_trigger")).toEqual([["0"]]);
  });
});
