// npm run bench:moves — where a tenant move's write pause goes (issue 13, acceptance 4: p99 < 1 s).
// Two one-replica shards and `warren dev`'s FleetDirectory (test/fleet/move-fleet.ts), writers on
// every moving tenant and on tenants that stay (each write a read and a commit through the edge's
// routing code), and tenants moved one after another: small ones (a few dozen keys) and large ones
// (--large-keys keys each, so a pause that grows with the tenant shows).
//
// Printed, in the same run:
//   - the pause each moved tenant's writes saw: the longest of its writes that overlapped its move
//     (it includes that write's own latency), p50/p99 per size;
//   - held: from the fence sent to the target's adopt answered, p50/p99 (what the move itself adds:
//     a write that arrives in it waits that long, then takes its own time on the target);
//   - the baseline: writes of tenants not moving, p50/p99 (what a write costs on this machine now);
//   - the fenced window's parts per move (tenant-move.ts fencedSteps): the fence and tail round trip
//     with the source's fence, tail read and digest inside it; the import-and-adopt round trip with
//     the target's writer and digest check inside it; the directory's switch (outside the pause).
// Exits 1 if an acknowledged write is missing or doubled (move-fleet.ts verifyWrites).
//
//   npm run bench:moves                 10 small and 4 large moves
//   npm run bench:moves -- --short      3 small and 1 large (CI's bench smoke)
import os from "node:os";
import { parseArgs } from "node:util";
import { bytes, tkey } from "../storage-node/testing/kv-client.ts";
import { moveTenant, type MoveResult } from "../storage-node/moves/tenant-move.ts";
import { percentile, placeAndSeed, sleep, startMoveFleet, verifyWrites, writer, type WriterLog } from "../test/fleet/move-fleet.ts";

const { values: opts } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    small: { type: "string" },
    large: { type: "string" },
    "large-keys": { type: "string", default: "20000" },
  },
});
const smallMoves = Number(opts.small ?? (opts.short ? 3 : 10));
const largeMoves = Number(opts.large ?? (opts.short ? 1 : 4));
const largeKeys = Number(opts["large-keys"]);
const STAYING = 6;
const FIRST = 5_000;
const log = (line: string) => console.log(`bench:moves: ${line}`);
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
const ms = (sorted: number[], q: number) => `${percentile(sorted, q).toFixed(0)} ms`;
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

const fleet = await startMoveFleet(1, "bench:moves");
let failed = false;
try {
  const send = fleet.edgeClient();
  const tenants = smallMoves + largeMoves + STAYING;
  const placedOn = await placeAndSeed(fleet, send, FIRST, tenants);
  const large = Array.from({ length: largeMoves }, (_, i) => FIRST + smallMoves + i);
  for (const t of large) {
    for (let at = 0; at < largeKeys; at += 2_000) {
      const writes = Array.from({ length: Math.min(2_000, largeKeys - at) }, (_, i) => ({ op: "put" as const, key: tkey(t, `bulk/${String(at + i).padStart(8, "0")}`), value: bytes("x".repeat(100)) }));
      const r = await send(t, { type: "batch", reads: [], writes });
      if (r.type !== "batch") throw new Error(`loading tenant ${t}: ${JSON.stringify(r)}`);
    }
  }
  log(`${tenants} tenants placed; ${large.length} loaded with ${largeKeys} keys of 100 bytes each; load ${load()}`);

  const logs = new Map<number, WriterLog>([...placedOn.keys()].map((t) => [t, { acked: [], unknown: [] }]));
  let writing = true;
  const running = [...logs].map(([t, l]) => writer(send, t, l, () => writing));
  await sleep(500);
  const moves: Array<MoveResult & { startedMs: number; endedMs: number; large: boolean }> = [];
  for (let i = 0; i < smallMoves + largeMoves; i++) {
    const t = FIRST + i;
    const startedMs = performance.now();
    const r = await moveTenant(fleet.moveDeps, t, placedOn.get(t) === 1 ? 2 : 1);
    moves.push({ ...r, startedMs, endedMs: performance.now(), large: large.includes(t) });
    const steps = Object.entries(r.fencedSteps).map(([k, v]) => `${k} ${v}`).join(", ");
    log(`tenant ${t} (${r.keysCopied} keys): fenced ${r.fencedMs.toFixed(0)} ms [${steps}], ${r.fencedTailOps} ops in the fenced tail, move ${r.totalMs.toFixed(0)} ms`);
    await sleep(200);
  }
  await sleep(500);
  writing = false;
  await Promise.all(running);

  const pauseOf = (m: (typeof moves)[number]) =>
    Math.max(0, ...logs.get(m.tenantId)!.acked.filter((w) => w.endedMs >= m.startedMs && w.startedMs <= m.endedMs).map((w) => w.endedMs - w.startedMs));
  const staying = [...logs.keys()].filter((t) => t >= FIRST + smallMoves + largeMoves);
  const baseline = sorted(staying.flatMap((t) => logs.get(t)!.acked.map((w) => w.endedMs - w.startedMs)));
  for (const [label, group] of [["small", moves.filter((m) => !m.large)], ["large", moves.filter((m) => m.large)], ["all", moves]] as const) {
    if (group.length === 0) continue;
    const p = sorted(group.map(pauseOf));
    const part = (k: string) => sorted(group.map((m) => m.fencedSteps[k] ?? NaN).filter((x) => Number.isFinite(x)));
    const parts = ["fence+tail", "source fence", "source tail", "source digest", "import+adopt", "target writer", "target digest", "switch"].map((k) => `${k} p50 ${ms(part(k), 0.5)}`).join(", ");
    const held = sorted(group.map((m) => (m.fencedSteps["fence+tail"] ?? 0) + (m.fencedSteps["import+adopt"] ?? 0)));
    log(`${label} tenants (${group.length} moves, ${group.map((m) => m.keysCopied).join("/")} keys): write pause p50 ${ms(p, 0.5)}, p99 ${ms(p, 0.99)}; held (fence → adopted) p50 ${ms(held, 0.5)}, p99 ${ms(held, 0.99)}; fenced p50 ${ms(sorted(group.map((m) => m.fencedMs)), 0.5)}; ${parts}`);
  }
  log(`baseline (same run): writes of tenants not moving p50 ${ms(baseline, 0.5)}, p99 ${ms(baseline, 0.99)}; load ${load()}`);

  const check = fleet.edgeClient();
  for (const [t, l] of logs) {
    try {
      await verifyWrites(check, t, l);
    } catch (err) {
      failed = true;
      log(`INVARIANTS BROKEN for tenant ${t}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  log(failed ? "FAILED" : `invariants: every acknowledged write present once on ${logs.size} tenants`);
} finally {
  await fleet.close();
}
if (failed) process.exitCode = 1;
