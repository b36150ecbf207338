// Kysely against the real local stack with its default options (PostgresDialect over a `pg` Pool,
// the Migrator with FileMigrationProvider), and against a scratch PostgreSQL 15 as the oracle:
// the migrations in fixtures/kysely (an enum and ALTER TYPE … ADD VALUE, serial and identity keys,
// a schema of its own, a sequence) go up, are found applied on a second run, one goes down again;
// typed queries then read and write through the migrated schema. Every outcome must equal PG 15's.
import { promises as fs } from "node:fs";
import path from "node:path";
import { type Generated, Kysely, PostgresDialect, sql } from "kysely";
import { FileMigrationProvider, Migrator } from "kysely/migration";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../harness/postgres.ts";
import { startStack, type Stack } from "../harness/stack.ts";

interface Database {
  person: { id: Generated<number>; name: string; created_at: Generated<Date>; nickname: string | null };
  "work.task": { id: Generated<string>; person_id: number; title: string; status: Generated<"todo" | "doing" | "blocked" | "done"> };
}

const migrationFolder = path.join(import.meta.dirname, "fixtures", "kysely");

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;

beforeAll(async () => {
  [stack, postgres] = await Promise.all([startStack(), postgresAvailable() ? startPostgres() : Promise.resolve(undefined)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), postgres?.stop()]);
});


function open(url: string): { db: Kysely<Database>; migrator: Migrator } {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
  const migrator = new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
  return { db, migrator };
}

/** Migration results without Kysely's error objects (compared by message). */
function outcome(r: { error?: unknown; results?: readonly { migrationName: string; direction: string; status: string }[] }): unknown {
  return { error: r.error === undefined ? null : String(r.error), results: r.results ?? null };
}

async function flow(url: string): Promise<unknown> {
  const { db, migrator } = open(url);
  try {
    const up = outcome(await migrator.migrateToLatest());
    const again = outcome(await migrator.migrateToLatest());
    const down = outcome(await migrator.migrateDown());
    const reUp = outcome(await migrator.migrateToLatest());
    const applied = (await migrator.getMigrations()).map((m) => ({ name: m.name, applied: m.executedAt !== undefined }));

    const people = await db.insertInto("person").values([{ name: "ann", nickname: null }, { name: "bob", nickname: "b" }]).returning(["id", "name", "nickname"]).execute();
    const tasks = await db
      .insertInto("work.task")
      .values([
        { person_id: people[0]!.id, title: "write", status: "doing" },
        { person_id: people[0]!.id, title: "review" },
        { person_id: people[1]!.id, title: "ship", status: "blocked" },
      ])
      .returning(["id", "title", "status"])
      .execute();
    const notDone = await db
      .selectFrom("work.task as t")
      .innerJoin("person as p", "p.id", "t.person_id")
      .select(["p.name", "t.title", "t.status"])
      .where("t.status", "<", "done")
      .orderBy("t.status", "desc")
      .orderBy("t.title")
      .execute();
    const moved = await db.updateTable("work.task").set({ status: "done" }).where("status", "=", "blocked").returning(["title", "status"]).execute();
    const byStatus = await db.selectFrom("work.task").select(["status", (e) => e.fn.countAll<string>().as("n")]).groupBy("status").orderBy("status").execute();
    const ticket = await sql<{ a: string; b: string }>`select nextval('ticket') as a, nextval('ticket') as b`.execute(db);
    const dupName = await db.insertInto("person").values({ name: "ann", nickname: null }).execute().then(() => null, (e: { code?: string }) => e.code);
    const badStatus = await sql`insert into work.task (person_id, title, status) values (${people[0]!.id}, 'x', 'nope')`.execute(db).then(() => null, (e: { code?: string; message?: string }) => `${e.code} ${e.message}`);
    const labels = await sql<{ enumlabel: string }>`select enumlabel from pg_enum where enumtypid = 'status'::regtype order by enumsortorder`.execute(db);
    return { up, again, down, reUp, applied, people, tasks, notDone, moved, byStatus, ticket: ticket.rows, dupName, badStatus, labels: labels.rows };
  } finally {
    await db.destroy();
  }
}

describe.skipIf(!postgresAvailable())("kysely", () => {
  it("Migrator up, down and up again, then typed queries, as on PostgreSQL 15", async () => {
    const warren = await stack!.createTenant("kysely");
    const oracle = await postgres!.createDatabase("kysely");
    const [w, p] = [await flow(warren.pg), await flow(oracle)];
    expect(w).toEqual(p);
    // What PG 15 answered, literally, for the parts this test is about.
    expect(p).toMatchObject({
      again: { error: null, results: [] },
      down: { error: null, results: [{ migrationName: "0002_more", direction: "Down", status: "Success" }] },
      reUp: { error: null, results: [{ migrationName: "0002_more", direction: "Up", status: "Success" }] },
      tasks: [{ id: "1", title: "write", status: "doing" }, { id: "2", title: "review", status: "todo" }, { id: "3", title: "ship", status: "blocked" }],
      ticket: [{ a: "100", b: "105" }],
      dupName: "23505",
      badStatus: '22P02 invalid input value for enum status: "nope"',
      labels: [{ enumlabel: "todo" }, { enumlabel: "doing" }, { enumlabel: "blocked" }, { enumlabel: "done" }],
    });
  }, 240_000);

  it("two Migrators racing on one fresh tenant: each migration is applied exactly once", async () => {
    const warren = await stack!.createTenant("kyrace");
    const a = open(warren.pg);
    const b = open(warren.pg);
    try {
      const results = await Promise.all([a.migrator.migrateToLatest(), b.migrator.migrateToLatest()]);
      // Kysely serialises migrators with pg_advisory_xact_lock, the first statement of its
      // migration transaction. The lock is real (the storage node's lock table), so the second
      // migrator waits for the first to commit, and its snapshot, taken once the lock is granted,
      // finds everything applied, exactly as on PostgreSQL: no error, nothing run twice.
      expect(results.map(outcome).filter((r) => (r as { error: string | null }).error !== null)).toEqual([]);
      const ran = results.filter((r) => r.error === undefined).flatMap((r) => r.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName).sort();
      expect(ran).toEqual(["0001_init", "0002_more"]);
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(a.db);
      expect(rows.rows).toEqual([{ name: "0001_init" }, { name: "0002_more" }]);
    } finally {
      await Promise.all([a.db.destroy(), b.db.destroy()]);
    }
  }, 240_000);
});
