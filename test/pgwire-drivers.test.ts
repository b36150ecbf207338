// Node drivers over the Postgres wire protocol, end to end against `warren dev`:
//   node-postgres (`pg`)            through the tunnel: parameters ($1 …) via the extended protocol, a transaction
//   postgres.js (`postgres`)         through the tunnel: named prepared statements (Parse/Describe/Flush), sql.begin, an error
//   @neondatabase/serverless         straight to ws://…/v2 (no tunnel): Pool/Client with an interactive transaction,
//                                    with pipelined cleartext login (its default) and with SCRAM
import { neonConfig, Pool as NeonPool } from "@neondatabase/serverless";
import pg from "pg";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { startStack, type Stack } from "./harness/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

async function pgError(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error("expected an error");
}

describe("node-postgres (pg) through the tunnel", () => {
  it("runs parameterized queries and a transaction", async () => {
    const c = new pg.Client({ connectionString: stack.demo.pg });
    await c.connect();
    try {
      await c.query("create table pg_items (id int primary key, name text, qty int)");
      const ins = await c.query("insert into pg_items values ($1, $2, $3), ($4, $5, $6)", [1, "bolt", 10, 2, "nut", null]);
      expect(ins.command).toBe("INSERT");
      expect(ins.rowCount).toBe(2);
      const sel = await c.query("select id, name, qty from pg_items where id = $1", [1]);
      expect(sel.rows).toEqual([{ id: 1, name: "bolt", qty: 10 }]);
      expect(sel.fields.map((f) => f.dataTypeID)).toEqual([23, 25, 23]);

      await c.query("begin");
      await c.query("update pg_items set qty = qty - $1 where id = $2", [3, 1]);
      await c.query("insert into pg_items values ($1, $2, $3)", [3, "washer", 100]);
      await c.query("commit");
      await c.query("begin");
      await c.query("delete from pg_items where id = $1", [3]);
      await c.query("rollback");
      const all = await c.query({ text: "select id, qty from pg_items order by id", rowMode: "array" });
      expect(all.rows).toEqual([[1, 7], [2, null], [3, 100]]);

      const named = { name: "by-id", text: "select name from pg_items where id = $1" };
      expect((await c.query({ ...named, values: [2] })).rows).toEqual([{ name: "nut" }]);
      expect((await c.query({ ...named, values: [3] })).rows).toEqual([{ name: "washer" }]);

      const err = await pgError(c.query("select $1::int / 0", [1]));
      expect(err.code).toBe("22012");
      // The connection is still usable after an error in the extended protocol.
      expect((await c.query("select $1::text as t", ["still here"])).rows).toEqual([{ t: "still here" }]);
    } finally {
      await c.end();
    }
  });

  it("sees 28P01, 3D000 and 57P03 as SQLSTATEs at connect", async () => {
    const bad = new pg.Client({ connectionString: withPassword(stack.demo.pg, "not-the-password") });
    expect((await pgError(bad.connect())).code).toBe("28P01");
    const unknown = new pg.Client({ connectionString: stack.demo.pg.replace("warren.demo", "warren.nosuchcluster") });
    expect((await pgError(unknown.connect())).code).toBe("3D000");
    const t = await stack.createTenant("sleepy", "sleepy-password-1");
    const res = await fetch(`${stack.admin.url}/admin/tenants/sleepy`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "suspended" }),
    });
    expect(res.status).toBe(200);
    const suspended = new pg.Client({ connectionString: t.pg });
    expect((await pgError(suspended.connect())).code).toBe("57P03");
  });
});

describe("postgres.js through the tunnel", () => {
  it("runs parameterized queries, a transaction and reports an error's fields", async () => {
    // fetch_types: postgres.js reads pg_catalog.pg_type on connect, which the SQL layer does not have yet.
    const sql = postgres(stack.demo.pg, { max: 1, fetch_types: false, onnotice: () => {} });
    try {
      await sql`create table pj_notes (id int primary key, body text not null)`;
      await sql`insert into pj_notes values (${1}, ${"first"}), (${2}, ${"second"})`;
      expect(await sql`select body from pj_notes where id = ${2}`).toEqual([{ body: "second" }]);
      // Described before it runs (Parse + Describe S + Flush), with RETURNING's columns.
      expect(await sql`insert into pj_notes values (${9}, ${"ninth"}) returning id, body`).toEqual([{ id: 9, body: "ninth" }]);
      await sql`delete from pj_notes where id = ${9}`;
      const count = await sql.begin(async (tx) => {
        await tx`insert into pj_notes values (${3}, ${"third"})`;
        await tx`update pj_notes set body = ${"FIRST"} where id = ${1}`;
        const rows = await tx`select count(*)::int as n from pj_notes`;
        return rows[0]?.["n"] as number;
      });
      expect(count).toBe(3);
      await expect(
        sql.begin(async (tx) => {
          await tx`insert into pj_notes values (${4}, ${"fourth"})`;
          throw new Error("client changed its mind");
        }),
      ).rejects.toThrow("client changed its mind");
      expect(await sql`select id, body from pj_notes order by id`).toEqual([
        { id: 1, body: "FIRST" },
        { id: 2, body: "second" },
        { id: 3, body: "third" },
      ]);
      const err = (await pgError(sql`insert into pj_notes values (${1}, ${"dup"})`)) as { code?: string; constraint_name?: string };
      expect(err.code).toBe("23505");
      const missing = (await pgError(sql`select * from pj_missing where id = ${1}`)) as { code?: string; position?: string };
      expect(missing.code).toBe("42P01");
      expect(Number(missing.position)).toBeGreaterThan(0);
    } finally {
      await sql.end();
    }
  });
});

describe("@neondatabase/serverless over WebSocket to /v2", () => {
  for (const mode of ["password", false] as const) {
    it(`Pool and Client with an interactive transaction (pipelineConnect=${String(mode)})`, async () => {
      const http = new URL(stack.http);
      neonConfig.webSocketConstructor = ws;
      neonConfig.wsProxy = () => `${http.host}/v2`;
      neonConfig.useSecureWebSocket = false;
      neonConfig.forceDisablePgSSL = true;
      neonConfig.pipelineConnect = mode;
      const table = `neon_acct_${mode === false ? "scram" : "pw"}`;
      const pool = new NeonPool({ connectionString: stack.demo.pg.replace("?sslmode=disable", "") });
      try {
        await pool.query(`create table ${table} (id int primary key, balance int not null)`);
        await pool.query(`insert into ${table} values (1, 100), (2, 0)`);
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const [{ balance }] = (await client.query(`select balance from ${table} where id = $1`, [1])).rows;
          await client.query(`update ${table} set balance = $1 where id = 1`, [balance - 40]);
          await client.query(`update ${table} set balance = balance + $1 where id = 2`, [40]);
          await client.query("COMMIT");
          await client.query("BEGIN");
          await client.query(`update ${table} set balance = 0`);
          await client.query("ROLLBACK");
        } finally {
          client.release();
        }
        const rows = (await pool.query(`select id, balance from ${table} order by id`)).rows;
        expect(rows).toEqual([
          { id: 1, balance: 60 },
          { id: 2, balance: 40 },
        ]);
        const err = await pgError(pool.query(`insert into ${table} values ($1, $2)`, [1, 5]));
        expect(err.code).toBe("23505");
      } finally {
        await pool.end();
      }
    });
  }

  it("refuses a wrong password with 28P01 in both login modes", async () => {
    const http = new URL(stack.http);
    neonConfig.webSocketConstructor = ws;
    neonConfig.wsProxy = () => `${http.host}/v2`;
    neonConfig.useSecureWebSocket = false;
    for (const mode of ["password", false] as const) {
      neonConfig.pipelineConnect = mode;
      const pool = new NeonPool({ connectionString: withPassword(stack.demo.pg, "wrong-password-1").replace("?sslmode=disable", "") });
      pool.on("error", () => {});
      const err = await pgError(pool.query("select 1"));
      expect(err.code).toBe("28P01");
      await pool.end().catch(() => undefined);
    }
  });
});
