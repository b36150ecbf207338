// Where the edge Worker's CPU goes per request: a V8 CPU profile of the edge isolate, taken through
// wrangler dev's inspector while a stack serves a loop of one kind of request, summed by function.
//
//   node scripts/bench/profile-edge.ts [http-point|http-select1] [--requests N]
//
// Prints the top functions by self time and by time on the stack (ms per request) and writes the
// profile to the temporary directory (open it in Chrome DevTools → Performance).
// Notes for reading it: workerd runs the edge and every gateway isolate on one thread locally, but
// the inspector profiles the edge isolate only (a gateway's own work appears as time waiting);
// an async function's work after an await is attributed to the frames that resumed it, so
// "on the stack" is per resumption, not per call tree; and on a loaded machine the samples stretch
// with the waits for a core, so read shares, not absolute milliseconds.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { startStack, type Stack } from "../../test/harness/stack.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { requests: { type: "string", default: "200" } } });
const kind = positionals[0] ?? "http-point";
if (kind !== "http-point" && kind !== "http-select1") throw new Error(`unknown kind ${kind}: http-point or http-select1`);
const requests = Number(values.requests);

async function post(stack: Stack, query: string, params: unknown[] = []): Promise<void> {
  const res = await fetch(stack.demo.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": stack.demo.pg },
    body: JSON.stringify({ query, params }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /sql ${res.status}: ${text.slice(0, 200)}`);
}

/** wrangler dev's inspector port of this stack: the wrangler process whose --persist-to is in the stack's data dir (Linux /proc). */
function inspectorPort(stack: Stack): number {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = args.indexOf("--inspector-port");
      if (at >= 0 && args.some((a) => a.startsWith(stack.dataDir))) return Number(args[at + 1]);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error("the stack's wrangler dev inspector port was not found");
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarizeProfile(p: Profile, perRequest: number): { self: Array<[string, number]>; onStack: Array<[string, number]>; totalMs: number } {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").slice(-1)[0]}:${n.callFrame.lineNumber + 1}`;
  const usBySample = new Map<number, number>();
  p.samples.forEach((s, i) => usBySample.set(s, (usBySample.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const onStack = new Map<string, number>();
  let total = 0;
  for (const [id, us] of usBySample) {
    total += us;
    const leaf = nodes.get(id)!;
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(nodes.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      onStack.set(k, (onStack.get(k) ?? 0) + us);
    }
  }
  const per = (m: Map<string, number>) => [...m].map(([k, us]) => [k, us / 1000 / perRequest] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { self: per(self), onStack: per(onStack), totalMs: total / 1000 };
}

process.env.WARREN_READY_TIMEOUT_MS ??= "180000"; // a loaded machine starts wrangler dev slowly
const stack = await startStack();
try {
  await post(stack, "create table kv (id int primary key, v text)");
  await post(stack, "insert into kv select g, repeat('v', 100) from generate_series(0, 999) g");
  const op = kind === "http-point" ? (i: number) => post(stack, "select v from kv where id = $1", [i % 1000]) : () => post(stack, "select 1");
  for (let i = 0; i < 30; i++) await op(i); // warm: JIT, caches, the gateway isolate
  const port = inspectorPort(stack);
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let nextId = 0;
  const pending = new Map<number, (v: { result: unknown }) => void>();
  ws.on("message", (m) => {
    const msg = JSON.parse(String(m)) as { id?: number; result: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<{ result: unknown }>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) await op(i);
  const wallMs = performance.now() - t0;
  const profile = ((await send("Profiler.stop")).result as { profile: Profile }).profile;
  ws.close();
  const file = path.join(os.tmpdir(), `warren-edge-${kind}-${Date.now()}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  const s = summarizeProfile(profile, requests);
  const busy = s.self.filter(([k]) => !k.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
  console.log(`${requests} × ${kind}: ${(wallMs / requests).toFixed(1)} ms wall per request; edge isolate sampled ${busy.toFixed(2)} ms per request outside (idle)`);
  console.log("self time, ms per request (share of the non-idle samples):");
  for (const [k, v] of s.self.filter(([k]) => !k.startsWith("(idle)")).slice(0, 25)) console.log(`  ${v.toFixed(3).padStart(8)}  ${((100 * v) / busy).toFixed(1).padStart(5)} %  ${k}`);
  console.log("on the stack (per resumption), ms per request:");
  for (const [k, v] of s.onStack.filter(([k]) => !/^\((root|idle|program)\)/.test(k)).slice(0, 30)) console.log(`  ${v.toFixed(3).padStart(8)}  ${((100 * v) / busy).toFixed(1).padStart(5)} %  ${k}`);
  console.log(`profile: ${file}`);
} finally {
  await stack.stop();
}
