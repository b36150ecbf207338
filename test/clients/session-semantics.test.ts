// Session semantics that applications rely on, through real clients (psql and node-postgres),
// against the real local stack AND a scratch PostgreSQL 15: every scenario runs on both targets
// and must give the same answer, which is also written out literally (PG 15's output) so a change
// on both sides cannot pass unnoticed.
//
//   - an error inside BEGIN … COMMIT (a syntax error too) fails the transaction block: later
//     statements get 25P02, ReadyForQuery says E (pg's readyForQuery, psql's %x prompt on a
//     terminal), COMMIT answers ROLLBACK, nothing is committed;
//   - CREATE TEMP TABLE makes a temporary table: relpersistence t in the session's pg_temp_N
//     schema (psql's \dt lists it there), unknown to every other session while its own is
//     connected, gone when its session disconnects (nothing of it left in pg_class; its name is
//     free for a stored table afterwards).
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

/**
 * A pg Client and the transaction status of the latest ReadyForQuery. pg settles a failed query at
 * its ErrorResponse, possibly before the ReadyForQuery behind it arrived: status() waits for it.
 */
async function pgClient(url: string): Promise<{ client: pg.Client; status: () => Promise<string> }> {
  const client = new pg.Client({ connectionString: url });
  let status = "?";
  let ready = 0;
  (client as unknown as { connection: { on(e: string, f: (m: { status: string }) => void): void } }).connection.on("readyForQuery", (m) => {
    status = m.status;
    ready++;
  });
  const origQuery = client.query.bind(client) as (...a: unknown[]) => unknown;
  let sent = 0;
  (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    sent++;
    return origQuery(...a);
  };
  await client.connect();
  const base = ready;
  return {
    client,
    status: async () => {
      // Every query sent so far ends with one ReadyForQuery.
      for (let i = 0; i < 200 && ready - base < sent; i++) await new Promise((r) => setTimeout(r, 5));
      return status;
    },
  };
}

/**
 * psql on a pseudo-terminal (util-linux `script`), as a user types into it, with the prompt set to
 * `<%x>`: psql's %x is the transaction status of the last ReadyForQuery ("" idle, "*" in a
 * transaction block, "!" failed, i.e. E). send() types one line and resolves with the %x of the
 * prompt that follows it. `exec`: see cancel-clients.test.ts (dash would stay as psql's parent).
 */
function interactivePsql(url: string): { send(line: string): Promise<string>; output(): string; quit(): Promise<number | null> } {
  const child = spawn("script", ["-q", "-e", "-c", `exec psql '${url}' -X -v 'PROMPT1=<%x>' -v 'PROMPT2=' `, "/dev/null"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, SHELL: "/bin/sh", TERM: "dumb", PAGER: "cat", PGCONNECT_TIMEOUT: "20" },
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const prompts = () => [...out.matchAll(/<([*!?]?)>/g)].map((m) => m[1]!);
  const nextPrompt = async (seen: number): Promise<string> => {
    for (let i = 0; i < 600 && prompts().length <= seen; i++) await new Promise((r) => setTimeout(r, 50));
    const all = prompts();
    if (all.length <= seen) throw new Error(`psql showed no prompt within 30 s:\n${out}`);
    return all[all.length - 1]!;
  };
  const started = nextPrompt(0);
  return {
    async send(line) {
      await started;
      const seen = prompts().length;
      child.stdin.write(`${line}\n`);
      return nextPrompt(seen);
    },
    output: () => out,
    async quit() {
      await started;
      child.stdin.write("\\q\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
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

  it("psql: the prompt's %x shows the failed transaction (E) until COMMIT, which answers ROLLBACK", async (ctx) => {
    if (target.name === "postgres 15" && postgres === undefined) ctx.skip();
    const t = tableName("syn_tty");
    const p = interactivePsql(target.url());
    const status: string[] = [];
    for (const line of [`create table ${t} (id int);`, "begin;", `insert into ${t} values (1);`, "INVALID SQL;", `insert into ${t} values (2);`, "\\echo :SQLSTATE", "commit;", `select count(*) as n from ${t};`]) {
      status.push(await p.send(line));
    }
    expect(await p.quit()).toBe(0);
    expect(status).toEqual(["", "*", "*", "!", "!", "!", "", ""]);
    // The whole session after psql's banner, as PostgreSQL 15 prints it.
    const transcript = p.output().replace(/\r\n/g, "\n");
    expect(transcript.slice(transcript.indexOf("<>create"))).toBe(
      [
        `<>create table ${t} (id int);`, "CREATE TABLE",
        "<>begin;", "BEGIN",
        `<*>insert into ${t} values (1);`, "INSERT 0 1",
        "<*>INVALID SQL;", 'ERROR:  syntax error at or near "INVALID"', "LINE 1: INVALID SQL;", "        ^",
        `<!>insert into ${t} values (2);`, "ERROR:  current transaction is aborted, commands ignored until end of transaction block",
        "<!>\\echo :SQLSTATE", "25P02",
        "<!>commit;", "ROLLBACK",
        `<>select count(*) as n from ${t};`, " n ", "---", " 0", "(1 row)", "",
        "<>\\q", "",
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
      expect(await status()).toBe("T");
      expect(await sqlState(client.query("INVALID SQL"))).toBe("42601");
      expect(await status()).toBe("E");
      // Through the extended protocol too: a Parse error fails the block the same way.
      expect(await sqlState(client.query(`insert into ${t} values ($1)`, [2]))).toBe("25P02");
      expect(await sqlState(client.query({ text: "selec $1", values: [1] }))).toBe("42601");
      expect(await status()).toBe("E");
      const commit = await client.query("commit");
      expect(commit.command).toBe("ROLLBACK");
      expect(await status()).toBe("I");
      expect((await client.query(`select count(*)::int as n from ${t}`)).rows).toEqual([{ n: 0 }]);
      // A prepared statement name whose Parse failed can be prepared again.
      expect(await sqlState(client.query({ name: "again", text: `select * from ${t}_missing` }))).toBe("42P01");
      expect((await client.query({ name: "again", text: "select 1 as one" })).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });
});

describe.each(targets)("temporary tables ($name)", (target) => {
  it("psql: in pg_temp_N with relpersistence t, listed by \\dt, unknown to another session", async (ctx) => {
    if (target.name === "postgres 15" && postgres === undefined) ctx.skip();
    const t = tableName("tmp_psql");
    const a = await psql(
      target.url(),
      [
        `create temp table ${t} (id int primary key, v text);`,
        `insert into ${t} values (1, 'one');`,
        `select id, v from ${t};`,
        `select c.relpersistence, n.nspname ~ '^pg_temp_[0-9]+$' as in_temp_schema from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = '${t}';`,
        "\\dt",
      ].join("\n"),
      ["-A", "-F", "|"],
    );
    const lines = a.out.split("\n");
    expect(lines.slice(0, 6)).toEqual(["id|v", "1|one", "(1 row)", "relpersistence|in_temp_schema", "t|t", "(1 row)"]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^pg_temp_\\d+\\|${t}\\|table\\|`)));
    const b = await psql(target.url(), `select * from ${t};`);
    expect(b.out).toBe(`ERROR:  relation "${t}" does not exist\nLINE 1: select * from ${t};\n                      ^\n`);
  });

  it("psql: invisible to a second psql while the first is connected, gone from pg_class once it disconnects", async (ctx) => {
    if (target.name === "postgres 15" && postgres === undefined) ctx.skip();
    const t = tableName("tmp_tty");
    const a = interactivePsql(target.url());
    await a.send(`create temp table ${t} (id int);`);
    await a.send(`insert into ${t} values (1);`);
    await a.send(`select 'rows=' || count(*) from ${t};`);
    expect(a.output()).toContain("rows=1");
    // A second session while the first is still connected: the name means nothing to it.
    const b = await psql(target.url(), `select * from ${t};`);
    expect(b.out).toBe(`ERROR:  relation "${t}" does not exist\nLINE 1: select * from ${t};\n                      ^\n`);
    expect(await a.quit()).toBe(0);
    // PostgreSQL drops a session's temporary tables as its backend exits, just after the client
    // has gone: wait for that (up to 10 s) before asking again.
    let left = "";
    for (let i = 0; i < 100; i++) {
      left = (await psql(target.url(), `select count(*) from pg_class where relname = '${t}';`, ["-At"])).out;
      if (left === "0\n") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(left).toBe("0\n");
  });

  it("pg: unknown to a second session, gone after disconnect, ON COMMIT DROP / DELETE ROWS", async (ctx) => {
    if (target.name === "postgres 15" && postgres === undefined) ctx.skip();
    const t = tableName("tmp_pg");
    const a = await pgClient(target.url());
    const b = await pgClient(target.url());
    let tempSchema = "";
    try {
      await a.client.query(`create temp table ${t} (id serial primary key, v text)`);
      await a.client.query(`insert into ${t} (v) values ($1), ($2)`, ["x", "y"]);
      tempSchema = (await a.client.query("select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = $1", [t])).rows[0].nspname;
      expect(tempSchema).toMatch(/^pg_temp_\d+$/);
      expect((await a.client.query(`select id, v from ${t} order by id`)).rows).toEqual([{ id: 1, v: "x" }, { id: 2, v: "y" }]);
      expect(await sqlState(b.client.query(`select * from ${t}`))).toBe("42P01");
      expect(await sqlState(b.client.query(`insert into ${t} (v) values ('z')`))).toBe("42P01");
      // ON COMMIT DELETE ROWS empties at every commit; ON COMMIT DROP drops at the end of the transaction.
      await a.client.query(`create temp table ${t}_ocdr (n int) on commit delete rows`);
      await a.client.query("begin");
      await a.client.query(`insert into ${t}_ocdr values (1)`);
      expect((await a.client.query(`select count(*)::int as n from ${t}_ocdr`)).rows).toEqual([{ n: 1 }]);
      await a.client.query("commit");
      expect((await a.client.query(`select count(*)::int as n from ${t}_ocdr`)).rows).toEqual([{ n: 0 }]);
      await a.client.query("begin");
      await a.client.query(`create temp table ${t}_ocd (n int) on commit drop`);
      await a.client.query(`insert into ${t}_ocd values (1)`);
      await a.client.query("commit");
      expect(await sqlState(a.client.query(`select * from ${t}_ocd`))).toBe("42P01");
    } finally {
      await a.client.end();
    }
    try {
      // The session ended: no relation of that name is left in pg_class (PostgreSQL removes it as
      // the backend exits, just after the client's Terminate, so wait up to 10 s), and naming it in
      // its old schema finds nothing. While the session lived, PostgreSQL listed it in pg_class and
      // answered 0A000 for pg_temp_N.name, where Warren shows nothing and answers 42P01 (sql/README.md).
      let left: unknown[] = [];
      for (let i = 0; i < 100; i++) {
        left = (await b.client.query("select c.relname from pg_class c where c.relname like $1", [`${t}%`])).rows;
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(left).toEqual([]);
      expect(await sqlState(b.client.query(`select * from ${tempSchema}.${t}`))).toBe("42P01");
      // The name is free for a stored table.
      await b.client.query(`create table ${t} (n int)`);
      const r = await b.client.query(`select c.relpersistence from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = $1 and n.nspname = 'public'`, [t]);
      expect(r.rows).toEqual([{ relpersistence: "p" }]);
      expect((await b.client.query(`select count(*)::int as n from ${t}`)).rows).toEqual([{ n: 0 }]);
    } finally {
      await b.client.end();
    }
  });
});
