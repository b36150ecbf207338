// The Postgres wire protocol end to end with the real psql (libpq): psql → `warren tunnel` (TCP ⇄
// WebSocket) → edge /v2 (SSLRequest 'N', tenant, SCRAM-SHA-256) → the tenant's gateway isolate
// (pgwire over the SQL session) → storage node. Everything runs as `warren dev` runs it.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "./harness/stack.ts";

interface PsqlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** psql as a user runs it: -X (no ~/.psqlrc), script on stdin, unaligned output when asked. */
function psql(url: string, args: string[], stdin = ""): Promise<PsqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [url, "-X", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PGCONNECT_TIMEOUT: "20" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("psql through the tunnel", () => {
  it("connects with the demo URL and runs a simple query", async () => {
    const r = await psql(stack.demo.pg, ["-At", "-c", "select 1 as one, 'two' as two"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("1|two\n");
  });

  it("creates, inserts and selects, with Postgres's command tags", async () => {
    const script = [
      "create table fruit (id int primary key, name text not null, price numeric(6,2));",
      "insert into fruit values (1, 'apple', 1.50), (2, 'pear', null), (3, 'fig', 12);",
      "update fruit set price = 2 where id = 2;",
      "delete from fruit where id = 3;",
      "select id, name, price from fruit order by id;",
      "select count(*) from fruit;",
    ].join("\n");
    const r = await psql(stack.demo.pg, ["-v", "ON_ERROR_STOP=1"], script);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("CREATE TABLE\nINSERT 0 3\nUPDATE 1\nDELETE 1\n");
    expect(r.stdout).toMatch(/ 1 \| apple \|  1\.50\n +2 \| pear  \|  2\.00\n\(2 rows\)/);
    expect(r.stdout).toMatch(/count\s*\n-+\n\s+2\n\(1 row\)/);
  });

  it("runs a multi-statement string and reports an empty query", async () => {
    const r = await psql(stack.demo.pg, ["-At", "-c", "select 1; select 2"]);
    expect(r.code).toBe(0);
    // psql -c prints the last result of a multi-statement string (psql 15)
    expect(r.stdout.trim().split("\n").pop()).toBe("2");
    const empty = await psql(stack.demo.pg, ["-At"], ";\n-- only a comment\n");
    expect(empty.code).toBe(0);
    expect(empty.stderr).toBe("");
  });

  it("shows an error's SQLSTATE, keeps the session usable, and reports the aborted transaction", async () => {
    const r = await psql(stack.demo.pg, ["-v", "VERBOSITY=verbose"], [
      "select * from no_such_table;",
      "select 1/0;",
      "begin;",
      "select 1/0;",
      "select 'after';",
      "rollback;",
      "select 'alive' as state;",
    ].join("\n"));
    expect(r.stderr).toContain("ERROR:  42P01: relation \"no_such_table\" does not exist");
    expect(r.stderr).toContain("ERROR:  22012: division by zero");
    expect(r.stderr).toContain("ERROR:  25P02: current transaction is aborted");
    expect(r.stdout).toContain("ROLLBACK");
    expect(r.stdout).toContain("alive");
  });

  it("reports server_version consistent with version()", async () => {
    const r = await psql(stack.demo.pg, ["-At", "-c", "select version()", "-c", "show server_version"], "");
    expect(r.code).toBe(0);
    const [version, serverVersion] = r.stdout.trim().split("\n");
    expect(serverVersion).toMatch(/^15\.\d+$/);
    expect(version).toContain(`PostgreSQL ${serverVersion} `);
    const fromPsql = await psql(stack.demo.pg, ["-At"], "\\echo :SERVER_VERSION_NAME\n");
    expect(fromPsql.stdout.trim()).toBe(serverVersion);
  });

  // libpq prints no SQLSTATE for errors during connection setup (VERBOSITY applies to a session);
  // the codes themselves (28P01, 3D000, 57P03) are asserted with node-postgres in pgwire-drivers.test.ts.
  it("refuses a wrong password (28P01)", async () => {
    const r = await psql(withPassword(stack.demo.pg, "wrong-password-123"), ["-v", "VERBOSITY=verbose", "-c", "select 1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FATAL:  password authentication failed for user "warren"');
  });

  it("refuses an unknown tenant (3D000)", async () => {
    const url = stack.demo.pg.replace("warren.demo", "warren.nosuchtenant");
    const r = await psql(url, ["-v", "VERBOSITY=verbose", "-c", "select 1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FATAL:  virtual cluster "nosuchtenant" does not exist');
  });

  it("refuses a suspended tenant (57P03)", async () => {
    const t = await stack.createTenant("napping", "napping-password-1");
    const ok = await psql(t.pg, ["-At", "-c", "select 'awake'"]);
    expect(ok.stdout).toBe("awake\n");
    const res = await fetch(`${stack.admin.url}/admin/tenants/napping`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "suspended" }),
    });
    expect(res.status).toBe(200);
    // The admin call went through the same edge isolate, which forgot the tenant at once.
    const r = await psql(t.pg, ["-v", "VERBOSITY=verbose", "-c", "select 1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FATAL:  virtual cluster "napping" is suspended');
  });
});
