// Writes workers/gateway/sql/fixtures/format1-catalog.json: a tenant's whole keyspace (catalog and rows) as written by the code
// from before descriptors kept SQL text (format 1: expressions as the parser's JSON), and what
// that code answered to the queries of format1-queries.json, so sql/descriptor-upgrade.test.ts checks
// that today's code opens that data and answers the same.
//
// Made with the commit before the change (93e0495), unpacked beside the repository:
//   mkdir /tmp/format1 && git archive 93e0495 | tar -x -C /tmp/format1
//   ln -s "$PWD/node_modules" /tmp/format1/node_modules
//   node_modules/.bin/node scripts/make-format1-catalog.ts /tmp/format1
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2];
if (root === undefined) throw new Error("usage: make-format1-catalog.ts <checkout of the old code>");
const here = join(import.meta.dirname, "..", "workers", "gateway", "sql", "fixtures");
const load = (p: string) => import(join(root, p));
const { Session } = await load("workers/gateway/sql/session.ts");
const { MemoryKv, memoryCapability } = await load("workers/gateway/kv/memory-kv.ts");
const { KvClient } = await load("workers/gateway/kv/kv-client.ts");
const { Txn } = await load("workers/gateway/txn/txn.ts");
const { tablePrefix, TEMP_TABLE_ID_MIN } = await load("workers/gateway/keys/doc.ts");

const TENANT_ID = 4242;
const mem = new MemoryKv();
const s = new Session({ kv: memoryCapability(mem), tenantId: TENANT_ID });
for (const stmt of readFileSync(join(here, "format1-catalog.sql"), "utf8").split(";\n").map((x: string) => x.trim()).filter((x: string) => x !== "")) {
  await s.execute(stmt);
}
const answers: Record<string, Array<Array<string | null>>> = {};
const queries = JSON.parse(readFileSync(join(here, "format1-queries.json"), "utf8")) as string[];
for (const q of queries) {
  const [r] = await s.execute(q);
  answers[q] = r.rows;
}
await s.close();

const txn = new Txn(new KvClient(mem));
const entries: Array<[string, string]> = [];
for await (const page of txn.scan(tablePrefix(TENANT_ID, 1), tablePrefix(TENANT_ID, TEMP_TABLE_ID_MIN))) {
  for (const row of page) entries.push([Buffer.from(row.key).toString("hex"), Buffer.from(row.value).toString("base64")]);
}
await txn.rollback();
writeFileSync(join(here, "format1-catalog.json"), JSON.stringify({ tenantId: TENANT_ID, madeWith: "93e0495", entries, answers }, null, 1) + "\n");
console.log(`format1-catalog.json: ${entries.length} keys, ${queries.length} answers`);
