// Where a victim's time goes during a /sql flood (issue 7, "200 concurrent /sql requests"): one
// local stack, a victim probing continuously, and windows that alternate the victim alone with one
// flood variant each, so every flood is compared with a solo window measured just before it on the
// same machine state. Printed per window: the victim's point select through the tunnel (the
// noisy-neighbour suite's figure), the victim's /sql through wrangler's proxy and straight to the
// user workerd (the proxy's share), the flood's outcomes, and per process of the stack the CPU it
// ran and the time it waited runnable for a CPU (/proc/PID/task/*/schedstat).
//
//   node_modules/.bin/node scripts/flood-probe.ts [variant …]
//     variants: NAME=CONCURRENCY:QUERY, e.g. "count200=200:select count(*) from generate_series(1, 20000)"
//     (default: the suite's flood, the same flood of `select 1`, and 8 clients of the suite's query);
//     a NAME ending in "@direct" sends the flood straight to the user workerd, not through wrangler's proxy
//   EDGE_* variables (cli/dev-stack.ts EDGE_TUNING_VARS) pass through to the stack.
//   PROBE_BLOCKERS=N: N loops of the aggressor keep `select pg_sleep(5)` running throughout, so that
//   with EDGE_SQL_REQUESTS_PER_TENANT=N EDGE_SQL_QUEUE_PER_TENANT=0 every flood request is refused
//   (what one refusal costs).
//
// A diagnostic, not a benchmark: read each flood against the solo window before it.
import fs from "node:fs";
import { execSync } from "node:child_process";
import { Worker } from "node:worker_threads";
import pg from "pg";
import { startStack } from "../test/harness/stack.ts";
import { stackProcesses, type StackProcess } from "./stack-processes.ts";

const windowMs = Number(process.env.PROBE_WINDOW_MS ?? 8_000);
const suiteQuery = "select count(*) from generate_series(1, 20000)";
const variants = (process.argv.length > 2 ? process.argv.slice(2) : [`count200=200:${suiteQuery}`, "one200=200:select 1", `count8=8:${suiteQuery}`]).map((v) => {
  const m = /^([^=]+)=(\d+):(.*)$/.exec(v);
  if (m === null) throw new Error(`variant ${v}: expected NAME=CONCURRENCY:QUERY`);
  return { name: m[1]!, concurrency: Number(m[2]), query: m[3]! };
});

// The flood runs in a thread of its own, so its client work does not delay the victim's probes.
const floodThread = `
const { parentPort, workerData: j } = require("node:worker_threads");
(async () => {
  const out = {};
  const until = performance.now() + j.ms;
  await Promise.all(Array.from({ length: j.concurrency }, async () => {
    while (performance.now() < until) {
      let k;
      try {
        const r = await fetch(j.url, { method: "POST", headers: { "neon-connection-string": j.conn }, body: JSON.stringify({ query: j.query, params: [] }) });
        const b = await r.json();
        k = r.ok ? "ok" : b.code ?? String(r.status);
      } catch (e) { k = "error"; }
      out[k] = (out[k] ?? 0) + 1;
    }
  }));
  parentPort.postMessage(out);
})();`;

function flood(url: string, conn: string, concurrency: number, query: string, ms: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(floodThread, { eval: true, workerData: { url, conn, concurrency, query, ms } });
    w.once("message", (m) => {
      resolve(m as Record<string, number>);
      void w.terminate();
    });
    w.once("error", reject);
  });
}

/** The stack's processes by role (others under it, esbuild and the like, are left out). */
function processesUnder(root: number): Map<number, StackProcess> {
  const roles = new Set(["self", "user-workerd", "proxy-workerd", "wrangler-node", "storage", "tunnel"]);
  return new Map([...stackProcesses(root)].filter(([, p]) => roles.has(p.label)));
}

function pct(s: number[], q: number): number {
  const v = [...s].sort((a, b) => a - b);
  return v.length === 0 ? NaN : v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)]!;
}

const stack = await startStack({ env: { STATEMENT_TIMEOUT_MS: "8000" } });
try {
  const victim = await stack.createTenant("victim");
  const agg = await stack.createTenant("aggressor");
  const userPid = [...processesUnder(stack.pid).entries()].find(([, x]) => x.label === "user-workerd")?.[0];
  // The user workerd's socket that serves the edge Worker (miniflare's entry), to reach it without the proxy.
  const ports = execSync("ss -ltnp").toString().split("\n").filter((l) => l.includes(`pid=${userPid},`)).map((l) => /127\.0\.0\.1:(\d+)/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
  let direct: string | null = null;
  for (const p of ports) {
    try {
      const t = await (await fetch(`http://127.0.0.1:${p}/`, { headers: { host: new URL(stack.http).host }, signal: AbortSignal.timeout(2_000) })).text();
      if (t.includes("warren-edge")) direct = `http://127.0.0.1:${p}`;
    } catch {}
  }
  console.log(`edge through wrangler's proxy: ${stack.http}; straight to the user workerd: ${direct ?? "not found"}`);

  const c = new pg.Client({ connectionString: victim.pg });
  await c.connect();
  await c.query("create table kv (id int primary key, v text)");
  await c.query("insert into kv select g, 'v' from generate_series(1, 100) g");
  const w = new pg.Client({ connectionString: agg.pg });
  await w.connect();
  await w.query("select 1");
  await w.end();

  const samples: Record<string, number[]> = {};
  let running = true;
  const loops: Promise<void>[] = [];
  const loop = (name: string, periodMs: number, fn: () => Promise<unknown>) =>
    loops.push(
      (async () => {
        while (running) {
          const t = performance.now();
          let key = name;
          try {
            await fn();
          } catch {
            key = `${name} (error)`;
          }
          (samples[key] ??= []).push(performance.now() - t);
          await new Promise((r) => setTimeout(r, periodMs));
        }
      })(),
    );
  const victimSql = (base: string) => async () => {
    const r = await fetch(`${base}/sql`, { method: "POST", headers: { "neon-connection-string": victim.pg, host: new URL(stack.http).host }, body: JSON.stringify({ query: "select v from kv where id = 3", params: [] }), signal: AbortSignal.timeout(15_000) });
    const t = await r.text();
    if (!r.ok) throw new Error(t);
  };
  loop("tunnel point select", 100, () => c.query("select v from kv where id = 7"));
  loop("/sql via proxy", 200, victimSql(stack.http));
  if (direct !== null) loop("/sql direct", 200, victimSql(direct));
  loop("GET / via proxy", 250, async () => (await fetch(stack.http + "/", { signal: AbortSignal.timeout(15_000) })).text());

  const blockers = Array.from({ length: Number(process.env.PROBE_BLOCKERS ?? 0) }, async () => {
    while (running) {
      await fetch(`${stack.http}/sql`, { method: "POST", headers: { "neon-connection-string": agg.pg }, body: JSON.stringify({ query: "select pg_sleep(5)", params: [] }) }).then((r) => r.text()).catch(() => undefined);
    }
  });
  let soloCpu = new Map<string, number>();
  const window = async (title: string, during: () => Promise<Record<string, number> | void>) => {
    for (const k of Object.keys(samples)) delete samples[k];
    const p0 = processesUnder(stack.pid);
    const t0 = performance.now();
    const outcome = await during();
    const s = (performance.now() - t0) / 1000;
    const p1 = processesUnder(stack.pid);
    console.log(`--- ${title} (${s.toFixed(1)} s)${outcome === undefined ? "" : ` flood got ${JSON.stringify(outcome)}`}`);
    // CPU per flood request in each process: its CPU above the solo window's rate, over the requests.
    const cpuPerS = new Map([...p1.entries()].map(([pid, x]) => [x.label, (x.runNs - (p0.get(pid)?.runNs ?? x.runNs)) / 1e9 / s]));
    if (outcome === undefined) soloCpu = cpuPerS;
    else {
      const n = Object.values(outcome).reduce((a, b) => a + b, 0);
      console.log(`  CPU per flood request (above solo): ` + [...cpuPerS].map(([l, c]) => `${l} ${(((c - (soloCpu.get(l) ?? 0)) * s * 1000) / n).toFixed(2)} ms`).join(", "));
    }
    for (const [k, v] of Object.entries(samples)) console.log(`  ${k.padEnd(28)} n=${String(v.length).padStart(3)} p50 ${pct(v, 0.5).toFixed(1)} p90 ${pct(v, 0.9).toFixed(1)} p99 ${pct(v, 0.99).toFixed(1)} ms`);
    const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0];
    console.log(
      `  load ${load}; per process, s per s: ` +
        [...p1.entries()]
          .map(([pid, x]) => {
            const y = p0.get(pid) ?? { ticks: x.ticks, runNs: x.runNs, waitNs: x.waitNs };
            return `${x.label} cpu ${((x.runNs - y.runNs) / 1e9 / s).toFixed(2)} waited ${((x.waitNs - y.waitNs) / 1e9 / s).toFixed(2)}`;
          })
          .join(", "),
    );
  };
  await new Promise((r) => setTimeout(r, 2_000));
  for (const v of variants) {
    await window("solo", () => new Promise((r) => setTimeout(r, windowMs)));
    const base = v.name.endsWith("@direct") ? direct : stack.http;
    if (base === null) throw new Error("the user workerd's own socket was not found");
    await window(`flood ${v.name}: ${v.concurrency} clients loop POST /sql ${JSON.stringify(v.query)}`, () => flood(`${base}/sql`, agg.pg, v.concurrency, v.query, windowMs));
    await new Promise((r) => setTimeout(r, 3_000)); // held refusals and queued requests drain
  }
  running = false;
  await Promise.all([...loops, ...blockers]);
  await c.end();
} finally {
  await stack.stop();
}
