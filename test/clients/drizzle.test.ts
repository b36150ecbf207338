// Drizzle against the real local stack, with drizzle's default options, and against a scratch
// PostgreSQL 15 as the oracle: every flow runs on both and the outcomes (rows, and what the catalog
// says about the migrated schema) must be equal.
//
//   - `drizzle-kit migrate` (the CLI, its own `pg` driver) applies fixtures/drizzle/migrations —
//     made by `drizzle-kit generate` from fixtures/drizzle/schema.ts: an enum, serial / bigserial
//     / identity columns with drizzle-kit's `SEQUENCE NAME` options, sequences, a schema of its own;
//   - `migrate()` of drizzle-orm over node-postgres and over the Neon HTTP driver (`neon()` → POST
//     /sql), each on a fresh tenant / database;
//   - typed queries (insert … returning, joins, enum filters and ordering, identity values);
//   - `drizzle-kit generate` (offline) writes that same migration from schema.ts, byte for byte.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { neon, neonConfig } from "@neondatabase/serverless";
import { asc, desc, eq, gt, sql } from "drizzle-orm";
import { migrate as migrateNeonHttp } from "drizzle-orm/neon-http/migrator";
import { drizzle as drizzleNeonHttp } from "drizzle-orm/neon-http";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { runTool, type ToolRun } from "../harness/run-tool.ts";
import { startStack, type Stack } from "../harness/stack.ts";
import { authors, invoices, posts } from "./fixtures/drizzle/schema.ts";

const fixtureDir = path.join(import.meta.dirname, "fixtures", "drizzle");
const migrationsFolder = path.join(fixtureDir, "migrations");
const drizzleKit = path.resolve(import.meta.dirname, "..", "..", "node_modules", ".bin", "drizzle-kit");

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;

beforeAll(async () => {
  [stack, postgres] = await Promise.all([startStack(), postgresAvailable() ? startPostgres() : Promise.resolve(undefined)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), postgres?.stop()]);
});


/** Runs drizzle-kit (the CLI) in the fixture dir with DATABASE_URL. */
function runDrizzleKit(args: string[], url: string): Promise<ToolRun> {
  return runTool(drizzleKit, args, { cwd: fixtureDir, env: { DATABASE_URL: url } });
}

/** What the catalog says about the migrated schema: the queries drizzle-kit's introspection relies on. */
async function describeSchema(url: string): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const enums = await c.query(
      `select n.nspname, t.typname, t.typtype, t.typcategory, e.enumlabel, e.enumsortorder
         from pg_enum e join pg_type t on t.oid = e.enumtypid join pg_namespace n on n.oid = t.typnamespace
        order by t.typname, e.enumsortorder`,
    );
    const columns = await c.query(
      `select table_schema, table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, is_identity
         from information_schema.columns where table_schema in ('public', 'billing', 'drizzle')
        order by table_schema, table_name, ordinal_position`,
    );
    const types = await c.query(
      `select a.attrelid::regclass::text as rel, a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attidentity
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('public', 'billing') and c.relkind = 'r' and a.attnum > 0 order by 1, a.attnum`,
    );
    const sequences = await c.query(`select schemaname, sequencename, start_value, increment_by, max_value from pg_sequences order by 1, 2`);
    const serials = await c.query(
      `select pg_get_serial_sequence('authors', 'id') as authors, pg_get_serial_sequence('posts', 'id') as posts,
              pg_get_serial_sequence('billing.invoices', 'id') as invoices, pg_get_serial_sequence('billing.invoices', 'number') as invoice_number`,
    );
    return { enums: enums.rows, columns: columns.rows, types: types.rows, sequences: sequences.rows, serials: serials.rows };
  } finally {
    await c.end();
  }
}

/** Typed queries through a drizzle database; returns what they read (timestamps left out). */
async function typedQueries(db: ReturnType<typeof drizzlePg>): Promise<unknown> {
  const inserted = await db
    .insert(authors)
    .values([{ name: "ada", mood: "happy" }, { name: "bob" }, { name: "cy", mood: "sad" }])
    .returning({ id: authors.id, name: authors.name, mood: authors.mood });
  const ada = inserted[0]!.id;
  const newPosts = await db
    .insert(posts)
    .values([
      { authorId: ada, title: "first", published: true, meta: { tags: ["a", "b"] }, price: "9.50" },
      { authorId: ada, title: "draft" },
      { authorId: inserted[1]!.id, title: "hello", published: true },
    ])
    .returning({ id: posts.id, title: posts.title });
  const invoiceRows = await db.insert(invoices).values([{ authorId: ada, total: "12.00" }, { authorId: null, total: "3.25", number: 500 }]).returning();
  const byMood = await db.select({ name: authors.name, mood: authors.mood }).from(authors).orderBy(desc(authors.mood), asc(authors.name));
  const happier = await db.select({ name: authors.name }).from(authors).where(gt(authors.mood, "ok"));
  const joined = await db
    .select({ author: authors.name, title: posts.title, price: posts.price, meta: posts.meta })
    .from(posts)
    .innerJoin(authors, eq(posts.authorId, authors.id))
    .where(eq(posts.published, true))
    .orderBy(posts.id);
  const counts = await db.select({ mood: authors.mood, n: sql<number>`count(*)::int` }).from(authors).groupBy(authors.mood).orderBy(authors.mood);
  const badEnum = await db
    .insert(authors)
    .values({ name: "dee", mood: "angry" as "ok" })
    .then(() => null, (e: { cause?: { code?: string; message?: string }; code?: string }) => ({ code: e.cause?.code ?? e.code, message: e.cause?.message }));
  const identityAlways = await db.execute(sql`insert into posts (id, author_id, title) values (99, ${ada}, 'x')`).then(() => null, (e: { cause?: { code?: string } }) => e.cause?.code);
  const next = await db.execute(sql`select nextval('ticket_no') as a, nextval('billing.invoice_seq') as b`);
  return { inserted, newPosts, invoiceRows, byMood, happier, joined, counts, badEnum, identityAlways, next: next.rows };
}

describe("drizzle-kit generate", () => {
  it("writes the migration the flows below apply, and finds the committed folder up to date", async () => {
    // generate reads schema.ts (and the folder's snapshot) only; the URL is never dialled.
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "warren-drizzle-gen-"));
    try {
      const fresh = await runTool(drizzleKit, ["generate"], { cwd: fixtureDir, env: { DATABASE_URL: "postgresql://unused@127.0.0.1:1/x", DRIZZLE_OUT: out } });
      expect(fresh.code, fresh.out).toBe(0);
      const written = fs.readdirSync(out).filter((f) => f.endsWith(".sql"));
      expect(written).toHaveLength(1);
      expect(fs.readFileSync(path.join(out, written[0]!), "utf8")).toBe(fs.readFileSync(path.join(migrationsFolder, "0000_init.sql"), "utf8"));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    const again = await runDrizzleKit(["generate"], "postgresql://unused@127.0.0.1:1/x");
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("No schema changes, nothing to migrate");
  }, 120_000);
});

describe.skipIf(!postgresAvailable())("drizzle", () => {
  it("drizzle-kit migrate applies the generated migration; the catalog describes it as PostgreSQL 15 does", async () => {
    const warren = await stack!.createTenant("dzkit");
    const oracle = await postgres!.createDatabase("dzkit");
    for (const url of [warren.pg, oracle]) {
      const r = await runDrizzleKit(["migrate"], url);
      expect(r.code, r.out).toBe(0);
      // A second run finds the migration applied and does nothing.
      const again = await runDrizzleKit(["migrate"], url);
      expect(again.code, again.out).toBe(0);
    }
    const [w, p] = [await describeSchema(warren.pg), await describeSchema(oracle)];
    expect(w).toEqual(p);
    // And literally, the parts this test is about.
    expect((p as { enums: unknown[] }).enums).toEqual([
      { nspname: "public", typname: "mood", typtype: "e", typcategory: "E", enumlabel: "sad", enumsortorder: 1 },
      { nspname: "public", typname: "mood", typtype: "e", typcategory: "E", enumlabel: "ok", enumsortorder: 2 },
      { nspname: "public", typname: "mood", typtype: "e", typcategory: "E", enumlabel: "happy", enumsortorder: 3 },
    ]);
    expect((p as { serials: unknown[] }).serials).toEqual([{ authors: "public.authors_id_seq", posts: "public.posts_id_seq", invoices: "billing.invoices_id_seq", invoice_number: "billing.invoices_number_seq" }]);
  }, 240_000);

  it("migrate() over node-postgres, then typed queries, give PostgreSQL 15's results", async () => {
    const warren = await stack!.createTenant("dzpg");
    const oracle = await postgres!.createDatabase("dzpg");
    const results: unknown[] = [];
    for (const url of [warren.pg, oracle]) {
      const pool = new pg.Pool({ connectionString: url });
      try {
        const db = drizzlePg(pool);
        await migratePg(db, { migrationsFolder });
        await migratePg(db, { migrationsFolder }); // idempotent
        const applied = await pool.query(`select count(*)::int as n from drizzle.__drizzle_migrations`);
        expect(applied.rows).toEqual([{ n: 1 }]);
        results.push(await typedQueries(db));
      } finally {
        await pool.end();
      }
    }
    expect(results[0]).toEqual(results[1]);
    expect((results[1] as { badEnum: unknown }).badEnum).toEqual({ code: "22P02", message: 'invalid input value for enum mood: "angry"' });
    expect((results[1] as { identityAlways: unknown }).identityAlways).toBe("428C9");
  }, 240_000);

  it("migrate() over the Neon HTTP driver (POST /sql) applies the same migration", async () => {
    const warren = await stack!.createTenant("dzhttp");
    neonConfig.fetchEndpoint = warren.http;
    const db = drizzleNeonHttp(neon(warren.pg.replace("?sslmode=disable", "")));
    await migrateNeonHttp(db, { migrationsFolder });
    await migrateNeonHttp(db, { migrationsFolder });
    const rows = await db.insert(authors).values([{ name: "http", mood: "happy" }]).returning({ id: authors.id, mood: authors.mood });
    expect(rows).toEqual([{ id: 1, mood: "happy" }]);
    const inv = await db.insert(invoices).values({ total: "1.00" }).returning({ id: invoices.id, number: invoices.number });
    expect(inv).toEqual([{ id: 1, number: 100 }]);
    const oracle = await postgres!.createDatabase("dzhttp");
    const pool = new pg.Pool({ connectionString: oracle });
    await migratePg(drizzlePg(pool), { migrationsFolder });
    await pool.end();
    expect(await describeSchema(warren.pg)).toEqual(await describeSchema(oracle));
  }, 240_000);
});
