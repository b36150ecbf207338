// Values on the wire that drivers send and read without the application noticing the format,
// against the local stack AND a scratch PostgreSQL 15: each scenario runs on both and must give the
// same answer, which is also written out literally (PG 15's answer).
//   - node-postgres sends a Buffer parameter in binary format with no declared type: into a text
//     column an empty one is '' (not NULL, not an error), a non-empty one its bytes as UTF-8;
//   - results in binary format (node-postgres `binary: true`) for arrays of every element kind
//     the engine has, NULL elements included: array_send read back by pg-types' binary parsers.
import pg from "pg";
import postgresJs from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { startStack, type Stack } from "../harness/stack.ts";

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;
const targets = [
  { name: "warren", url: () => stack!.demo.pg },
  { name: "postgres 15", url: () => postgres!.url },
];

beforeAll(async () => {
  [stack, postgres] = await Promise.all([startStack(), postgresAvailable() ? startPostgres() : Promise.resolve(undefined)]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), postgres?.stop()]);
});

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

describe.each(targets)("$name", ({ name, url }) => {
  it("a Buffer parameter (binary, untyped) into a text column: empty is '', bytes are their UTF-8 text", async (ctx) => {
    if (name === "postgres 15" && postgres === undefined) ctx.skip();
    const rows = await withClient(url(), async (c) => {
      await c.query("drop table if exists wv_text");
      await c.query("create table wv_text (id int primary key, s text)");
      await c.query("insert into wv_text values (1, $1), (2, $2)", [Buffer.alloc(0), Buffer.from("héllo")]);
      return (await c.query("select id, s, s is null as isnull, length(s) as len from wv_text order by id")).rows;
    });
    expect(rows).toEqual([
      { id: 1, s: "", isnull: false, len: 0 },
      { id: 2, s: "héllo", isnull: false, len: 5 },
    ]);
  });

  it("postgres.js sends a Buffer as a bytea parameter: into a text column it is the bytea's text form", async (ctx) => {
    if (name === "postgres 15" && postgres === undefined) ctx.skip();
    const sql = postgresJs(url(), { max: 1, onnotice: () => {} });
    try {
      await sql`drop table if exists wv_text_js`;
      await sql`create table wv_text_js (id int primary key, s text, b bytea)`;
      await sql`insert into wv_text_js values (1, ${Buffer.alloc(0)}, ${Buffer.alloc(0)}), (2, ${Buffer.from("ab")}, ${Buffer.from("ab")})`;
      const rows = await sql`select id, s, length(b) as blen from wv_text_js order by id`;
      // An I/O conversion to a string type is an assignment cast in PostgreSQL: bytea → text is its hex form.
      expect(rows.map((r) => ({ ...r }))).toEqual([
        { id: 1, s: "\\x", blen: 0 },
        { id: 2, s: "\\x6162", blen: 2 },
      ]);
    } finally {
      await sql.end();
    }
  });

  it("arrays in binary result format read back as in text format", async (ctx) => {
    if (name === "postgres 15" && postgres === undefined) ctx.skip();
    const sql =
      "select array[1,null,3]::int4[] as i4, array[10000000000,-1]::int8[] as i8, array[1,2]::int2[] as i2," +
      " array['a b',null,'']::text[] as t, array[true,false,null]::bool[] as b, array[1.5,-2.25]::float8[] as f8," +
      " '{}'::int4[] as empty";
    const [textRows, binaryRows] = await withClient(url(), async (c) => [
      (await c.query(sql)).rows,
      (await c.query({ text: sql, binary: true } as pg.QueryConfig)).rows,
    ]);
    const expected = {
      i4: [1, null, 3],
      i8: ["10000000000", "-1"],
      i2: [1, 2],
      t: ["a b", null, ""],
      b: [true, false, null],
      f8: [1.5, -2.25],
      empty: [],
    };
    expect(textRows).toEqual([expected]);
    expect(binaryRows).toEqual([expected]);
  });
});
