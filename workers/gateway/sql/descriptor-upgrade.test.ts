// A tenant's keyspace written by the code from before descriptors kept SQL text (format 1: every
// default, CHECK, index predicate, generated column, domain constraint, view query and inlinable
// function body stored as the parser's JSON) opens with today's code, which answers as that code
// did, enforces the same rules, and writes format 2 (no parse trees) when it next changes a
// descriptor. The fixture and how it was made: scripts/make-format1-catalog.ts.
import { describe, expect, it } from "vitest";
import { forgetSharedCatalog } from "../catalog/catalog-store.ts";
import { DESCRIPTOR_FORMAT } from "../catalog/descriptors.ts";
import { Keyspace } from "../catalog/keyspace.ts";
import { KvClient } from "../kv/kv-client.ts";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Txn } from "../txn/txn.ts";
import { clearParseCache } from "./parse/parser.ts";
import { Session } from "./session.ts";
import { prefixEnd } from "../../../common/bytes.ts";
import { fixture, fixtureAnswers, writeFixture } from "./testing/format1-fixture.ts";

const tenantId = fixture.tenantId;

async function loadFixture(): Promise<MemoryKv> {
  const mem = new MemoryKv();
  await writeFixture(new KvClient(mem));
  return mem;
}

/** The stored descriptors, decoded as plain JSON (what is on disk, not what the catalog makes of it). */
async function rawDescriptors(mem: MemoryKv): Promise<Array<Record<string, unknown>>> {
  const ks = new Keyspace(tenantId);
  const txn = new Txn(new KvClient(mem));
  const out: Array<Record<string, unknown>> = [];
  for await (const page of txn.scan(ks.descriptorsPrefix(), prefixEnd(ks.descriptorsPrefix()))) {
    for (const row of page) out.push(JSON.parse(new TextDecoder().decode(row.value)) as Record<string, unknown>);
  }
  await txn.rollback();
  return out;
}

/** A gateway isolate that has never seen the tenant: no shared catalog, no cached trees. */
function freshSession(mem: MemoryKv): Session {
  forgetSharedCatalog(tenantId);
  clearParseCache();
  return new Session({ kv: memoryCapability(mem), tenantId });
}

const PARSE_TREE = /"(A_Const|ColumnRef|A_Expr|SelectStmt|FuncCall|BoolExpr)"/;

async function expectAnswers(s: Session): Promise<void> {
  for (const [q, rows] of Object.entries(await fixtureAnswers(s))) expect(rows.got, q).toEqual(rows.want);
}

describe("descriptors of format 1 (parse trees)", () => {
  it("the fixture holds parse trees, as the code before format 2 wrote them", async () => {
    const descs = await rawDescriptors(await loadFixture());
    expect(descs.length).toBeGreaterThanOrEqual(9);
    expect(descs.every((d) => d["format"] === undefined)).toBe(true);
    const withTrees = descs.filter((d) => PARSE_TREE.test(JSON.stringify(d))).map((d) => d["name"]);
    expect(withTrees.sort()).toEqual(["add1", "cheap", "cheap_named", "ident", "items", "posint", "summary"]);
  });

  it("open and answer as before: rows, views, defaults, constraints, index and view definitions", async () => {
    const s = freshSession(await loadFixture());
    await expectAnswers(s);
  });

  it("keep enforcing their rules and filling their defaults", async () => {
    const mem = await loadFixture();
    const s = freshSession(mem);
    await expect(s.execute("INSERT INTO items (name, qty) VALUES ('x', 1)")).rejects.toMatchObject({ code: "23514", constraint: "name_ok" });
    await expect(s.execute("INSERT INTO items (name, qty) VALUES ('lamp', 0)")).rejects.toMatchObject({ code: "23514" });
    await expect(s.execute("INSERT INTO items (name, price, qty) VALUES ('pen', 2, 1)")).rejects.toMatchObject({ code: "23505" });
    await expect(s.execute("INSERT INTO items (name, total) VALUES ('lamp', 3)")).rejects.toMatchObject({ code: "428C9" });
    await s.execute("INSERT INTO items (name) VALUES ('lamp')");
    const [r] = await s.execute("SELECT name, price, qty, total, m, note FROM items WHERE name = 'lamp'");
    expect(r!.rows).toEqual([["lamp", "1.00", "1", "1.00", "ok", "ab"]]);
    await s.execute("UPDATE items SET note = 'quiet' WHERE name = 'lamp'");
    const [u] = await s.execute("SELECT note FROM items WHERE name = 'lamp'");
    expect(u!.rows).toEqual([["QUIET"]]);
    const [e] = await s.execute("EXPLAIN SELECT id FROM items WHERE price < 10 AND price > 2");
    expect(e!.rows.flat().join("\n")).toContain("items_cheap");
  });

  it("are written back as format 2, without parse trees, when they next change; and still answer the same", async () => {
    const mem = await loadFixture();
    const s = freshSession(mem);
    await s.execute("COMMENT ON TABLE items IS 'things'");
    await s.execute("CREATE OR REPLACE VIEW cheap AS SELECT id, name, price FROM items WHERE price < 10 ORDER BY id");
    const descs = await rawDescriptors(mem);
    for (const name of ["items", "cheap"]) {
      const d = descs.find((x) => x["name"] === name)!;
      expect(d["format"], name).toBe(DESCRIPTOR_FORMAT);
      expect(JSON.stringify(d), name).not.toMatch(PARSE_TREE);
    }
    const items = descs.find((x) => x["name"] === "items")!;
    expect((items["checks"] as Array<{ expr: unknown }>).map((c) => c.expr)).toEqual([
      `"length"("name") < 20`,
      `"price" >= 0`,
      `("name" <> 'x') AND ("name" NOT LIKE 'bad%') AND ("id" BETWEEN 1 AND 1000000)`,
      `"qty" < 100`,
    ]);
    // Untouched descriptors stay as they were on disk and are upgraded each time they are read.
    expect(descs.find((x) => x["name"] === "summary")!["format"]).toBeUndefined();
    await expectAnswers(freshSession(mem));
  });
});
