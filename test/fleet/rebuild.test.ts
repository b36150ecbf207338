// A replica rebuilt from a snapshot (storage-node/replication/snapshot-*.ts): three replicated
// storage nodes as real processes over LMDB, behind fault proxies, with the real FleetDirectory in
// `warren dev`'s workerd. The log keeps only 20 entries below what every replica applied, so a
// replica whose data directory is deleted cannot catch up from the log:
//   1. writers keep writing unique keys to the leaseholder throughout;
//   2. a backup is SIGKILLed and its data directory deleted; it restarts empty, leaves the
//      configuration, and pulls a snapshot from the leaseholder (2 KiB chunks, one fsync each);
//   3. in the middle of that stream it is SIGKILLed again; restarted, it wipes the half-installed
//      state and pulls a whole snapshot, is re-admitted and catches up from the log;
//   4. at rest, the three replicas have the same digest of the whole store (every key a snapshot
//      carries) and of the tenant's key range at the same apply point, and every acknowledged
//      write is there;
//   5. again with the *sender* SIGKILLed (and its connections reset) in the middle of the stream:
//      the replica rebuilds, from the next leaseholder if the stream broke, and the three replicas
//      end identical with every acknowledged write.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths } from "../../cli/data-dir.ts";
import { freePort } from "../../cli/ports.ts";
import type { ReadResult } from "../../common/kv-protocol/messages.ts";
import { bytes, KvHttpClient, tkey } from "../../storage-node/testing/kv-client.ts";
import { startStack, type Stack } from "../harness/stack.ts";
import { type LogShard, type NodeState, startLogShard, until } from "./log-shard.ts";

const TENANT = 43;
const nodeMain = path.resolve(import.meta.dirname, "..", "..", "storage-node", "replication", "replicated-node.ts");
const limits = { logRetainEntries: 20, logTruncateEveryMs: 200, snapshotChunkBytesMax: 2048 };
/** Preloaded bytes of values: ~300 chunks of 2 KiB (an fsync each), so the stream lasts long enough to be cut. */
const PRELOAD_BATCHES = 60;
const PRELOAD_KEYS_PER_BATCH = 50;
const VALUE_BYTES = 200;

interface ReplState extends NodeState {
  firstSeq: number;
  kvUrl: string | null;
  snapshot: { installingFrom: string | null; chunks: number; keys: number; installed: number; wipedAtStart: boolean; sending: number; sent: number };
}
interface DigestAnswer {
  applied: number;
  keys: number;
  digest: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
describe("a replica rebuilt from a snapshot while the shard serves writes", () => {
  let stack: Stack;
  let shard: LogShard;
  let secret: string;
  const kvPorts = new Map<string, number>();
  const clients = new Map<string, KvHttpClient>();
  const state = async (id: string) => (await shard.state(id)) as ReplState | undefined;

  async function leader(): Promise<{ id: string; kv: KvHttpClient } | undefined> {
    for (const id of shard.ids) {
      if (!shard.alive(id)) continue;
      const s = await state(id);
      if (s?.leaseholder && s.kvUrl) {
        let kv = clients.get(id);
        if (!kv) clients.set(id, (kv = await KvHttpClient.forTenant(`http://127.0.0.1:${kvPorts.get(id)}`, secret, TENANT)));
        return { id, kv };
      }
    }
    return undefined;
  }

  /** Writes keys `${prefix}/${i}` in one batch; true once acknowledged. */
  async function put(kv: KvHttpClient, names: string[]): Promise<boolean> {
    try {
      const r = await kv.send({ type: "batch", reads: [], writes: names.map((n) => ({ op: "put" as const, key: tkey(TENANT, n), value: bytes(n.padEnd(VALUE_BYTES, ".")) })) });
      return r.type === "batch";
    } catch {
      return false;
    }
  }

  beforeAll(async () => {
    stack = await startStack();
    secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
    for (const id of ["n1", "n2", "n3"]) kvPorts.set(id, await freePort());
    shard = await startLogShard({
      edgeUrl: stack.http,
      fleetSecret: secret,
      shardId: 9,
      main: nodeMain,
      args: (id) => ["--port", String(kvPorts.get(id))],
      restartOnExitCode: 75,
      env: { WARREN_REPLICATION_LIMITS: JSON.stringify(limits) },
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients.values()) c.close();
    await shard?.close();
    await stack?.stop();
  });

  /** Writers of unique keys to whichever node holds the lease, until stopped. */
  function startWriters(prefix: string, count: number) {
    const acked = new Set<string>();
    const ackedAtMs: number[] = [];
    let writing = true;
    const writer = async (w: number) => {
      let to: { id: string; kv: KvHttpClient } | undefined;
      for (let n = 0; writing; n++) {
        to ??= await leader();
        if (!to) {
          await sleep(50);
          continue;
        }
        const name = `${prefix}${w}/${n}`;
        if (await put(to.kv, [name])) {
          acked.add(name);
          ackedAtMs.push(performance.now());
        } else {
          to = undefined;
          await sleep(50);
        }
      }
    };
    const running = Array.from({ length: count }, (_, w) => writer(w));
    return {
      acked,
      ackedAtMs,
      async stop() {
        writing = false;
        await Promise.all(running);
      },
    };
  }

  /** A wiped `victim` restarted and seen in the middle of its first snapshot stream. */
  async function wipeAndCatchMidStream(victim: string): Promise<ReplState["snapshot"]> {
    shard.kill(victim);
    await shard.wipe(victim);
    await shard.restart(victim);
    return until("the wiped replica in the middle of a snapshot stream", async () => {
      const s = await state(victim);
      if (s && s.snapshot.installed > 0) throw new Error(`${victim} installed a whole snapshot before the test saw it in the middle of one`);
      return s && s.snapshot.installingFrom !== null && s.snapshot.chunks >= 10 ? s.snapshot : undefined;
    }, 120_000);
  }

  async function untilRebuilt(victim: string): Promise<ReplState> {
    return until("the replica rebuilt and back in the replica set", async () => {
      const s = await state(victim);
      const l = await leader();
      const ls = l && (await state(l.id));
      return s && s.snapshot.installed >= 1 && ls && ls.replicas.includes(victim) && ls.replicas.length === 3 ? s : undefined;
    }, 120_000);
  }

  /** At rest: the same apply point, the same store and the same tenant range on every replica. */
  async function identicalReplicas(): Promise<{ store: DigestAnswer; tenant: DigestAnswer }> {
    const digests = await until("three identical replicas", async () => {
      const ds: Array<{ store: DigestAnswer; tenant: DigestAnswer } | undefined> = await Promise.all(
        shard.ids.map(async (id) => {
          const store = (await shard.get(id, "/v1/digest?scope=store")) as DigestAnswer | undefined;
          const tenant = (await shard.get(id, `/v1/digest?scope=tenant&tenant=${TENANT}`)) as DigestAnswer | undefined;
          return store && tenant && store.applied === tenant.applied ? { store, tenant } : undefined;
        }),
      );
      if (ds.some((d) => d === undefined)) return undefined;
      const same = new Set(ds.map((d) => `${d!.store.applied}/${d!.store.digest}/${d!.tenant.digest}`)).size === 1;
      return same ? ds.map((d) => d!) : undefined;
    }, 60_000);
    return digests[0]!;
  }

  /** Every key of the tenant, read at the leaseholder. */
  async function presentKeys(): Promise<Set<string>> {
    const kv = (await until("a leaseholder", leader, 30_000)).kv;
    const begin = await kv.send({ type: "begin" });
    if (begin.type !== "begin") throw new Error(`begin: ${JSON.stringify(begin)}`);
    const present = new Set<string>();
    let start = tkey(TENANT, "");
    const end = tkey(TENANT, "\u00ff");
    for (;;) {
      const page = await kv.send({ type: "read", readTs: begin.readTs, ops: [{ op: "scan", start, end, reverse: false, maxRows: 10_000, maxBytes: 4 << 20 }] });
      if (page.type !== "read") throw new Error(`scan: ${JSON.stringify(page)}`);
      const scan = page.results[0] as Extract<ReadResult, { op: "scan" }>;
      for (const row of scan.rows) present.add(Buffer.from(row.key.subarray(9)).toString("utf8"));
      if (!scan.resumeKey) break;
      start = scan.resumeKey;
    }
    return present;
  }

  it("wiped, cut by kill -9 in the middle of its snapshot, rebuilt, re-admitted: three identical replicas, every acknowledged write present", async () => {
    // Each batch until acknowledged (a loaded machine may move the lease meanwhile; a batch's puts
    // are idempotent, so sending one again is harmless).
    for (let b = 0; b < PRELOAD_BATCHES; b++) {
      const names = Array.from({ length: PRELOAD_KEYS_PER_BATCH }, (_, i) => `pre/${String(b).padStart(3, "0")}/${i}`);
      await until(`preload batch ${b} acknowledged`, async () => {
        const l = await leader();
        return l && (await put(l.kv, names)) ? true : undefined;
      }, 60_000);
    }
    // The log was truncated on every replica once all had applied the preload.
    await until("the log truncated on every replica", async () => {
      const ss = await Promise.all(shard.ids.map(state));
      return ss.every((s) => s !== undefined && s.firstSeq > PRELOAD_BATCHES - limits.logRetainEntries) ? true : undefined;
    }, 30_000);

    const writers = startWriters("w", 4);
    const lead = (await until("a leaseholder", leader, 30_000)).id;
    const victim = shard.ids.find((id) => id !== lead)!;
    const cutAt = await wipeAndCatchMidStream(victim);
    const cutAtMs = performance.now();
    shard.kill(victim);
    console.log(`rebuild: ${victim} killed after ${cutAt.chunks} chunks (${cutAt.keys} keys) of its snapshot from ${cutAt.installingFrom}`);
    await shard.restart(victim);

    const rebuilt = await untilRebuilt(victim);
    const rebuiltAtMs = performance.now();
    const acksDuringRebuild = writers.ackedAtMs.filter((t) => t >= cutAtMs && t <= rebuiltAtMs).length;
    console.log(`rebuild: ${victim} rebuilt from a whole snapshot and re-admitted ${((rebuiltAtMs - cutAtMs) / 1000).toFixed(1)} s after the cut (${rebuilt.snapshot.installed} install(s)); ${acksDuringRebuild} writes acknowledged meanwhile`);
    expect(rebuilt.snapshot.wipedAtStart, "the restart wiped the half-installed snapshot").toBe(true);
    expect(acksDuringRebuild, "the shard kept acknowledging writes while the replica rebuilt").toBeGreaterThan(0);

    // Writes go on through the catch-up from the log, then stop.
    const before = writers.acked.size;
    await until("writes acknowledged after the re-admission", async () => (writers.acked.size > before + 20 ? true : undefined), 60_000);
    await writers.stop();

    const d = await identicalReplicas();
    console.log(`rebuild: replicas identical at entry ${d.store.applied}: ${d.store.keys} keys in the store (digest ${d.store.digest.slice(0, 12)}…), ${d.tenant.keys} versions of tenant ${TENANT}; ${writers.acked.size} writes acknowledged`);
    expect(d.tenant.keys).toBeGreaterThanOrEqual(PRELOAD_BATCHES * PRELOAD_KEYS_PER_BATCH + writers.acked.size);
    const present = await presentKeys();
    expect(present.size).toBeGreaterThanOrEqual(PRELOAD_BATCHES * PRELOAD_KEYS_PER_BATCH + writers.acked.size);
    expect([...writers.acked].filter((n) => !present.has(n)).slice(0, 5), "acknowledged writes missing").toEqual([]);
    // The rebuilt replica's log starts after the snapshot's entry: it never held the truncated prefix.
    expect((await state(victim))!.firstSeq).toBeGreaterThan(PRELOAD_BATCHES - limits.logRetainEntries);
  }, 300_000);

  it("the leaseholder SIGKILLed in the middle of the snapshot it sends: the replica still rebuilds, three identical replicas, every acknowledged write present", async () => {
    const writers = startWriters("x", 4);
    const lead = (await until("a leaseholder", leader, 30_000)).id;
    const victim = shard.ids.find((id) => id !== lead)!;
    const cutAt = await wipeAndCatchMidStream(victim);
    expect(cutAt.installingFrom).toBe(lead);
    const killedAtMs = performance.now();
    shard.kill(lead);
    // The sender had long written the whole snapshot into socket and proxy buffers (the receiver is
    // the slow end: an fsync per chunk), so its death alone would not cut the stream; the reset of
    // every connection through its proxies drops what was still in flight, as a machine that dies
    // takes its buffers with it.
    shard.cut(lead, "reset");
    await sleep(200);
    shard.heal(lead);
    console.log(`rebuild: leaseholder ${lead} killed after ${cutAt.chunks} chunks of the snapshot it sent to ${victim}`);
    await shard.restart(lead);
    const rebuilt = await untilRebuilt(victim);
    // Either the stream broke (the replica restarted, wiped the partial install and rebuilt from
    // the next leaseholder) or every byte had already reached the replica's socket before the
    // reset, and the snapshot — a consistent state, checked end to end — installed whole. Both end
    // identical; which one happened is printed. (The simulation breaks transfers every time.)
    console.log(
      `rebuild: ${victim} ${rebuilt.snapshot.wipedAtStart ? "saw the stream break, wiped the partial install at its restart, and rebuilt" : "had received the whole snapshot before the reset and installed it"}; ` +
        `re-admitted ${((performance.now() - killedAtMs) / 1000).toFixed(1)} s after the kill`,
    );
    expect(rebuilt.snapshot.installed).toBeGreaterThanOrEqual(1);
    const before = writers.acked.size;
    await until("writes acknowledged after the re-admission", async () => (writers.acked.size > before + 20 ? true : undefined), 60_000);
    await writers.stop();
    const d = await identicalReplicas();
    console.log(`rebuild: replicas identical at entry ${d.store.applied}: ${d.store.keys} keys; ${writers.acked.size} writes acknowledged`);
    const present = await presentKeys();
    expect([...writers.acked].filter((n) => !present.has(n)).slice(0, 5), "acknowledged writes missing").toEqual([]);
  }, 300_000);
});
