// Where a victim's latency goes while one aggressor of test/isolation/noisy-neighbour.ts (or a raw
// flood) runs: starts the local stack, probes each hop separately (a point select through the
// tunnel, GET / through wrangler's proxy and straight to each of the user workerd's sockets, /sql
// of the victim), and prints their p50/p99 for a solo window and for the aggressor's window, with
// the CPU seconds per second each process of the stack used in both (from /proc).
//
//   node_modules/.bin/node scripts/isolation-probe.ts sql|ws|get|sqlraw
//     sql     the "200 concurrent /sql requests" aggressor     ws      "500 logged-in WebSockets"
//     get     200 loops of GET / for 8 s                       sqlraw  200 loops of /sql, in this thread
//
// A diagnostic, not a benchmark: the figures are as noisy as the machine (compare the two windows
// of one run, never runs with each other).
import { execSync } from "node:child_process";
import pg from "pg";
import { startStack } from "../test/harness/stack.ts";
import { stackProcesses } from "./stack-processes.ts";
import { runAggressorInThread } from "../test/isolation/aggressor-thread.ts";

const mode = process.argv[2] ?? "sql";
const stack = await startStack({ env: { STATEMENT_TIMEOUT_MS: "8000" } });
try {
  const victim = await stack.createTenant("victim");
  const agg = await stack.createTenant("aggressor");
  const procs = () => stackProcesses(stack.pid);
  const before = procs();
  console.log([...before.entries()].map(([p, x]) => `${p} ${x.label}`).join("\n"));
  // find user workerd port
  const userPid = [...before.entries()].find(([, x]) => x.label === "user-workerd")?.[0];
  const ss = execSync(`ss -ltnp`).toString().split("\n").filter((l) => l.includes(`pid=${userPid},`));
  console.log(ss.join("\n"));
  const c = new pg.Client({ connectionString: victim.pg });
  await c.connect();
  await c.query("create table kv (id int primary key, v text)");
  await c.query("insert into kv select g, 'v' from generate_series(1,100) g");
  const w = new pg.Client({ connectionString: agg.pg });
  await w.connect(); await w.query("select 1"); await w.end();
  const directPorts = ss.map((l) => /127\.0\.0\.1:(\d+)/.exec(l)?.[1]).filter(Boolean) as string[];
  const samples: Record<string, number[]> = {};
  const rec = (k: string, v: number) => (samples[k] ??= []).push(v);
  let running = true;
  const loops: Promise<void>[] = [];
  const loop = (name: string, period: number, fn: () => Promise<unknown>) => loops.push((async () => {
    while (running) {
      const t = performance.now();
      try { await fn(); rec(name, performance.now() - t); } catch (e) { rec(name + "!err", performance.now() - t); }
      await new Promise((r) => setTimeout(r, period));
    }
  })());
  loop("tunnel point select", 100, () => c.query("select v from kv where id = 7"));
  loop("GET / proxy", 250, async () => (await fetch(stack.http + "/")).text());
  for (const p of directPorts) loop(`GET / direct:${p}`, 250, async () => (await fetch(`http://127.0.0.1:${p}/`, { headers: { host: new URL(stack.http).host } })).text());
  loop("victim /sql", 250, async () => {
    const r = await fetch(stack.http + "/sql", { method: "POST", headers: { "neon-connection-string": victim.pg }, body: JSON.stringify({ query: "select v from kv where id = 3", params: [] }) });
    if (!r.ok) throw new Error(await r.text());
    return r.text();
  });
  const report = (title: string) => {
    const lines = Object.entries(samples).map(([k, v]) => { const s = v.sort((a, b) => a - b); return `${k}: n=${s.length} p50 ${s[Math.floor(s.length / 2)]!.toFixed(1)} p99 ${s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!.toFixed(1)} max ${s.at(-1)!.toFixed(1)}`; });
    console.log(`--- ${title}\n` + lines.join("\n"));
    for (const k of Object.keys(samples)) delete samples[k];
  };
  const cpu = (a: ReturnType<typeof procs>, b: ReturnType<typeof procs>, s: number) => [...b.entries()].map(([p, x]) => `${x.label} ${((x.ticks - (a.get(p)?.ticks ?? 0)) / 100 / s).toFixed(2)}`).join(", ");
  await new Promise((r) => setTimeout(r, 6000));
  let p0 = procs();
  report("solo"); console.log("cpu/s:", cpu(before, p0, 6));
  const t0 = performance.now();
  const name = mode === "sql" ? "200 concurrent /sql requests" : mode === "ws" ? "500 logged-in WebSockets" : mode;
  const outcome = mode === "get" || mode === "sqlraw" ? await rawFlood(mode) : await runAggressorInThread({ name, statementTimeoutMs: 8000, env: { tenant: agg, edgeUrl: stack.http, tunnelPort: stack.ports.pg }, windowMs: 10000 });
  async function rawFlood(m: string) {
    const out: Record<string, number> = {};
    const until = performance.now() + 8000;
    await Promise.all(Array.from({ length: 200 }, async () => {
      while (performance.now() < until) {
        const r = m === "get" ? await fetch(stack.http + "/") : await fetch(stack.http + "/sql", { method: "POST", headers: { "neon-connection-string": agg.pg }, body: JSON.stringify({ query: "select count(*) from generate_series(1, 20000)", params: [] }) });
        const b = await r.text();
        const k = r.ok ? "ok" : (JSON.parse(b).code ?? String(r.status));
        out[k] = (out[k] ?? 0) + 1;
      }
    }));
    return out;
  }
  const secs = (performance.now() - t0) / 1000;
  const p1 = procs();
  report(`during ${name} (${secs.toFixed(1)} s) ${JSON.stringify(outcome)}`); console.log("cpu/s:", cpu(p0, p1, secs));
  running = false; await Promise.all(loops); await c.end();
} finally {
  await stack.stop();
}
