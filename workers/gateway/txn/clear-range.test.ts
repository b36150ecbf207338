// clearRange in the transaction coordinator (over the in-memory KV, which follows the node's
// rules): the span reads as empty inside the transaction, buffered writes in it are dropped and so
// is the part of an earlier range deletion inside it (the node refuses a request that writes inside
// a span it clears), a savepoint rollback undoes it, a sealed handle carries it, and at commit the
// span goes whole; a transaction whose snapshot predates the clear is refused.
import { describe, expect, it } from "vitest";
import type { WriteOp } from "../../../common/kv-protocol/messages.ts";
import { KvClient } from "../kv/kv-client.ts";
import { MemoryKv } from "../kv/memory-kv.ts";
import { txnStateFromData, txnStateToData } from "./handle.ts";
import { Txn } from "./txn.ts";
import { WriteBuffer } from "./write-buffer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const k = (s: string): Uint8Array => enc.encode(`t/${s}`);
const v = (s: string): Uint8Array => enc.encode(s);

async function seeded(): Promise<KvClient> {
  const kv = new KvClient(new MemoryKv());
  const t = new Txn(kv);
  for (const x of ["a", "c1", "c2", "c3", "e"]) t.put(k(x), v(x.toUpperCase()));
  await t.commit();
  return kv;
}

async function keys(t: Txn): Promise<string[]> {
  const out: string[] = [];
  for await (const page of t.scan(k(""), k("~"))) for (const r of page) out.push(dec.decode(r.key).slice(2));
  return out;
}

const show = (ops: WriteOp[]): string[] =>
  ops.map((o) => (o.op === "deleteRange" || o.op === "clearRange" ? `${o.op} ${dec.decode(o.start).slice(2)}..${dec.decode(o.end).slice(2)}` : `${o.op} ${dec.decode(o.key).slice(2)}`));

describe("clearRange in a transaction", () => {
  it("hides the span, drops buffered writes in it, keeps writes after it elsewhere, and commits the span whole", async () => {
    const kv = await seeded();
    const t = new Txn(kv);
    t.put(k("c9"), v("x"));
    t.put(k("d"), v("x"));
    t.clearRange(k("c"), k("d"));
    expect(await keys(t)).toEqual(["a", "d", "e"]);
    expect(await t.get(k("c2"))).toBeNull();
    expect(show(t.buffer.toWriteOps())).toEqual(["clearRange c..d", "put d"]);
    await t.commit();
    expect(await keys(new Txn(kv))).toEqual(["a", "d", "e"]);
  });

  it("trims an earlier range deletion to the parts outside the cleared span; a savepoint rollback restores it", async () => {
    const b = new WriteBuffer();
    b.deleteRange(k("a"), k("z"));
    const mark = b.mark();
    b.clearRange(k("c"), k("e"));
    expect(show(b.toWriteOps())).toEqual(["deleteRange a..c", "deleteRange e..z", "clearRange c..e"]);
    b.rollbackTo(mark);
    expect(show(b.toWriteOps())).toEqual(["deleteRange a..z"]);
  });

  it("survives sealing into a handle and restoring in another gateway", async () => {
    const kv = await seeded();
    const t = new Txn(kv);
    await t.get(k("a"));
    t.deleteRange(k("a"), k("b"));
    t.clearRange(k("c"), k("d"));
    t.put(k("f"), v("F"));
    const data = JSON.parse(JSON.stringify(txnStateToData(t.toState())));
    const restored = Txn.fromState(kv, txnStateFromData(data));
    expect(show(restored.buffer.toWriteOps())).toEqual(show(t.buffer.toWriteOps()));
    expect(await keys(restored)).toEqual(["e", "f"]);
    // A handle from before clears existed has no rangeClears field.
    delete data.rangeClears;
    expect(show(Txn.fromState(kv, txnStateFromData(data)).buffer.toWriteOps())).toEqual(["deleteRange a..b", "put f"]);
    await restored.commit();
    expect(await keys(new Txn(kv))).toEqual(["e", "f"]);
  });

  it("a transaction whose snapshot predates the clear gets 40001 reading or writing the span", async () => {
    const kv = await seeded();
    const old = new Txn(kv);
    await old.get(k("a"));
    const clear = new Txn(kv);
    clear.clearRange(k("c"), k("d"));
    await clear.commit();
    await expect(old.get(k("c1"))).rejects.toMatchObject({ code: "40001" });
    const writer = new Txn(kv);
    await writer.get(k("a"));
    writer.put(k("c5"), v("late"));
    await expect(writer.commit()).rejects.toMatchObject({ code: "40001" });
  });
});
