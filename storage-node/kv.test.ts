// The storage node's KV contract through the real HTTP API on a real LMDB directory:
// snapshot reads, conflicts, idempotent commits, scans and pages, GC, and a concurrent bank test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KvResponse, ReadResult } from "../common/kv-protocol/messages.ts";
import { startStorageNode, type StorageNode } from "./server.ts";
import { bytes, KvHttpClient, randomTxnId, text, tkey } from "./testing/kv-client.ts";

const SECRET = "test-fleet-secret-0123456789";
const T = 7;

let dir: string;
let node: StorageNode;
let kv: KvHttpClient;

beforeAll(async () => {
  // A dot in the directory name: lmdb-js would take it for a file name without noSubdir: false.
  dir = mkdtempSync(join(tmpdir(), "warren.kv-"));
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET });
  kv = await KvHttpClient.forTenant(node.url, SECRET, T);
});

afterAll(async () => {
  kv?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectType<K extends KvResponse["type"]>(res: KvResponse, type: K): Extract<KvResponse, { type: K }> {
  if (res.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(res, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  return res as Extract<KvResponse, { type: K }>;
}

async function put(k: string, v: string): Promise<bigint> {
  const r = expectType(await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, k), value: bytes(v) }] }), "batch");
  return r.commitTs;
}

async function getAt(k: string, readTs: bigint | null): Promise<string | null> {
  const r = expectType(await kv.send({ type: "read", readTs, ops: [{ op: "get", key: tkey(T, k) }] }), "read");
  const g = r.results[0] as Extract<ReadResult, { op: "get" }>;
  return text(g.value);
}

async function begin(): Promise<bigint> {
  return expectType(await kv.send({ type: "begin" }), "begin").readTs;
}

function span(k: string) {
  const key = tkey(T, k);
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return { start: key, end };
}

describe("storage node KV", () => {
  it("answers healthz and writes then reads a key", async () => {
    expect((await kv.json("/healthz")).json).toBe("ok");
    const ts = await put("a", "1");
    expect(ts > 0n).toBe(true);
    expect(await getAt("a", null)).toBe("1");
  });

  it("reads a consistent snapshot at the read timestamp", async () => {
    await put("snap", "old");
    const readTs = await begin();
    const commitTs = await put("snap", "new");
    expect(commitTs > readTs).toBe(true);
    expect(await getAt("snap", readTs)).toBe("old");
    expect(await getAt("snap", null)).toBe("new");
    expect(await getAt("snap", commitTs)).toBe("new");
    // A delete is a tombstone version: old snapshots still see the value.
    const delTs = expectType(await kv.send({ type: "batch", reads: [], writes: [{ op: "delete", key: tkey(T, "snap") }] }), "batch").commitTs;
    expect(await getAt("snap", delTs)).toBeNull();
    expect(await getAt("snap", commitTs)).toBe("new");
  });

  it("refuses a write-write conflict and a read-write conflict", async () => {
    await put("ww", "0");
    const t1 = await begin();
    const t2 = await begin();
    const c1 = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: t1, readSpans: [], writes: [{ op: "put", key: tkey(T, "ww"), value: bytes("t1") }] });
    expectType(c1, "commit");
    const c2 = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: t2, readSpans: [], writes: [{ op: "put", key: tkey(T, "ww"), value: bytes("t2") }] });
    expect(expectType(c2, "error").error.code).toBe("conflict");
    expect(c2.status).toBe(409);
    expect(await getAt("ww", null)).toBe("t1");

    // Write skew: each reads x and y, writes the other; the second must fail.
    await put("x", "1");
    await put("y", "1");
    const a = await begin();
    const b = await begin();
    const ca = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: a, readSpans: [span("x"), span("y")], writes: [{ op: "put", key: tkey(T, "x"), value: bytes("0") }] });
    expectType(ca, "commit");
    const cb = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: b, readSpans: [span("x"), span("y")], writes: [{ op: "put", key: tkey(T, "y"), value: bytes("0") }] });
    expect(expectType(cb, "error").error.code).toBe("conflict");
    expect(await getAt("y", null)).toBe("1");
  });

  it("detects phantoms: an insert into a scanned span conflicts", async () => {
    const r = await begin();
    await put("ph/2", "new");
    const s = { start: tkey(T, "ph/"), end: tkey(T, "ph0") };
    const c = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: r, readSpans: [s], writes: [{ op: "put", key: tkey(T, "ph-count"), value: bytes("0") }] });
    expect(expectType(c, "error").error.code).toBe("conflict");
  });

  it("applies a retried commit only once and returns the first outcome", async () => {
    await put("idem", "0");
    const readTs = await begin();
    const txnId = randomTxnId();
    const commit = { type: "commit" as const, txnId, readTs, readSpans: [span("idem")], writes: [{ op: "put" as const, key: tkey(T, "idem"), value: bytes("1") }] };
    const [first, second] = await Promise.all([kv.send(commit), kv.send(commit)]);
    const third = await kv.send(commit);
    const ts = expectType(first, "commit").commitTs;
    expect(expectType(second, "commit").commitTs).toBe(ts);
    expect(expectType(third, "commit").commitTs).toBe(ts);
    // Only one version was written: the value at ts is the only change since readTs.
    expect(await getAt("idem", null)).toBe("1");
    const scan = expectType(await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(T, "idem") }] }), "read");
    expect(scan.results).toHaveLength(1);
    // A conflicted commit's retry also gets its first outcome (conflict), even though it would now succeed.
    const r2 = await begin();
    await put("idem", "2");
    const txn2 = { ...commit, txnId: randomTxnId(), readTs: r2 };
    expect(expectType(await kv.send(txn2), "error").error.code).toBe("conflict");
    expect(expectType(await kv.send(txn2), "error").error.code).toBe("conflict");
    expect(await getAt("idem", null)).toBe("2");
  });

  it("conditional put applies only on match and reports the actual value", async () => {
    await put("cp", "a");
    const bad = await kv.send({ type: "batch", reads: [], writes: [{ op: "cput", key: tkey(T, "cp"), value: bytes("b"), expected: bytes("zzz") }] });
    const err = expectType(bad, "error").error;
    expect(err.code).toBe("condition_failed");
    expect(text(err.actual)).toBe("a");
    expectType(await kv.send({ type: "batch", reads: [], writes: [{ op: "cput", key: tkey(T, "cp"), value: bytes("b"), expected: bytes("a") }] }), "batch");
    expect(await getAt("cp", null)).toBe("b");
    expectType(await kv.send({ type: "batch", reads: [], writes: [{ op: "cput", key: tkey(T, "cp-new"), value: bytes("x"), expected: null }] }), "batch");
    expect(await getAt("cp-new", null)).toBe("x");
    // A failing cput refuses the whole batch: the put before it is not applied.
    const mixed = await kv.send({
      type: "batch",
      reads: [],
      writes: [
        { op: "put", key: tkey(T, "cp-side"), value: bytes("1") },
        { op: "cput", key: tkey(T, "cp"), value: null, expected: bytes("nope") },
      ],
    });
    expect(expectType(mixed, "error").error.code).toBe("condition_failed");
    expect(await getAt("cp-side", null)).toBeNull();
  });

  it("scans forward and in reverse with row and byte pages and resume keys", async () => {
    const writes = [];
    for (let i = 0; i < 25; i++) writes.push({ op: "put" as const, key: tkey(T, `sc/${String(i).padStart(2, "0")}`), value: bytes(`v${i}`) });
    expectType(await kv.send({ type: "batch", reads: [], writes }), "batch");
    const all: string[] = [];
    let start = tkey(T, "sc/");
    const end = tkey(T, "sc0");
    for (;;) {
      const r = expectType(await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start, end, reverse: false, maxRows: 10, maxBytes: 1 << 20 }] }), "read");
      const page = r.results[0] as Extract<ReadResult, { op: "scan" }>;
      all.push(...page.rows.map((row) => text(row.value)!));
      if (!page.resumeKey) break;
      expect(page.rows).toHaveLength(10);
      start = page.resumeKey;
    }
    expect(all).toEqual(Array.from({ length: 25 }, (_, i) => `v${i}`));
    const rev: string[] = [];
    let rend = end;
    for (;;) {
      const r = expectType(await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, "sc/"), end: rend, reverse: true, maxRows: 7, maxBytes: 1 << 20 }] }), "read");
      const page = r.results[0] as Extract<ReadResult, { op: "scan" }>;
      rev.push(...page.rows.map((row) => text(row.value)!));
      if (!page.resumeKey) break;
      rend = page.resumeKey;
    }
    expect(rev).toEqual(Array.from({ length: 25 }, (_, i) => `v${24 - i}`));
    // Byte-bounded page: each row is 12+2..3 bytes; 40 bytes fit 2 rows; a tiny bound still returns one row.
    const byBytes = expectType(await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, "sc/"), end, reverse: false, maxRows: 100, maxBytes: 40 }] }), "read");
    expect((byBytes.results[0] as Extract<ReadResult, { op: "scan" }>).rows).toHaveLength(2);
    const tiny = expectType(await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, "sc/"), end, reverse: false, maxRows: 100, maxBytes: 1 }] }), "read");
    expect((tiny.results[0] as Extract<ReadResult, { op: "scan" }>).rows).toHaveLength(1);
  });

  it("an empty span (start = end) is legal and reads nothing; an inverted one is malformed_request and changes nothing", async () => {
    await put("inv/a", "1");
    await put("inv/b", "2");
    const scan = (start: Uint8Array, end: Uint8Array, reverse: boolean) =>
      kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start, end, reverse, maxRows: 100, maxBytes: 1 << 20 }] });
    // Empty span, Postgres-style: `WHERE k >= 'b' AND k < 'b'` is not an error, just no rows.
    for (const reverse of [false, true]) {
      const page = expectType(await scan(tkey(T, "inv/b"), tkey(T, "inv/b"), reverse), "read").results[0] as Extract<ReadResult, { op: "scan" }>;
      expect(page.rows).toEqual([]);
      expect(page.resumeKey).toBeNull();
    }
    // Inverted spans are a client bug: every place a span appears refuses the whole request.
    const malformed = (res: KvResponse) => {
      expect(res.type).toBe("error");
      if (res.type === "error") {
        expect(res.error.code).toBe("malformed_request");
        expect(res.error.message).toMatch(/start after end/);
      }
    };
    for (const reverse of [false, true]) malformed(await scan(tkey(T, "inv/b"), tkey(T, "inv/a"), reverse));
    malformed(await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "inv/c"), value: bytes("3") }, { op: "deleteRange", start: tkey(T, "inv/b"), end: tkey(T, "inv/a") }] }));
    const r = await begin();
    malformed(
      await kv.send({ type: "commit", txnId: randomTxnId(), readTs: r, readSpans: [{ start: tkey(T, "inv/z"), end: tkey(T, "inv/a") }], writes: [{ op: "put", key: tkey(T, "inv/c"), value: bytes("3") }] }),
    );
    // Nothing changed: a and b are live, c was never written.
    const after = expectType(await scan(tkey(T, "inv/"), tkey(T, "inv0"), false), "read").results[0] as Extract<ReadResult, { op: "scan" }>;
    expect(after.rows.map((row) => text(row.value))).toEqual(["1", "2"]);
  });

  it("deleteRange tombstones every live key in the span, as an MVCC write", async () => {
    const writes = [];
    for (let i = 0; i < 5; i++) writes.push({ op: "put" as const, key: tkey(T, `dr/${i}`), value: bytes(`${i}`) });
    const before = expectType(await kv.send({ type: "batch", reads: [], writes }), "batch").commitTs;
    const r = await begin();
    const c = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: r, readSpans: [], writes: [{ op: "deleteRange", start: tkey(T, "dr/1"), end: tkey(T, "dr/4") }] });
    expectType(c, "commit");
    const scanAt = async (ts: bigint | null) => {
      const res = expectType(await kv.send({ type: "read", readTs: ts, ops: [{ op: "scan", start: tkey(T, "dr/"), end: tkey(T, "dr0"), reverse: false, maxRows: 100, maxBytes: 1 << 20 }] }), "read");
      return (res.results[0] as Extract<ReadResult, { op: "scan" }>).rows.map((row) => text(row.value));
    };
    expect(await scanAt(null)).toEqual(["0", "4"]);
    expect(await scanAt(before)).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("keeps the total constant under concurrent transfers (bank test)", async () => {
    const accounts = 10;
    const initial = 1000;
    const acct = (i: number) => tkey(T, `bank/${String(i).padStart(3, "0")}`);
    const enc = (n: number) => bytes(String(n));
    expectType(await kv.send({ type: "batch", reads: [], writes: Array.from({ length: accounts }, (_, i) => ({ op: "put" as const, key: acct(i), value: enc(initial) })) }), "batch");
    let committed = 0;
    let conflicts = 0;
    const transfers: Array<{ from: number; to: number; amount: number }> = [];
    const worker = async (seed: number) => {
      for (let n = 0; n < 30; n++) {
        const from = (seed * 7 + n * 3) % accounts;
        const to = (from + 1 + ((seed + n) % (accounts - 1))) % accounts;
        const amount = 1 + ((seed * 13 + n) % 50);
        for (let attempt = 0; attempt < 50; attempt++) {
          const readTs = await begin();
          const r = expectType(await kv.send({ type: "read", readTs, ops: [{ op: "get", key: acct(from) }, { op: "get", key: acct(to) }] }), "read");
          const a = Number(text((r.results[0] as { value: Uint8Array }).value));
          const b = Number(text((r.results[1] as { value: Uint8Array }).value));
          const res = await kv.send({
            type: "commit",
            txnId: randomTxnId(),
            readTs,
            readSpans: [{ start: acct(from), end: new Uint8Array([...acct(from), 0]) }, { start: acct(to), end: new Uint8Array([...acct(to), 0]) }],
            writes: [
              { op: "put", key: acct(from), value: enc(a - amount) },
              { op: "put", key: acct(to), value: enc(b + amount) },
            ],
          });
          if (res.type === "commit") {
            committed++;
            transfers.push({ from, to, amount });
            break;
          }
          expect(res.type === "error" && res.error.code).toBe("conflict");
          conflicts++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(i)));
    const scan = expectType(await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, "bank/"), end: tkey(T, "bank0"), reverse: false, maxRows: 100, maxBytes: 1 << 20 }] }), "read");
    const balances = (scan.results[0] as Extract<ReadResult, { op: "scan" }>).rows.map((row) => Number(text(row.value)));
    expect(balances).toHaveLength(accounts);
    expect(balances.reduce((x, y) => x + y, 0)).toBe(accounts * initial);
    // Every acknowledged transfer applied fully: replaying them gives exactly the stored balances.
    const expected = Array.from({ length: accounts }, () => initial);
    for (const t of transfers) {
      expected[t.from]! -= t.amount;
      expected[t.to]! += t.amount;
    }
    expect(balances).toEqual(expected);
    expect(committed).toBe(8 * 30);
    console.log(`bank test: ${committed} transfers committed, ${conflicts} conflicts retried`);
  });
});
