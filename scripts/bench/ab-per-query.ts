// Before/after for the per-query path on a busy machine: two stacks at once — this checkout and
// another one (`--before DIR`, e.g. a `git archive` of the base commit with node_modules linked) —
// and PostgreSQL 15, sent the same requests in turn, round after round, so the load of the machine
// falls on both sides alike. Sequential runs of `npm run bench -- --sections per-query` an hour (or
// a minute) apart differ by more than most changes do when other work shares the cores.
//
//   node scripts/bench/ab-per-query.ts --before /tmp/warren-base [--rounds 200]
//
// Prints, per operation, p50 and p99 of each side, after/before, and each side against PostgreSQL's
// point select measured in the same rounds.
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { postgresAvailable, startPostgres } from "../../test/harness/postgres.ts";
import type { Stack } from "../../test/harness/stack.ts";
import { summarize } from "../../test/isolation/noisy-neighbour.ts";
import { workerdDirectUrl } from "./workerd-direct.ts";

const { values } = parseArgs({ options: { before: { type: "string" }, rounds: { type: "string", default: "200" }, warmup: { type: "string", default: "20" } } });
if (values.before === undefined) throw new Error("--before DIR: the checkout to compare with (its own test/harness/stack.ts starts its stack)");
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
process.env.WARREN_READY_TIMEOUT_MS ??= "180000";

type Op = (i: number) => Promise<unknown>;
const key = (i: number) => (i * 7919) % 1000;

async function opsFor(stack: Stack): Promise<{ ops: Record<string, Op>; close: () => Promise<void> }> {
  const direct = await workerdDirectUrl(stack);
  const post = (base: string) => async (query: string, params: unknown[] = []) => {
    const res = await fetch(`${base}/sql`, { method: "POST", headers: { "content-type": "application/json", "neon-connection-string": stack.demo.pg }, body: JSON.stringify({ query, params }) });
    const body = await res.text();
    if (!res.ok) throw new Error(`POST /sql ${res.status}: ${body.slice(0, 200)}`);
  };
  const pub = post(stack.http);
  await pub("create table kv (id int primary key, v text)");
  await pub("insert into kv select g, repeat('v', 100) from generate_series(0, 999) g");
  const c = new pg.Client({ connectionString: stack.demo.pg });
  c.on("error", () => undefined);
  await c.connect();
  const ops: Record<string, Op> = {
    "HTTP point select": (i) => pub("select v from kv where id = $1", [key(i)]),
    "HTTP select 1": () => pub("select 1"),
    "tunnel point select": (i) => c.query("select v from kv where id = $1", [key(i)]),
  };
  if (direct !== null) {
    const d = post(direct);
    ops["HTTP past wrangler's proxy: point select"] = (i) => d("select v from kv where id = $1", [key(i)]);
    ops["HTTP past wrangler's proxy: select 1"] = () => d("select 1");
    ops["HTTP past wrangler's proxy: GET /"] = async () => (await fetch(`${direct}/`)).text();
  }
  return { ops, close: () => c.end().catch(() => undefined) };
}

const beforeHarness = (await import(path.resolve(values.before, "test/harness/stack.ts"))) as typeof import("../../test/harness/stack.ts");
const afterHarness = await import("../../test/harness/stack.ts");
const stacks: Stack[] = [];
const pgServer = postgresAvailable() ? await startPostgres() : null;
try {
  stacks.push(await beforeHarness.startStack());
  stacks.push(await afterHarness.startStack());
  const sides = [await opsFor(stacks[0]!), await opsFor(stacks[1]!)];
  let pgPoint: Op | null = null;
  let pgClient: pg.Client | null = null;
  if (pgServer !== null) {
    pgClient = new pg.Client({ connectionString: pgServer.url });
    await pgClient.connect();
    await pgClient.query("create table kv (id int primary key, v text)");
    await pgClient.query("insert into kv select g, repeat('v', 100) from generate_series(0, 999) g");
    const c = pgClient;
    pgPoint = (i) => c.query("select v from kv where id = $1", [key(i)]);
  }
  const names = Object.keys(sides[0]!.ops).filter((n) => n in sides[1]!.ops);
  const samples = new Map<string, number[]>();
  const time = async (label: string, op: Op, i: number) => {
    const t = performance.now();
    await op(i);
    if (i >= warmup) (samples.get(label) ?? samples.set(label, []).get(label)!).push(performance.now() - t);
  };
  for (let i = 0; i < warmup + rounds; i++) {
    // Alternate which side goes first, so neither always follows the other.
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const n of names) for (const s of order) await time(`${s}:${n}`, sides[s]!.ops[n]!, i);
    if (pgPoint !== null) await time("pg", pgPoint, i);
  }
  const pgP50 = pgPoint !== null ? summarize(samples.get("pg")!).p50 : NaN;
  const f = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
  console.log(`${rounds} rounds (load ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")} at the end); PostgreSQL 15 point select p50 ${f(pgP50)}`);
  console.log("| operation | before p50 / p99 | after p50 / p99 | after / before (p50) | before / PostgreSQL | after / PostgreSQL |");
  console.log("|---|---|---|---|---|---|");
  for (const n of names) {
    const b = summarize(samples.get(`0:${n}`)!);
    const a = summarize(samples.get(`1:${n}`)!);
    console.log(`| ${n} | ${f(b.p50)} / ${f(b.p99)} | ${f(a.p50)} / ${f(a.p99)} | ${(a.p50 / b.p50).toFixed(2)}× | ${(b.p50 / pgP50).toFixed(1)}× | ${(a.p50 / pgP50).toFixed(1)}× |`);
  }
  await pgClient?.end();
  for (const s of sides) await s.close();
} finally {
  for (const s of stacks) await s.stop();
  await pgServer?.stop();
}
