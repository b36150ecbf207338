// `drizzle-kit push` with its default options against a fresh Warren tenant and a fresh database
// on the scratch PostgreSQL 15: push creates the schema of fixtures/drizzle/schema.ts, the
// resulting catalogs read the same on both, and a second push finds nothing to change (which
// needs drizzle-kit's whole introspection to read back what it created: pg_index.indkey as
// int2vector with generate_subscripts, pg_opclass, pg_stat_user_indexes, pg_get_indexdef(i, k, false)).
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { runTool, type ToolRun } from "../harness/run-tool.ts";
import { startStack, type Stack } from "../harness/stack.ts";

const fixtureDir = path.join(import.meta.dirname, "fixtures", "drizzle");
const drizzleKit = path.resolve(import.meta.dirname, "..", "..", "node_modules", ".bin", "drizzle-kit");

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;

beforeAll(async () => {
  [stack, postgres] = await Promise.all([startStack(), postgresAvailable() ? startPostgres() : Promise.resolve(undefined)]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), postgres?.stop()]);
});

/** Runs drizzle-kit (the CLI) in the fixture dir with DATABASE_URL. */
function runDrizzleKit(args: string[], url: string): Promise<ToolRun> {
  return runTool(drizzleKit, args, { cwd: fixtureDir, env: { DATABASE_URL: url } });
}

/** The pushed schema as the catalogs describe it (names, types, defaults, keys, indexes, sequences). */
async function introspect(url: string): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const q = async (sql: string) => (await c.query(sql)).rows;
    return {
      columns: await q(
        `select table_schema, table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, is_identity, column_default
           from information_schema.columns where table_schema in ('public', 'billing') order by 1, 2, 4`,
      ),
      indexes: await q(`select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname in ('public', 'billing') order by 1, 2, 3`),
      constraints: await q(
        `select conrelid::regclass::text as rel, conname, contype, pg_get_constraintdef(oid) as def from pg_constraint
          where connamespace in (select oid from pg_namespace where nspname in ('public', 'billing')) order by 1, 2`,
      ),
      sequences: await q(`select schemaname, sequencename, start_value, increment_by, max_value from pg_sequences order by 1, 2`),
      enums: await q(`select t.typname, e.enumlabel from pg_enum e join pg_type t on t.oid = e.enumtypid order by 1, e.enumsortorder`),
    };
  } finally {
    await c.end();
  }
}

describe("drizzle-kit push", () => {
  it("creates the schema on Warren as on PostgreSQL 15; a second push has nothing to do", async (ctx) => {
    if (postgres === undefined) ctx.skip();
    const tenant = await stack!.createTenant("drizzlepush");
    const admin = new pg.Client({ connectionString: postgres!.url });
    await admin.connect();
    await admin.query("create database drizzlepush");
    await admin.end();
    const targets = { warren: tenant.pg, "postgres 15": postgres!.urlFor("drizzlepush") };
    const outcomes: Record<string, unknown> = {};
    for (const [name, url] of Object.entries(targets)) {
      const first = await runDrizzleKit(["push"], url);
      expect(first.code, `${name}: first push\n${first.out}`).toBe(0);
      const second = await runDrizzleKit(["push"], url);
      expect(second.code, `${name}: second push\n${second.out}`).toBe(0);
      expect(second.out, `${name}: second push`).toContain("No changes detected");
      outcomes[name] = await introspect(url);
    }
    expect(outcomes["warren"]).toEqual(outcomes["postgres 15"]);
    // What was pushed: the fixture's tables, its unique and two-column indexes, its enum.
    const pushed = outcomes["warren"] as { columns: Array<{ table_name: string }>; indexes: Array<{ indexname: string }>; enums: unknown[] };
    expect(new Set(pushed.columns.map((c) => c.table_name))).toEqual(new Set(["authors", "posts", "invoices"]));
    expect(pushed.indexes.map((i) => i.indexname)).toEqual(expect.arrayContaining(["authors_name_idx", "posts_author_idx"]));
    expect(pushed.enums.length).toBeGreaterThan(0);
  });
});
