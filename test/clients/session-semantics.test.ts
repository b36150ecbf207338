// Session semantics that applications rely on, through real clients (psql and node-postgres),
// against the real local stack AND a scratch PostgreSQL 15: every scenario runs on both targets
// and must give the same answer, which is also written out literally (PG 15's output) so a change
// on both sides cannot pass unnoticed.
//
//   - an error inside BEGIN … COMMIT (a syntax error too) fails the transaction block: later
//     statements get 25P02, ReadyForQuery says E, COMMIT answers ROLLBACK, nothing is committed;
import { spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { startStack, type Stack } from "../harness/stack.ts";

interface Target {
  name: string;
  url: () => string;
}

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;
const targets: Target[] = [
  { name: "warren", url: () => stack!.demo.pg },
  { name: "postgres 15", url: () => postgres!.url },
];

beforeAll(async () => {
  [stack, postgres] = await Promise.all([startStack(), postgresAvailable() ? startPostgres() : Promise.resolve(undefined)]);
});

afterAll(async () => {
  await Promise.all([stack?.stop(), postgres?.stop()]);
});

/** psql as a user runs it: -X (no ~/.psqlrc), the script on stdin, stdout and stderr together. */
function psql(url: string, script: string, args: string[] = []): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [url, "-X", "-q", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PGCONNECT_TIMEOUT: "20" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(script);
  });
}

/** A pg Client that records the transaction status of every ReadyForQuery. */
async function pgClient(url: string): Promise<{ client: pg.Client; status: () => string }> {
  const client = new pg.Client({ connectionString: url });
  let status = "?";
  (client as unknown as { connection: { on(e: string, f: (m: { status: string }) => void): void } }).connection.on("readyForQuery", (m) => (status = m.status));
  await client.connect();
  return { client, status: () => status };
}

async function sqlState(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? `no SQLSTATE: ${String(err)}`;
  }
  return "no error";
}

/** A table name per target and test, so runs never see each other's rows. */
let tableSeq = 0;
function tableName(prefix: string): string {
  return `${prefix}_${process.pid}_${++tableSeq}`;
}

describe.each(targets)("a syntax error inside BEGIN … COMMIT ($name)", (target) => {
  it("psql: later statements get 25P02, COMMIT rolls back, no row is committed", async (ctx) => {
    if (target.name === "postgres 15" && postgres === undefined) ctx.skip();
    const t = tableName("syn_psql");
    const r = await psql(
      target.url(),
      [`create table ${t} (id int);`, "begin;", `insert into ${t} values (1);`, "INVALID SQL;", `insert into ${t} values (2);`, "commit;", `select count(*) from ${t};`].join("\n"),
      ["-At"],
    );
    expect(r.out).toBe(
      [
        'ERROR:  syntax error at or near "INVALID"',
        "LINE 1: INVALID SQL;",
        "        ^",
        "ERROR:  current transaction is aborted, commands ignored until end of transaction block",
        "0",
        "",
      ].join("\n"),
    );
  });

  it("pg: ReadyForQuery says E, later statements get 25P02, COMMIT answers ROLLBACK, nothing committed", async (ctx) => {
    if (target.name === "postgres 15" && postgres === undefined) ctx.skip();
    const t = tableName("syn_pg");
    const { client, status } = await pgClient(target.url());
    try {
      await client.query(`create table ${t} (id int)`);
      await client.query("begin");
      await client.query(`insert into ${t} values ($1)`, [1]);
      expect(status()).toBe("T");
      expect(await sqlState(client.query("INVALID SQL"))).toBe("42601");
      expect(status()).toBe("E");
      // Through the extended protocol too: a Parse error fails the block the same way.
      expect(await sqlState(client.query(`insert into ${t} values ($1)`, [2]))).toBe("25P02");
      expect(await sqlState(client.query({ text: "selec $1", values: [1] }))).toBe("42601");
      expect(status()).toBe("E");
      const commit = await client.query("commit");
      expect(commit.command).toBe("ROLLBACK");
      expect(status()).toBe("I");
      expect((await client.query(`select count(*)::int as n from ${t}`)).rows).toEqual([{ n: 0 }]);
      // A prepared statement name whose Parse failed can be prepared again.
      expect(await sqlState(client.query({ name: "again", text: `select * from ${t}_missing` }))).toBe("42P01");
      expect((await client.query({ name: "again", text: "select 1 as one" })).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });
});
