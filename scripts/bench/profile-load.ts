// npm run bench:profile-load — where the time of a pgbench load and a TPC-B run goes.
//
// Starts its own local stack with every Node process of it under V8's CPU profiler (NODE_OPTIONS
// --cpu-prof: the storage node's HTTP thread and its writer thread each write a profile), profiles
// the Worker isolates through workerd's inspector (the Chrome DevTools protocol on the stack's
// inspector port), runs `pgbench -i -s SCALE` and then a TPC-B run, stops the stack, and prints
// for each profiled thread the functions with the most self time and the files with the most.
//
//   npm run bench:profile-load -- --scale 1 --seconds 20 --clients 16
//
// A measurement, not a test: nothing is asserted. Profiles are left in the printed directory.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { freePort } from "../../cli/ports.ts";
import { startStack } from "../../test/harness/stack.ts";

const { values: opts } = parseArgs({
  options: {
    scale: { type: "string", default: "1" },
    seconds: { type: "string", default: "20" },
    clients: { type: "string", default: "16" },
    top: { type: "string", default: "25" },
    "no-gateway": { type: "boolean", default: false },
  },
});
const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-prof-"));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PGOPTIONS: "-c statement_timeout=0" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", (code) => resolve({ code, out, ms: Date.now() - t0 }));
  });
}

/** Self time per function and per file of one profile, in ms. */
function summarize(p: CpuProfile, top: number): string[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || "(anonymous)";
    total += us;
    if (name === "(idle)") idle += us;
    const file = n.callFrame.url.replace(`file://${repoRoot}/`, "").replace(/^.*node_modules\//, "node_modules/");
    const fnKey = `${name} ${file}${file ? `:${n.callFrame.lineNumber + 1}` : ""}`;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + us);
    const fileKey = file || name;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const fmt = (us: number) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((us / Math.max(busy, 1)) * 100).toFixed(1).padStart(5)} %`;
  const out = [`  wall ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s, busy (not idle) ${(busy / 1e6).toFixed(1)} s`];
  out.push("  by function (self time, % of busy):");
  for (const [k, v] of [...byFn].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`  ${fmt(v)}  ${k}`);
  out.push("  by file:");
  for (const [k, v] of [...byFile].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, Math.ceil(top / 2))) out.push(`  ${fmt(v)}  ${k}`);
  return out;
}

/** Profiles every inspectable Worker isolate of the stack through workerd's inspector. */
async function profileWorkers(inspectorPort: number): Promise<{ stop: () => Promise<Array<{ title: string; profile: CpuProfile }>> }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Array<{ title?: string; id?: string; webSocketDebuggerUrl?: string }>;
  const sessions: Array<{ title: string; ws: WebSocket; call: (method: string, params?: object) => Promise<any> }> = [];
  for (const t of targets) {
    if (!t.webSocketDebuggerUrl) continue;
    const ws = new WebSocket(t.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    let next = 1;
    const pending = new Map<number, (v: any) => void>();
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString());
      if (m.id !== undefined && pending.has(m.id)) {
        pending.get(m.id)!(m.result ?? m.error);
        pending.delete(m.id);
      }
    });
    const call = (method: string, params: object = {}) =>
      new Promise<any>((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await call("Profiler.enable");
    await call("Profiler.setSamplingInterval", { interval: 1000 });
    await call("Profiler.start");
    sessions.push({ title: t.title ?? t.id ?? "worker", ws, call });
  }
  return {
    stop: async () => {
      const out: Array<{ title: string; profile: CpuProfile }> = [];
      for (const s of sessions) {
        const r = await s.call("Profiler.stop");
        if (r?.profile) out.push({ title: s.title, profile: r.profile });
        s.ws.close();
      }
      return out;
    },
  };
}

const inspectorPort = await freePort();
const stack = await startStack({
  env: {
    WARREN_INSPECTOR_PORT: String(inspectorPort),
    NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir} --cpu-prof-interval=1000`,
    WARREN_STORAGE_LIMITS: JSON.stringify({ tenantRuPerSecond: 1e9, tenantBurstRu: 1e9, nodeRuPerSecond: 1e9 }),
  },
});
let workerProfiles: Array<{ title: string; profile: CpuProfile }> = [];
try {
  const storagePid = JSON.parse(fs.readFileSync(path.join(stack.dataDir, "dev.pids"), "utf8")).children.find((c: { marker: string }) => c.marker.includes("storage-node")).pid as number;
  await stack.warren(["tenant", "alter", stack.demo.name, "--ru-per-second", "1000000", "--burst", "1000000000000"]);
  const workers = opts["no-gateway"] ? null : await profileWorkers(inspectorPort).catch((e) => (console.log(`(no Worker profile: ${e})`), null));
  const init = await run("pgbench", ["-i", "-s", opts.scale, "-q", stack.demo.pg]);
  console.log(`pgbench -i -s ${opts.scale}: ${init.code === 0 ? "ok" : "FAILED"} in ${(init.ms / 1000).toFixed(1)} s${init.code === 0 ? "" : `\n${init.out}`}`);
  if (Number(opts.seconds) > 0) {
    const r = await run("pgbench", ["-n", "-c", opts.clients, "-j", "2", "-T", opts.seconds, "--max-tries=10", stack.demo.pg]);
    const tps = /tps = ([\d.]+) \(without/.exec(r.out)?.[1];
    const failed = /number of failed transactions: (\d+)/.exec(r.out)?.[1];
    const retried = /number of transactions retried: (\d+)/.exec(r.out)?.[1];
    console.log(`pgbench TPC-B -c ${opts.clients} -T ${opts.seconds}: ${tps} TPS, ${failed} failed, ${retried} retried`);
  }
  if (workers) workerProfiles = await workers.stop();
  console.log(`storage node pid ${storagePid}`);
} finally {
  await stack.stop();
}
const top = Number(opts.top);
for (const f of fs.readdirSync(profDir).sort()) {
  const p = JSON.parse(fs.readFileSync(path.join(profDir, f), "utf8")) as CpuProfile;
  const busyUs = p.timeDeltas.reduce((a, b) => a + b, 0);
  if (busyUs < 2e6) continue;
  console.log(`\n${f}`);
  for (const l of summarize(p, top)) console.log(l);
}
for (const w of workerProfiles) {
  console.log(`\nWorker isolate ${w.title}`);
  for (const l of summarize(w.profile, top)) console.log(l);
}
console.log(`\nprofiles in ${profDir}`);
