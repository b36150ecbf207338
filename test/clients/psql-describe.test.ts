// psql 15's describe commands against Warren and against PostgreSQL 15, on the same schema
// (describe-schema.sql: every object kind Warren supports). Each command runs with `psql -X -A`
// against both servers; the outputs must be equal, except for the few differences listed in
// ALLOWED below, each normalised away with the reason it exists. No command may error.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { startStack, type Stack } from "../harness/stack.ts";

const schemaSql = readFileSync(path.join(import.meta.dirname, "describe-schema.sql"), "utf8");

/** Every describe command of psql 15 the task names, then `\d NAME` / `\d+ NAME` for each object kind. */
const COMMANDS = [
  "\\l", "\\l+", "\\d", "\\d+", "\\dt", "\\dt+", "\\di", "\\di+", "\\ds", "\\dv", "\\dm", "\\df", "\\df+", "\\dT", "\\dT+", "\\dD",
  "\\dn", "\\dn+", "\\du", "\\dg", "\\dp", "\\dx", "\\dy", "\\dconfig", "\\dE", "\\des",
  "\\dt app.*", "\\dt *.log", "\\di app.*", "\\ds audit.*", "\\dv app.*",
  "\\d app.customers", "\\d app.orders", "\\df app.*", "\\sf app.log_order", "\\d public.every_type", "\\d public.pairs", "\\d public.events", "\\d audit.log",
  "\\d app.active_customers", "\\d public.order_totals",
  "\\d app.orders_customer_idx", "\\d app.orders_status_placed_idx", "\\d app.orders_open_idx", "\\d+ app.orders_open_idx", "\\d public.pairs_pkey", "\\d public.events_kind_key", "\\d app.customers_email_key",
  "\\d public.ticket_seq", "\\d audit.big_seq", "\\d app.customers_id_seq", "\\d app.orders_id_seq",
  "\\d+ app.customers", "\\d+ app.orders", "\\d+ public.every_type", "\\d+ public.events",
  "\\d+ app.active_customers", "\\d+ public.order_totals",
  "\\d+ app.orders_customer_idx", "\\d+ public.pairs_pkey", "\\d+ audit.big_seq",
  "\\sv app.active_customers", "\\sv public.order_totals", "\\sf no_such_function",
  "\\d no_such_relation",
];

/**
 * The allowed differences, each a normalisation applied to both outputs of the commands it
 * names. Everything else must match byte for byte.
 */
const ALLOWED: Array<{ commands: RegExp; why: string; normalise: (out: string) => string }> = [
  {
    commands: /^\\l\+?$/,
    why: "a PostgreSQL cluster lists its other databases (postgres, template0, template1); a Warren tenant has only its own",
    // Keep the title, the header, the tenant's database and the row count (other databases'
    // access privileges span several lines, so keep by what stays rather than drop by name).
    normalise: (out) => out.split("\n").filter((l, i) => i < 2 || l.startsWith("defaultdb|") || /^\(\d+ rows?\)$/.test(l) || l === "").join("\n").replace(/\(\d+ rows?\)/, "(N rows)"),
  },
  {
    commands: /^\\l\+$/,
    why: "database size: PostgreSQL counts its catalog files; Warren reports relation sizes through the RelationSizes seam (0 until the storage node reports per-table bytes)",
    normalise: (out) => out.replace(/^(defaultdb\|(?:[^|]*\|){7})[^|]*\|/m, "$1SIZE|"),
  },
  {
    commands: /^\\(d|dt|di)\+/,
    why: "relation sizes (see above): PostgreSQL's are page counts of files, Warren's come from the RelationSizes seam",
    normalise: (out) => out.replace(/\|\d+ (bytes|kB|MB)\|/g, "|SIZE|"),
  },
  {
    commands: /^\\d[ug]$/,
    why: "a PostgreSQL cluster has its bootstrap superuser (postgres); a tenant has only its own role",
    normalise: (out) => out.split("\n").filter((l) => !l.startsWith("postgres|")).join("\n").replace(/\(\d+ rows?\)/, "(N rows)"),
  },
  {
    commands: /^\\dconfig$/,
    why: "server configuration: PostgreSQL's TimeZone, port, locale and log settings come from its config file; Warren has none of those parameters. Only what the client set (application_name) is compared",
    normalise: (out) => out.split("\n").filter((l) => /^(Parameter\||List of|application_name\|)/.test(l)).join("\n"),
  },
];

interface PsqlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function psql(url: string, command: string): Promise<PsqlResult> {
  return new Promise((resolve, reject) => {
    // The same client environment for both servers: nothing from the caller's PG* settings.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
    const child = spawn("psql", [url, "-X", "-A"], { stdio: ["pipe", "pipe", "pipe"], env: { ...env, PGCONNECT_TIMEOUT: "20" } });
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
    child.stdin.end(`${command}\n`);
  });
}

function normalise(command: string, out: string): string {
  let s = out;
  for (const a of ALLOWED) if (a.commands.test(command)) s = a.normalise(s);
  return s;
}

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;
let warrenUrl = "";
let postgresUrl = "";

beforeAll(async () => {
  if (!postgresAvailable()) return;
  [stack, postgres] = await Promise.all([startStack(), startPostgres()]);
  // PostgreSQL: the same role name and database name as the tenant's, the database created with
  // the "C" locale Warren reports, so both hold exactly the schema below (plpgsql included, which
  // initdb installs in every database and Warren lists too).
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query("CREATE ROLE warren LOGIN");
    await admin.query("CREATE DATABASE defaultdb OWNER warren TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
  } finally {
    await admin.end();
  }
  const pgUrl = new URL(postgres.urlFor("defaultdb"));
  pgUrl.username = "warren";
  postgresUrl = pgUrl.toString();
  const tenant = await stack.createTenant("describe");
  warrenUrl = tenant.pg;
  for (const url of [postgresUrl, warrenUrl]) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(schemaSql);
    } finally {
      await c.end();
    }
  }
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), postgres?.stop()]);
});

describe.skipIf(!postgresAvailable())("psql 15 describe commands: Warren against PostgreSQL 15", () => {
  const results = new Map<string, boolean>();

  for (const command of COMMANDS) {
    it(`${command} prints what PostgreSQL 15 prints`, async () => {
      const [w, p] = await Promise.all([psql(warrenUrl, command), psql(postgresUrl, command)]);
      const exact = w.stdout === p.stdout && w.stderr === p.stderr;
      results.set(command, exact);
      // An error is only acceptable where PostgreSQL gives the same one (a name that does not exist).
      if (p.stderr === "") expect(w.stderr, `${command} on Warren`).toBe("");
      expect(w.code).toBe(p.code);
      expect(normalise(command, w.stdout)).toBe(normalise(command, p.stdout));
      expect(w.stderr.replace(/LINE \d+:.*\n.*\n?/g, "")).toBe(p.stderr.replace(/LINE \d+:.*\n.*\n?/g, ""));
    }, 60_000);
  }

  it("reports how many commands match byte for byte", () => {
    const exact = [...results.values()].filter(Boolean).length;
    console.log(`psql describe: ${exact}/${COMMANDS.length} commands identical to PostgreSQL 15 before normalisation; ${results.size - exact} differ only by the allow-list`);
    expect(results.size).toBe(COMMANDS.length);
  });
});
