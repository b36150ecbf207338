// Before/after for the per-query path on a busy machine: two stacks at once — this checkout and
// another one (`--before DIR`, e.g. a `git archive` of the base commit with node_modules linked) —
// and PostgreSQL 15, sent the same requests in alternating blocks, so the load of the machine falls
// on both sides alike. Sequential runs of `npm run bench -- --sections per-query` minutes apart
// differ by more than most changes do when other work shares the cores.
//
//   node scripts/bench/ab-per-query.ts --before /tmp/warren-base [--rounds 8] [--block 25]
//
// Prints, per operation and side: latency p50 / p99, after/before, each against PostgreSQL's point
// select measured in the same rounds; and the CPU each of the stack's processes spent per request
// (Linux /proc, 10 ms ticks summed over every block): wrangler's proxy (the workerd that listens on
// the public port), the edge's workerd (edge and gateway isolates), the storage node. CPU per
// request moves far less with the machine's load than latency does.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { dataPaths, readJson } from "../../cli/data-dir.ts";
import { postgresAvailable, startPostgres } from "../../test/harness/postgres.ts";
import type { Stack } from "../../test/harness/stack.ts";
import { summarize } from "../../test/isolation/noisy-neighbour.ts";
import { listeningPorts, stackPids, workerdDirectUrl } from "./workerd-direct.ts";

const { values } = parseArgs({ options: { before: { type: "string" }, rounds: { type: "string", default: "8" }, block: { type: "string", default: "25" } } });
if (values.before === undefined) throw new Error("--before DIR: the checkout to compare with (its own test/harness/stack.ts starts its stack)");
const rounds = Number(values.rounds);
const block = Number(values.block);
process.env.WARREN_READY_TIMEOUT_MS ??= "180000";

type Op = (i: number) => Promise<unknown>;
type Proc = "proxy" | "edge workerd" | "storage node";
const PROCS: readonly Proc[] = ["proxy", "edge workerd", "storage node"];
const key = (i: number) => (i * 7919) % 1000;
const CLK_TCK = 100;

function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

function processesOf(stack: Stack): Record<Proc, number[]> {
  const workerd = stackPids(stack);
  const proxy = workerd.filter((pid) => { try { return listeningPorts(pid).includes(stack.ports.http); } catch { return false; } });
  const pids = readJson<{ children: { pid: number; marker: string }[] }>(dataPaths(stack.dataDir).pids);
  const storage = pids?.children.filter((c) => c.marker.includes("storage-node")).map((c) => c.pid) ?? [];
  return { proxy, "edge workerd": workerd.filter((p) => !proxy.includes(p)), "storage node": storage };
}

async function sideOf(stack: Stack): Promise<{ ops: Record<string, Op>; procs: Record<Proc, number[]>; close: () => Promise<void> }> {
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
    "tunnel select 1": () => c.query("select 1"),
  };
  if (direct !== null) {
    const d = post(direct);
    ops["HTTP past wrangler's proxy: point select"] = (i) => d("select v from kv where id = $1", [key(i)]);
    ops["HTTP past wrangler's proxy: select 1"] = () => d("select 1");
    ops["HTTP past wrangler's proxy: GET /"] = async () => (await fetch(`${direct}/`)).text();
  }
  return { ops, procs: processesOf(stack), close: () => c.end().catch(() => undefined) };
}

const beforeHarness = (await import(path.resolve(values.before, "test/harness/stack.ts"))) as typeof import("../../test/harness/stack.ts");
const afterHarness = await import("../../test/harness/stack.ts");
const stacks: Stack[] = [];
const pgServer = postgresAvailable() ? await startPostgres() : null;
try {
  stacks.push(await beforeHarness.startStack());
  stacks.push(await afterHarness.startStack());
  const sides = [await sideOf(stacks[0]!), await sideOf(stacks[1]!)];
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
  const cpu = new Map<string, Record<Proc, number>>();
  const runBlock = async (label: string, op: Op, measured: boolean, procs?: Record<Proc, number[]>) => {
    const cpuBefore = procs && PROCS.map((p) => procs[p].reduce((a, pid) => a + cpuMs(pid), 0));
    for (let i = 0; i < block; i++) {
      const t = performance.now();
      await op(i);
      if (measured) (samples.get(label) ?? samples.set(label, []).get(label)!).push(performance.now() - t);
    }
    if (measured && procs && cpuBefore) {
      const acc = cpu.get(label) ?? { proxy: 0, "edge workerd": 0, "storage node": 0 };
      PROCS.forEach((p, k) => (acc[p] += procs[p].reduce((a, pid) => a + cpuMs(pid), 0) - cpuBefore[k]!));
      cpu.set(label, acc);
    }
  };
  // Round 0 warms up (JIT, caches, isolates) and is not counted.
  for (let r = 0; r <= rounds; r++) {
    for (const n of names) {
      // Alternate which side goes first, so neither always follows the other.
      for (const s of r % 2 === 0 ? [0, 1] : [1, 0]) await runBlock(`${s}:${n}`, sides[s]!.ops[n]!, r > 0, sides[s]!.procs);
    }
    if (pgPoint !== null) await runBlock("pg", pgPoint, r > 0);
  }
  const pgP50 = pgPoint !== null ? summarize(samples.get("pg")!).p50 : NaN;
  const f = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
  const requests = rounds * block;
  console.log(`${rounds} rounds of ${block} requests per operation and side; load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} at the end; PostgreSQL 15 point select p50 ${f(pgP50)}`);
  console.log("");
  console.log("| operation | before p50 / p99 | after p50 / p99 | after / before (p50) | before / PostgreSQL | after / PostgreSQL |");
  console.log("|---|---|---|---|---|---|");
  for (const n of names) {
    const b = summarize(samples.get(`0:${n}`)!);
    const a = summarize(samples.get(`1:${n}`)!);
    console.log(`| ${n} | ${f(b.p50)} / ${f(b.p99)} | ${f(a.p50)} / ${f(a.p99)} | ${(a.p50 / b.p50).toFixed(2)}× | ${(b.p50 / pgP50).toFixed(1)}× | ${(a.p50 / pgP50).toFixed(1)}× |`);
  }
  console.log("");
  console.log(`CPU ms per request, before → after (${requests} requests per cell):`);
  console.log("");
  console.log(`| operation | ${PROCS.join(" | ")} | total |`);
  console.log(`|---|${PROCS.map(() => "---|").join("")}---|`);
  for (const n of names) {
    const b = cpu.get(`0:${n}`)!;
    const a = cpu.get(`1:${n}`)!;
    const cell = (x: number, y: number) => `${(x / requests).toFixed(2)} → ${(y / requests).toFixed(2)}`;
    const sum = (r: Record<Proc, number>) => PROCS.reduce((s, p) => s + r[p], 0);
    console.log(`| ${n} | ${PROCS.map((p) => cell(b[p], a[p])).join(" | ")} | ${cell(sum(b), sum(a))} |`);
  }
  await pgClient?.end();
  for (const s of sides) await s.close();
} finally {
  for (const s of stacks) await s.stop();
  await pgServer?.stop();
}
