// Pessimistic transactions on the storage node through the real HTTP API and LMDB: intents and
// read-your-own-writes, commit and abort, lock queues, deadlock detection, refresh, heartbeat
// expiry and the abort of pending transactions after a restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KvRequest, KvResponse, ReadResult } from "../../common/kv-protocol/messages.ts";
import { startStorageNode, type StorageNode } from "../server.ts";
import { bytes, KvHttpClient, randomTxnId, text, tkey } from "../testing/kv-client.ts";

const SECRET = "test-fleet-secret-0123456789";
const T = 9;
const X = 1;

let dir: string;
let node: StorageNode;
let kv: KvHttpClient;

async function start(overrides: Record<string, number> = {}): Promise<void> {
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, limits: { txnHeartbeatExpiryMs: 400, ...overrides } });
  kv = await KvHttpClient.forTenant(node.url, SECRET, T);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren.txn-"));
  await start();
});

afterAll(async () => {
  kv?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

const send = (r: KvRequest): Promise<KvResponse> => kv.send(r);

function ok<K extends KvResponse["type"]>(res: KvResponse, type: K): Extract<KvResponse, { type: K }> {
  if (res.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(res, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString() : v))}`);
  return res as Extract<KvResponse, { type: K }>;
}

function errCode(res: KvResponse): string {
  return res.type === "error" ? res.error.code : `ok:${res.type}`;
}

async function plainGet(k: string): Promise<string | null> {
  const r = ok(await send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(T, k) }] }), "read");
  return text((r.results[0] as Extract<ReadResult, { op: "get" }>).value);
}

async function txnGet(txnId: Uint8Array, k: string, lock: number, readTs: bigint | null = null): Promise<KvResponse> {
  return send({ type: "txnRead", txnId, readTs, ops: [{ op: "get", key: tkey(T, k) }], locks: new Uint8Array([lock]) });
}

function getValue(res: KvResponse): string | null {
  const r = ok(res, "read");
  return text((r.results[0] as Extract<ReadResult, { op: "get" }>).value);
}

async function put(k: string, v: string): Promise<void> {
  ok(await send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, k), value: bytes(v) }] }), "batch");
}

function span(k: string) {
  const key = tkey(T, k);
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return { start: key, end };
}

describe("intents and transaction records", () => {
  it("keeps intents invisible to others, visible to their transaction, and resolves them at commit", async () => {
    await put("a/1", "old");
    const txn = randomTxnId();
    const r0 = ok(await txnGet(txn, "a/1", 0), "read");
    ok(await send({ type: "txnWrite", txnId: txn, readTs: r0.readTs, writes: [{ op: "put", key: tkey(T, "a/1"), value: bytes("new") }, { op: "put", key: tkey(T, "a/2"), value: bytes("two") }] }), "ack");
    expect(await plainGet("a/1")).toBe("old");
    expect(await plainGet("a/2")).toBeNull();
    expect(getValue(await txnGet(txn, "a/1", 0, r0.readTs))).toBe("new");
    const scan = ok(await send({ type: "txnRead", txnId: txn, readTs: r0.readTs, ops: [{ op: "scan", start: tkey(T, "a/"), end: tkey(T, "a0"), reverse: false, maxRows: 10, maxBytes: 0 }], locks: new Uint8Array([0]) }), "read");
    const rows = (scan.results[0] as Extract<ReadResult, { op: "scan" }>).rows.map((r) => `${text(r.key.subarray(9))}=${text(r.value)}`);
    expect(rows).toEqual(["a/1=new", "a/2=two"]);
    // The final commit carries one more write; the intents commit with it.
    const c = ok(await send({ type: "commit", txnId: txn, readTs: r0.readTs, readSpans: [span("a/1")], writes: [{ op: "put", key: tkey(T, "a/3"), value: bytes("three") }] }), "commit");
    expect(c.commitTs).toBeGreaterThan(r0.readTs);
    expect(await plainGet("a/1")).toBe("new");
    expect(await plainGet("a/2")).toBe("two");
    expect(await plainGet("a/3")).toBe("three");
    // Nothing is left locked: another transaction writes the keys at once.
    const other = randomTxnId();
    const r1 = ok(await txnGet(other, "a/1", X), "read");
    ok(await send({ type: "txnWrite", txnId: other, readTs: r1.readTs, writes: [{ op: "put", key: tkey(T, "a/2"), value: bytes("2b") }] }), "ack");
    ok(await send({ type: "commit", txnId: other, readTs: r1.readTs, readSpans: [], writes: [] }), "commit");
    expect(await plainGet("a/2")).toBe("2b");
  });

  it("removes intents on abort, and refuses a later commit of the aborted transaction", async () => {
    const txn = randomTxnId();
    const r0 = ok(await txnGet(txn, "b/1", 0), "read");
    ok(await send({ type: "txnWrite", txnId: txn, readTs: r0.readTs, writes: [{ op: "put", key: tkey(T, "b/1"), value: bytes("x") }] }), "ack");
    ok(await send({ type: "abort", txnId: txn, readTs: r0.readTs }), "abort");
    expect(errCode(await send({ type: "commit", txnId: txn, readTs: r0.readTs, readSpans: [], writes: [] }))).toBe("transaction_aborted");
    expect(await plainGet("b/1")).toBeNull();
    await put("b/1", "y");
    expect(await plainGet("b/1")).toBe("y");
  });

  it("cput inside a transaction compares with its own intent", async () => {
    const txn = randomTxnId();
    const r0 = ok(await txnGet(txn, "c/1", 0), "read");
    ok(await send({ type: "txnWrite", txnId: txn, readTs: r0.readTs, writes: [{ op: "put", key: tkey(T, "c/1"), value: bytes("v1") }] }), "ack");
    const refused = await send({ type: "txnWrite", txnId: txn, readTs: r0.readTs, writes: [{ op: "cput", key: tkey(T, "c/1"), value: bytes("v2"), expected: null }] });
    expect(errCode(refused)).toBe("condition_failed");
    ok(await send({ type: "txnWrite", txnId: txn, readTs: r0.readTs, writes: [{ op: "cput", key: tkey(T, "c/1"), value: bytes("v2"), expected: bytes("v1") }] }), "ack");
    ok(await send({ type: "commit", txnId: txn, readTs: r0.readTs, readSpans: [], writes: [] }), "commit");
    expect(await plainGet("c/1")).toBe("v2");
  });
});

describe("locks", () => {
  it("a second locker waits in the queue and then reads the first one's committed value", async () => {
    await put("hot", "0");
    const a = randomTxnId();
    const b = randomTxnId();
    const ra = ok(await txnGet(a, "hot", X), "read");
    expect(getValue(ra)).toBe("0");
    let bDone = false;
    const bRead = txnGet(b, "hot", X).then((r) => {
      bDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(bDone).toBe(false);
    ok(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [span("hot")], writes: [{ op: "put", key: tkey(T, "hot"), value: bytes("1") }] }), "commit");
    const rb = await bRead;
    // B's snapshot was taken after it got the lock: it sees A's commit and commits without conflict.
    expect(getValue(rb)).toBe("1");
    ok(await send({ type: "commit", txnId: b, readTs: ok(rb, "read").readTs, readSpans: [span("hot")], writes: [{ op: "put", key: tkey(T, "hot"), value: bytes("2") }] }), "commit");
    expect(await plainGet("hot")).toBe("2");
  });

  it("a single-shot write waits for a lock holder instead of overtaking it", async () => {
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "q", X), "read");
    let done = false;
    const blind = send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "q"), value: bytes("blind") }] }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    ok(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [span("q")], writes: [{ op: "put", key: tkey(T, "q"), value: bytes("a") }] }), "commit");
    ok(await blind, "batch");
    expect(await plainGet("q")).toBe("blind");
  });

  it("a writer that meets another transaction's intent waits for that transaction to finish", async () => {
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "i/0", 0), "read");
    ok(await send({ type: "txnWrite", txnId: a, readTs: ra.readTs, writes: [{ op: "put", key: tkey(T, "i/1"), value: bytes("a") }] }), "ack");
    let done = false;
    const blind = send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "i/1"), value: bytes("b") }] }).then((r) => {
      done = true;
      return r;
    });
    const b = randomTxnId();
    let bDone = false;
    const bLock = txnGet(b, "i/1", X).then((r) => {
      bDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(done).toBe(false);
    expect(bDone).toBe(false);
    ok(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [], writes: [] }), "commit");
    ok(await blind, "batch");
    const rb = ok(await bLock, "read");
    expect(getValue(rb)).toBe("b");
    ok(await send({ type: "abort", txnId: b, readTs: rb.readTs }), "abort");
  });

  it("detects a deadlock at once: the transaction closing the cycle gets deadlock, the other commits", async () => {
    const a = randomTxnId();
    const b = randomTxnId();
    const ra = ok(await txnGet(a, "d/1", X), "read");
    const rb = ok(await txnGet(b, "d/2", X), "read");
    const aWaits = txnGet(a, "d/2", X, ra.readTs);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const bCycle = await txnGet(b, "d/1", X, rb.readTs);
    expect(errCode(bCycle)).toBe("deadlock");
    expect(Date.now() - t0).toBeLessThan(1000);
    // B was aborted on the node: A gets d/2 and commits.
    const a2 = ok(await aWaits, "read");
    ok(await send({ type: "commit", txnId: a, readTs: a2.readTs, readSpans: [span("d/1"), span("d/2")], writes: [{ op: "put", key: tkey(T, "d/1"), value: bytes("a") }, { op: "put", key: tkey(T, "d/2"), value: bytes("a") }] }), "commit");
    expect(await plainGet("d/2")).toBe("a");
  });

  it("a locking read of a key changed after the snapshot says write_too_old; refresh moves the snapshot when the reads still hold", async () => {
    await put("r/1", "1");
    await put("r/2", "1");
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "r/1", 0), "read");
    await put("r/2", "2");
    const tooOld = await txnGet(a, "r/2", X, ra.readTs);
    expect(errCode(tooOld)).toBe("write_too_old");
    const fresh = ok(await send({ type: "refresh", txnId: a, readTs: ra.readTs, spans: [span("r/1")] }), "refresh");
    expect(fresh.readTs).toBeGreaterThan(ra.readTs);
    expect(getValue(await txnGet(a, "r/2", X, fresh.readTs))).toBe("2");
    await put("r/1", "changed");
    expect(errCode(await send({ type: "refresh", txnId: a, readTs: fresh.readTs, spans: [span("r/1")] }))).toBe("conflict");
    ok(await send({ type: "abort", txnId: a, readTs: fresh.readTs }), "abort");
  });

  it("an abandoned transaction (no heartbeat) is pushed out: its intents go, its waiters proceed, its commit is refused", async () => {
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "e/1", X), "read");
    ok(await send({ type: "txnWrite", txnId: a, readTs: ra.readTs, writes: [{ op: "put", key: tkey(T, "e/1"), value: bytes("ghost") }] }), "ack");
    const b = randomTxnId();
    const t0 = Date.now();
    const rb = await txnGet(b, "e/1", X);
    expect(getValue(rb)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(errCode(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [], writes: [] }))).toBe("transaction_aborted");
    expect(errCode(await send({ type: "heartbeat", txnId: a }))).toBe("transaction_aborted");
    ok(await send({ type: "abort", txnId: b, readTs: ok(rb, "read").readTs }), "abort");
  });

  it("a lock holder's heartbeat (locksOnly) is refused when the node does not know it; a plain one is accepted", async () => {
    // After a restart the lock table is empty: a holder of locks only must learn its locks are gone.
    const unknown = randomTxnId();
    expect(errCode(await send({ type: "heartbeat", txnId: unknown, locksOnly: true }))).toBe("transaction_aborted");
    ok(await send({ type: "heartbeat", txnId: unknown }), "ack");
    // One the node knows (it holds a lock) is kept alive either way.
    const holder = randomTxnId();
    ok(await txnGet(holder, "lk/1", X), "read");
    ok(await send({ type: "heartbeat", txnId: holder, locksOnly: true }), "ack");
  });

  it("heartbeats keep a silent transaction's locks", async () => {
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "h/1", X), "read");
    const beat = setInterval(() => void send({ type: "heartbeat", txnId: a }), 100);
    try {
      const b = randomTxnId();
      let got = false;
      const bRead = txnGet(b, "h/1", X).then((r) => {
        got = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 900));
      expect(got).toBe(false);
      ok(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [], writes: [{ op: "put", key: tkey(T, "h/1"), value: bytes("kept") }] }), "commit");
      expect(getValue(await bRead)).toBe("kept");
      ok(await send({ type: "abort", txnId: b, readTs: 0n }), "abort");
    } finally {
      clearInterval(beat);
    }
  });
});

describe("restart", () => {
  it("aborts transactions left pending by the previous process: no intent survives, their commit is refused", async () => {
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "s/1", X), "read");
    ok(await send({ type: "txnWrite", txnId: a, readTs: ra.readTs, writes: [{ op: "put", key: tkey(T, "s/1"), value: bytes("lost") }] }), "ack");
    kv.close();
    await node.close();
    await start();
    // (The new process's clock must have passed the old snapshot: any read moves it.)
    await plainGet("s/0");
    expect(errCode(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [], writes: [] }))).toBe("transaction_aborted");
    expect(await plainGet("s/1")).toBeNull();
    await put("s/1", "fresh");
    expect(await plainGet("s/1")).toBe("fresh");
  });
});

describe("lockWaitMsMax", () => {
  it("a lock wait ends with conflict after lockWaitMsMax while the holder stays alive", async () => {
    kv.close();
    await node.close();
    await start({ lockWaitMsMax: 300, txnHeartbeatExpiryMs: 10_000 });
    const a = randomTxnId();
    const ra = ok(await txnGet(a, "w/1", X), "read");
    const t0 = Date.now();
    const b = await txnGet(randomTxnId(), "w/1", X);
    expect(errCode(b)).toBe("conflict");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    ok(await send({ type: "commit", txnId: a, readTs: ra.readTs, readSpans: [], writes: [{ op: "put", key: tkey(T, "w/1"), value: bytes("a") }] }), "commit");
    expect(await plainGet("w/1")).toBe("a");
  });
});
