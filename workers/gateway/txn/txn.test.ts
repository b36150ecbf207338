// The transaction coordinator over the in-memory KV: read-your-own-writes in gets and scans
// (forward, reverse, deletes, range deletes), savepoints, conflicts, read-only, limits, handles.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { LockMode } from "../../../common/kv-protocol/messages.ts";
import { KvClient } from "../kv/kv-client.ts";
import { MemoryKv } from "../kv/memory-kv.ts";
import { txnLimits } from "./limits.ts";
import { kvLimits } from "../kv/limits.ts";
import { Txn } from "./txn.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const k = (s: string): Uint8Array => enc.encode(`t/${s}`);
const v = (s: string): Uint8Array => enc.encode(s);

async function seeded(): Promise<{ mem: MemoryKv; kv: KvClient }> {
  const mem = new MemoryKv();
  const kv = new KvClient(mem);
  const t = new Txn(kv);
  for (const x of ["a", "c", "e", "g"]) t.put(k(x), v(x.toUpperCase()));
  await t.commit();
  return { mem, kv };
}

async function scanAll(t: Txn, reverse = false, rowsHint?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const page of t.scan(k(""), k("~"), { reverse, ...(rowsHint ? { rowsHint } : {}) })) {
    for (const r of page) out.push(`${dec.decode(r.key).slice(2)}=${dec.decode(r.value)}`);
  }
  return out;
}

describe("Txn", () => {
  it("merges its own writes into gets and scans, both directions, across pages", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    t.put(k("b"), v("b1"));
    t.put(k("c"), v("c1"));
    t.del(k("e"));
    t.put(k("h"), v("h1"));
    expect(dec.decode((await t.get(k("c")))!)).toBe("c1");
    expect(await t.get(k("e"))).toBeNull();
    expect(await scanAll(t)).toEqual(["a=A", "b=b1", "c=c1", "g=G", "h=h1"]);
    expect(await scanAll(t, true)).toEqual(["h=h1", "g=G", "c=c1", "b=b1", "a=A"]);
    expect(await scanAll(t, false, 1)).toEqual(["a=A", "b=b1", "c=c1", "g=G", "h=h1"]);
    expect(await scanAll(t, true, 1)).toEqual(["h=h1", "g=G", "c=c1", "b=b1", "a=A"]);
  });

  it("hides rows under its range deletions but keeps what it wrote after them", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    t.deleteRange(k("b"), k("f"));
    t.put(k("d"), v("d1"));
    expect(await scanAll(t)).toEqual(["a=A", "d=d1", "g=G"]);
    expect(await t.get(k("c"))).toBeNull();
  });

  it("rolls back to a savepoint mark", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    t.put(k("a"), v("a1"));
    const mark = t.buffer.mark();
    t.put(k("a"), v("a2"));
    t.del(k("c"));
    t.deleteRange(k("e"), k("z"));
    t.buffer.rollbackTo(mark);
    expect(await scanAll(t)).toEqual(["a=a1", "c=C", "e=E", "g=G"]);
  });

  it("fails a commit whose read set changed with 40001 and a retry hint", async () => {
    const { kv } = await seeded();
    const t1 = new Txn(kv);
    const t2 = new Txn(kv);
    await t1.get(k("a"));
    await t2.get(k("a"));
    t1.put(k("a"), v("x"));
    t2.put(k("a"), v("y"));
    await t1.commit();
    const err = await t2.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgError);
    expect(err).toMatchObject({ code: "40001", hint: "retry the transaction" });
    expect(t2.status).toBe("aborted");
  });

  it("detects a phantom: a key inserted into a scanned range", async () => {
    const { kv } = await seeded();
    const t1 = new Txn(kv);
    await scanAll(t1);
    t1.put(k("zz"), v("1"));
    const t2 = new Txn(kv);
    t2.put(k("b"), v("new"));
    await t2.commit();
    await expect(t1.commit()).rejects.toMatchObject({ code: "40001" });
  });

  it("commits a read-only transaction without a request and a blind write in one batch", async () => {
    const { mem, kv } = await seeded();
    const before = { ...mem.requestCounts };
    const r = new Txn(kv);
    await r.get(k("a"));
    await r.commit();
    const w = new Txn(kv);
    w.put(k("q"), v("1"));
    await w.commit();
    expect(mem.requestCounts.read - before.read).toBe(1);
    expect(mem.requestCounts.commit - before.commit).toBe(0);
    expect(mem.requestCounts.batch - before.batch).toBe(1);
  });

  it("refuses writes in a read-only transaction (25006)", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv, { readOnly: true });
    expect(() => t.put(k("a"), v("1"))).toThrow(expect.objectContaining({ code: "25006" }));
  });

  it("bounds the keys one transaction writes (54000 past the limit)", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    for (let i = 0; i < txnLimits.writesMax; i++) t.put(k(`w${i}`), v("x"));
    expect(() => t.put(k("one-more"), v("x"))).toThrow(expect.objectContaining({ code: "54000" }));
    // Overwriting a key already written does not add one.
    t.put(k("w0"), v("y"));
    await t.commit();
    const check = new Txn(kv);
    expect(dec.decode((await check.get(k(`w${txnLimits.writesMax - 1}`)))!)).toBe("x");
    expect(await check.get(k("one-more"))).toBeNull();
  }, 60_000);

  it("bounds the bytes one transaction writes: exactly writeBytesMax is accepted, one byte more is 54000", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    const n = 14;
    const per = txnLimits.writeBytesMax / n;
    for (let i = 0; i < n; i++) {
      const key = k(`b${String(i).padStart(2, "0")}`);
      t.put(key, new Uint8Array(per - key.length));
    }
    expect(t.buffer.bytes).toBe(txnLimits.writeBytesMax);
    expect(() => t.put(k("z"), new Uint8Array(0))).toThrow(expect.objectContaining({ code: "54000" }));
    await t.commit();
  });

  it("the bounds fit the storage node's per-commit bounds with room for read spans and framing", () => {
    expect(txnLimits.writesMax).toBeGreaterThan(100_000);
    expect(txnLimits.writesMax).toBeLessThan(txnLimits.commitEntriesMax);
    // ≤ 7 bytes of framing per write, and the request must stay within 16 MiB.
    expect(txnLimits.writeBytesMax + 7 * txnLimits.writesMax).toBeLessThan(kvLimits.requestBytesMax);
  });

  it("sends writes of earlier statements past flushKeys to storage as intents, reads them back, and commits them", async () => {
    const { mem, kv } = await seeded();
    const t = new Txn(kv);
    await t.get(k("a"));
    t.buffer.beginStatement();
    for (let i = 0; i < txnLimits.flushKeys; i++) t.put(k(`f${String(i).padStart(5, "0")}`), v(`x${i}`));
    t.buffer.beginStatement();
    const before = mem.requestCounts.txnWrite;
    // The next read from storage flushes: the buffer empties, the values come back from the intents.
    expect(dec.decode((await t.get(k("a")))!)).toBe("A");
    expect(dec.decode((await t.get(k("f00007")))!)).toBe("x7");
    expect(mem.requestCounts.txnWrite - before).toBeGreaterThan(0);
    expect(t.buffer.size).toBe(0);
    expect(t.buffer.flushed).toBe(txnLimits.flushKeys);
    // Not visible to others before commit, all visible after.
    expect(await new Txn(kv).get(k("f00007"))).toBeNull();
    await t.commit();
    const check = new Txn(kv);
    expect(dec.decode((await check.get(k(`f${String(txnLimits.flushKeys - 1).padStart(5, "0")}`)))!)).toBe(`x${txnLimits.flushKeys - 1}`);
  });

  it("refuses to roll back to a savepoint set before its writes were flushed (0A000)", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    await t.get(k("a"));
    const mark = t.buffer.mark();
    t.buffer.beginStatement();
    for (let i = 0; i < txnLimits.flushKeys; i++) t.put(k(`s${i}`), v("y"));
    t.buffer.beginStatement();
    await t.get(k("a"));
    expect(() => t.buffer.rollbackTo(mark)).toThrow(expect.objectContaining({ code: "0A000" }));
    await t.rollback();
  });

  it("restores from its sealed state in another coordinator", async () => {
    const { kv } = await seeded();
    const t = new Txn(kv);
    await t.get(k("a"));
    t.put(k("a"), v("moved"));
    const again = Txn.fromState(kv, t.toState());
    expect(dec.decode((await again.get(k("a")))!)).toBe("moved");
    await again.commit();
    const check = new Txn(kv);
    expect(dec.decode((await check.get(k("a")))!)).toBe("moved");
  });

  it("releases its row locks on the node when it leaves for a handle, and carries no lock holder", async () => {
    const { mem, kv } = await seeded();
    const t = new Txn(kv);
    t.lockScope = { start: k(""), end: k("~"), mode: LockMode.exclusive };
    expect(dec.decode((await t.get(k("a")))!)).toBe("A");
    t.lockScope = null;
    t.put(k("a"), v("locked"));
    expect(t.toState().onNode).toBe(true);
    const aborts = mem.requestCounts.abort;
    expect(await t.releaseNode()).toBe(false);
    expect(mem.requestCounts.abort - aborts).toBe(1);
    const state = t.toState();
    expect(state.onNode).toBeUndefined();
    // The buffered write travels; the next request commits it (validated: nothing changed).
    const again = Txn.fromState(kv, state);
    await again.commit();
    expect(dec.decode((await new Txn(kv).get(k("a")))!)).toBe("locked");
  });

  it("reports flushed writes it had to drop when it leaves for a handle", async () => {
    const { mem, kv } = await seeded();
    const t = new Txn(kv);
    await t.get(k("a"));
    t.buffer.beginStatement();
    for (let i = 0; i < txnLimits.flushKeys; i++) t.put(k(`h${i}`), v("z"));
    t.buffer.beginStatement();
    await t.get(k("a"));
    expect(t.buffer.flushed).toBe(txnLimits.flushKeys);
    const aborts = mem.requestCounts.abort;
    expect(await t.releaseNode()).toBe(true);
    expect(mem.requestCounts.abort - aborts).toBe(1);
    // The intents were aborted with the locks: committing what the handle carries writes none of them.
    const state = t.toState();
    expect(state.flushed).toBeUndefined();
    await Txn.fromState(kv, state).commit();
    expect(await new Txn(kv).get(k("h7"))).toBeNull();
  });
});
