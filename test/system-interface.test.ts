// The system interface through its three front ends (issue 11, acceptance 5): one table of
// operations, each run through SQL on the system virtual cluster (`…/system`, admin token as the
// password), the `warren` CLI, and the admin API, each on a tenant of its own. After every step the
// three tenants must look the same (state, who suspended it, settings) and every refusal must carry
// the same SQLSTATE.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "./harness/stack.ts";

let stack: Stack;
let sql: pg.Client;

beforeAll(async () => {
  stack = await startStack();
  const port = new URL(stack.pg.replace(/^postgresql:/, "http:")).port;
  sql = new pg.Client({ connectionString: `postgresql://admin:${encodeURIComponent(stack.admin.token)}@127.0.0.1:${port}/system?sslmode=disable` });
  sql.on("error", () => {});
  await sql.connect();
});
afterAll(async () => {
  await sql?.end().catch(() => {});
  await stack?.stop();
});

type Outcome = { ok: true } | { ok: false; code: string };

interface Op {
  label: string;
  sql: (name: string) => string;
  cli: (name: string) => string[];
  api: (name: string) => { method: string; path: string; body?: unknown };
}

const ops: Op[] = [
  {
    label: "create",
    sql: (n) => `CREATE VIRTUAL CLUSTER ${n} WITH password = 'a password of ours'`,
    cli: (n) => ["tenant", "create", n, "--password", "a password of ours"],
    api: (n) => ({ method: "POST", path: "/admin/tenants", body: { name: n, password: "a password of ours" } }),
  },
  {
    label: "create again (duplicate)",
    sql: (n) => `CREATE VIRTUAL CLUSTER ${n}`,
    cli: (n) => ["tenant", "create", n],
    api: (n) => ({ method: "POST", path: "/admin/tenants", body: { name: n } }),
  },
  {
    label: "set rate, burst, spend limit",
    sql: (n) => `ALTER VIRTUAL CLUSTER ${n} SET ru_per_second = 250, burst = 5000, spend_limit = 1000000, at_limit = 'refuse'`,
    cli: (n) => ["tenant", "alter", n, "--ru-per-second", "250", "--burst", "5000", "--spend-limit", "1000000", "--at-limit", "refuse"],
    api: (n) => ({ method: "PATCH", path: `/admin/tenants/${n}`, body: { ruPerSecond: 250, burstRu: 5000, spendLimitRu: 1000000, atSpendLimit: "refuse" } }),
  },
  {
    label: "set connections and networks",
    sql: (n) => `ALTER VIRTUAL CLUSTER ${n} SET max_connections = 7, allow = '10.0.0.0/8, 192.168.1.0/24'`,
    cli: (n) => ["tenant", "alter", n, "--max-connections", "7", "--allow", "10.0.0.0/8,192.168.1.0/24"],
    api: (n) => ({ method: "PATCH", path: `/admin/tenants/${n}`, body: { maxConnections: 7, allowedCidrs: ["10.0.0.0/8", "192.168.1.0/24"] } }),
  },
  {
    label: "a bad value changes nothing",
    sql: (n) => `ALTER VIRTUAL CLUSTER ${n} SET ru_per_second = -1`,
    cli: (n) => ["tenant", "alter", n, "--ru-per-second", "-1"],
    api: (n) => ({ method: "PATCH", path: `/admin/tenants/${n}`, body: { ruPerSecond: -1 } }),
  },
  {
    label: "clear the spend limit and the networks",
    sql: (n) => `ALTER VIRTUAL CLUSTER ${n} SET spend_limit = NULL, allow = 'any'`,
    cli: (n) => ["tenant", "alter", n, "--spend-limit", "none", "--allow", "any"],
    api: (n) => ({ method: "PATCH", path: `/admin/tenants/${n}`, body: { spendLimitRu: null, allowedCidrs: [] } }),
  },
  {
    label: "suspend",
    sql: (n) => `ALTER VIRTUAL CLUSTER ${n} SUSPEND`,
    cli: (n) => ["tenant", "suspend", n],
    api: (n) => ({ method: "PATCH", path: `/admin/tenants/${n}`, body: { state: "suspended" } }),
  },
  {
    label: "resume",
    sql: (n) => `ALTER VIRTUAL CLUSTER ${n} RESUME`,
    cli: (n) => ["tenant", "resume", n],
    api: (n) => ({ method: "PATCH", path: `/admin/tenants/${n}`, body: { state: "active" } }),
  },
  {
    label: "show with usage",
    sql: (n) => `SHOW VIRTUAL CLUSTER ${n} WITH USAGE`,
    cli: (n) => ["tenant", "usage", n],
    api: (n) => ({ method: "GET", path: `/admin/tenants/${n}/usage` }),
  },
  {
    label: "drop",
    sql: (n) => `DROP VIRTUAL CLUSTER ${n}`,
    cli: (n) => ["tenant", "drop", n],
    api: (n) => ({ method: "DELETE", path: `/admin/tenants/${n}` }),
  },
  {
    label: "drop again (gone)",
    sql: (n) => `DROP VIRTUAL CLUSTER ${n}`,
    cli: (n) => ["tenant", "drop", n],
    api: (n) => ({ method: "DELETE", path: `/admin/tenants/${n}` }),
  },
];

async function viaSql(op: Op, name: string): Promise<Outcome> {
  try {
    await sql.query(op.sql(name));
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code ?? String(err) };
  }
}

async function viaCli(op: Op, name: string): Promise<Outcome> {
  const r = await stack.warren(op.cli(name));
  if (r.code === 0) return { ok: true };
  return { ok: false, code: /SQLSTATE ([0-9A-Z]{5})/.exec(r.stderr)?.[1] ?? `exit ${r.code}: ${r.stderr}` };
}

async function viaApi(op: Op, name: string): Promise<Outcome> {
  const { method, path, body } = op.api(name);
  const res = await fetch(stack.admin.url + path, {
    method,
    headers: { authorization: `Bearer ${stack.admin.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const json = (await res.json()) as { code?: string };
  return res.ok ? { ok: true } : { ok: false, code: json.code ?? `HTTP ${res.status}` };
}

/** What must be equal across front ends: the tenant's state and settings, or that it is gone. */
async function looks(name: string): Promise<unknown> {
  const res = await fetch(`${stack.admin.url}/admin/tenants/${name}`, { headers: { authorization: `Bearer ${stack.admin.token}` } });
  if (res.status === 404) return "gone";
  const v = (await res.json()) as { state: string; settings: unknown; lifecycle?: { suspendedBy: unknown } };
  return { state: v.state, suspendedBy: v.lifecycle?.suspendedBy ?? null, settings: v.settings };
}

describe("system interface: SQL, CLI and admin API agree", () => {
  it("answers SHOW VIRTUAL CLUSTERS and refuses what is not its syntax with 42601", async () => {
    const r = await sql.query("SHOW VIRTUAL CLUSTERS");
    expect(r.fields.map((f) => f.name).slice(0, 3)).toEqual(["name", "id", "state"]);
    expect(r.rows.some((row: { name: string }) => row.name === "demo")).toBe(true);
    await expect(sql.query("CREATE VIRTUAL CLUSTR x")).rejects.toMatchObject({ code: "42601" });
    await expect(sql.query("SELECT 1")).rejects.toMatchObject({ code: "42601" });
    await expect(sql.query("CREATE VIRTUAL CLUSTER system")).rejects.toMatchObject({ code: "42939" });
  });

  it("runs every operation of the table through the three front ends with equal results", async () => {
    const names = { sql: "vc-sql", cli: "vc-cli", api: "vc-api" };
    for (const op of ops) {
      const outcomes = {
        sql: await viaSql(op, names.sql),
        cli: await viaCli(op, names.cli),
        api: await viaApi(op, names.api),
      };
      expect(outcomes.cli, `${op.label}: CLI vs SQL`).toEqual(outcomes.sql);
      expect(outcomes.api, `${op.label}: admin API vs SQL`).toEqual(outcomes.sql);
      const after = { sql: await looks(names.sql), cli: await looks(names.cli), api: await looks(names.api) };
      expect(after.cli, `${op.label}: state after, CLI vs SQL`).toEqual(after.sql);
      expect(after.api, `${op.label}: state after, admin API vs SQL`).toEqual(after.sql);
    }
  });

  it("shows a cluster's settings and usage as rows", async () => {
    await sql.query("CREATE VIRTUAL CLUSTER vc-rows WITH ru_per_second = 42");
    const r = await sql.query("SHOW VIRTUAL CLUSTER vc-rows WITH USAGE");
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ name: "vc-rows", state: "active", ru_per_second: "42", ru_total: "0" });
    const api = (await (await fetch(`${stack.admin.url}/admin/tenants/vc-rows`, { headers: { authorization: `Bearer ${stack.admin.token}` } })).json()) as { id: number };
    expect(r.rows[0].id).toBe(String(api.id));
  });
});
