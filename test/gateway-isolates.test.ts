// Many tenants, each in its own gateway isolate (Worker Loader), on one local runtime. Guards the
// workerd crash we hit when RPC results were left for the garbage collector to dispose: the
// runtime logged "An RPC result was not disposed properly" from inside GC and died (SIGTRAP), so
// the second to tenth tenant's first query failed with "Network connection lost". common/rpc.ts
// settles every RPC result; this test keeps it that way.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { httpSql, startStack, type Stack } from "./harness/stack.ts";

const TENANTS = 12;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

function edgeLog(): string {
  const dir = path.join(stack.dataDir, "logs");
  return readdirSync(dir)
    .filter((f) => f.startsWith("edge"))
    .map((f) => readFileSync(path.join(dir, f), "utf8"))
    .join("\n");
}

test(`${TENANTS} tenants each get their own gateway isolate, and the runtime never crashes`, async () => {
  for (let i = 1; i <= TENANTS; i++) {
    const tenant = await stack.createTenant(`iso${i}`);
    await httpSql(tenant, "create table t (id int primary key, v text)");
    await httpSql(tenant, "insert into t values ($1, $2)", [i, `tenant ${i}`]);
    const res = await httpSql(tenant, "select v from t");
    expect(res.rows).toEqual([{ v: `tenant ${i}` }]);
  }
  const log = edgeLog();
  expect(log).not.toContain("crashed unexpectedly");
  expect(log).not.toContain("not disposed properly");
});
