// The session-memory span of temporary tables: reads and writes against a simple model, its
// bounds at their edges, and KvClient's routing — no key inside the span is ever sent to storage,
// and a commit applies its local part only when the storage part succeeded.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { KvRequest, KvResponse, WriteOp } from "../../../common/kv-protocol/messages.ts";
import { Txn } from "../txn/txn.ts";
import { keyString } from "../../../common/bytes.ts";
import { KvClient, type KvTransport } from "./kv-client.ts";
import { kvLimits } from "./limits.ts";
import { LOCAL_ENTRY_OVERHEAD_BYTES, LocalRange, localRangesBytes } from "./local-range.ts";
import { MemoryKv } from "./memory-kv.ts";

const enc = new TextEncoder();
const span = { start: enc.encode("t/"), end: enc.encode("t0") };
const k = (s: string): Uint8Array => enc.encode(`t/${s}`);
const v = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));
const big = { bytesMax: 1e12, isolateBytesMax: 1e12 };

function scanAll(r: LocalRange, reverse = false, maxRows = 1000): string[] {
  const out: string[] = [];
  let start = span.start;
  let end = span.end;
  for (;;) {
    const res = r.read({ op: "scan", start, end, reverse, maxRows, maxBytes: 1 << 20 });
    if (res.op !== "scan") throw new Error("not a scan");
    out.push(...res.rows.map((row) => `${text(row.key)}=${text(row.value)}`));
    if (res.resumeKey === null) return out;
    if (reverse) end = res.resumeKey;
    else start = res.resumeKey;
  }
}

describe("LocalRange", () => {
  it("answers gets and scans (forward, reverse, in pages) from what was applied", () => {
    const r = new LocalRange(span, big);
    r.apply([{ op: "put", key: k("b"), value: v("2") }, { op: "put", key: k("a"), value: v("1") }, { op: "put", key: k("c"), value: v("3") }]);
    expect(text((r.read({ op: "get", key: k("b") }) as { value: Uint8Array | null }).value)).toBe("2");
    expect((r.read({ op: "get", key: k("z") }) as { value: Uint8Array | null }).value).toBeNull();
    expect(scanAll(r)).toEqual(["t/a=1", "t/b=2", "t/c=3"]);
    expect(scanAll(r, true, 1)).toEqual(["t/c=3", "t/b=2", "t/a=1"]);
    expect(scanAll(r, false, 2)).toEqual(["t/a=1", "t/b=2", "t/c=3"]);
  });

  it("matches a simple model under random batches of puts, deletes and range deletions", () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant("put" as const), key: fc.integer({ min: 0, max: 30 }), value: fc.integer({ min: 0, max: 99 }) }),
      fc.record({ op: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ op: fc.constant("deleteRange" as const), key: fc.integer({ min: 0, max: 30 }), to: fc.integer({ min: 0, max: 30 }) }),
    );
    const name = (i: number): string => String(i).padStart(2, "0");
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 12 }), { maxLength: 12 }), (batches) => {
        const r = new LocalRange(span, big);
        const model = new Map<string, string>();
        for (const batch of batches) {
          const writes: WriteOp[] = batch.map((o) =>
            o.op === "put" ? { op: "put", key: k(name(o.key)), value: v(String(o.value)) } : o.op === "delete" ? { op: "delete", key: k(name(o.key)) } : { op: "deleteRange", start: k(name(o.key)), end: k(name(o.to)) },
          );
          expect(r.check(writes).condition).toBeNull();
          r.apply(writes);
          for (const o of batch) {
            if (o.op === "put") model.set(`t/${name(o.key)}`, String(o.value));
            else if (o.op === "delete") model.delete(`t/${name(o.key)}`);
            else for (const key of [...model.keys()]) if (key >= `t/${name(o.key)}` && key < `t/${name(o.to)}`) model.delete(key);
          }
          const want = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([a, b]) => `${a}=${b}`);
          expect(scanAll(r, false, 3)).toEqual(want);
          expect(scanAll(r, true, 4)).toEqual([...want].reverse());
          const bytes = [...model.entries()].reduce((n, [a, b]) => n + a.length + b.length + LOCAL_ENTRY_OVERHEAD_BYTES, 0);
          expect(r.bytes).toBe(bytes);
        }
        r.clear();
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it("checks cput conditions like the storage node, with the value found", () => {
    const r = new LocalRange(span, big);
    r.apply([{ op: "put", key: k("seq"), value: v("5") }]);
    expect(r.check([{ op: "cput", key: k("seq"), value: v("6"), expected: v("5") }]).condition).toBeNull();
    const miss = r.check([{ op: "cput", key: k("seq"), value: v("6"), expected: v("4") }]).condition;
    expect(text(miss!.actual)).toBe("5");
    expect(r.check([{ op: "cput", key: k("new"), value: v("1"), expected: null }]).condition).toBeNull();
    r.clear();
  });

  it("refuses, with 54000 and nothing applied, a batch past the session's bound; exactly at it is fine", () => {
    const entry = (key: string, value: string): number => `t/${key}`.length + value.length + LOCAL_ENTRY_OVERHEAD_BYTES;
    const bytesMax = entry("a", "xxxx") + entry("b", "yyyy");
    const r = new LocalRange(span, { bytesMax, isolateBytesMax: 1e12 });
    const fits: WriteOp[] = [{ op: "put", key: k("a"), value: v("xxxx") }, { op: "put", key: k("b"), value: v("yyyy") }];
    r.check(fits);
    r.apply(fits);
    expect(r.bytes).toBe(bytesMax);
    expect(() => r.check([{ op: "put", key: k("a"), value: v("xxxxx") }])).toThrow(expect.objectContaining({ code: "54000" }));
    // Replacing or removing within the bound is fine.
    expect(() => r.check([{ op: "delete", key: k("a") }, { op: "put", key: k("c"), value: v("zzzz") }])).not.toThrow();
    r.clear();
  });

  it("bounds all ranges of the isolate together, and clear() gives the bytes back", () => {
    const base = localRangesBytes();
    const one = `t/a`.length + 4 + LOCAL_ENTRY_OVERHEAD_BYTES;
    const a = new LocalRange(span, { bytesMax: 1e12, isolateBytesMax: base + one });
    const b = new LocalRange(span, { bytesMax: 1e12, isolateBytesMax: base + one });
    a.apply([{ op: "put", key: k("a"), value: v("xxxx") }]);
    expect(localRangesBytes()).toBe(base + one);
    expect(() => b.check([{ op: "put", key: k("a"), value: v("xxxx") }])).toThrow(expect.objectContaining({ code: "54000" }));
    a.clear();
    expect(localRangesBytes()).toBe(base);
    expect(() => b.check([{ op: "put", key: k("a"), value: v("xxxx") }])).not.toThrow();
  });

  it("has the limits documented in kv/limits.ts", () => {
    expect(kvLimits.localRangeBytesMax).toBe(16 * 1024 * 1024);
    expect(kvLimits.localRangesBytesMax).toBe(32 * 1024 * 1024);
  });
});

/** Storage that records every key it is sent. */
class Spy implements KvTransport {
  readonly mem = new MemoryKv();
  readonly keys: string[] = [];
  fail: KvResponse | null = null;
  async send(r: KvRequest): Promise<KvResponse> {
    const note = (key: Uint8Array): void => void this.keys.push(keyString(key));
    if (r.type === "read") for (const op of r.ops) op.op === "get" ? note(op.key) : (note(op.start), note(op.end));
    if (r.type === "commit" || r.type === "batch") for (const w of r.writes) w.op === "deleteRange" || w.op === "clearRange" ? (note(w.start), note(w.end)) : note(w.key);
    if (r.type === "commit") for (const s of r.readSpans) (note(s.start), note(s.end));
    if (this.fail !== null && (r.type === "commit" || r.type === "batch")) return this.fail;
    return this.mem.handle(r);
  }
  sentLocal(): boolean {
    return this.keys.some((key) => key >= keyString(span.start) && key < keyString(span.end));
  }
}

describe("KvClient with a local range", () => {
  it("never sends a key of the local span to storage; a local-only transaction sends nothing", async () => {
    const spy = new Spy();
    const local = new LocalRange(span, big);
    const kv = new KvClient(spy, local);
    const t = new Txn(kv);
    expect(await t.get(k("a"))).toBeNull();
    t.put(k("a"), v("1"));
    t.put(k("b"), v("2"));
    for await (const page of t.scan(span.start, span.end)) expect(page.length).toBe(2);
    await t.commit();
    expect(spy.keys).toEqual([]);
    expect(local.size).toBe(2);
    // Mixed: the stored key goes, the local one does not; the local read takes no snapshot.
    const m = new Txn(kv);
    expect(text(await m.get(k("a")))).toBe("1");
    expect(m.readTs).toBeNull();
    expect(await m.get(enc.encode("s/x"))).toBeNull();
    m.put(k("c"), v("3"));
    m.put(enc.encode("s/x"), v("4"));
    m.deleteRange(k("a"), k("b"));
    await m.commit();
    expect(spy.sentLocal()).toBe(false);
    expect(spy.keys.length).toBeGreaterThan(0);
    expect(local.size).toBe(2);
    expect(text((local.read({ op: "get", key: k("c") }) as { value: Uint8Array | null }).value)).toBe("3");
    local.clear();
  });

  it("applies a commit's local writes only after its storage writes succeeded", async () => {
    const spy = new Spy();
    const local = new LocalRange(span, big);
    const kv = new KvClient(spy, local);
    spy.fail = { type: "error", error: { code: "conflict", message: "someone else wrote" } };
    const t = new Txn(kv);
    await t.get(enc.encode("s/x"));
    t.put(enc.encode("s/x"), v("1"));
    t.put(k("a"), v("1"));
    await expect(t.commit()).rejects.toMatchObject({ code: "40001" });
    expect(local.size).toBe(0);
    expect(spy.sentLocal()).toBe(false);
  });

  it("sends nothing to storage when the local part is over its bound", async () => {
    const spy = new Spy();
    const local = new LocalRange(span, { bytesMax: 10, isolateBytesMax: 1e12 });
    const kv = new KvClient(spy, local);
    const t = new Txn(kv);
    t.put(enc.encode("s/x"), v("1"));
    t.put(k("a"), v("a value larger than ten bytes"));
    await expect(t.commit()).rejects.toMatchObject({ code: "54000" });
    expect(spy.keys).toEqual([]);
    expect(local.size).toBe(0);
  });

  it("serves cput batches (temporary sequences) locally with the storage node's condition_failed", async () => {
    const spy = new Spy();
    const local = new LocalRange(span, big);
    const kv = new KvClient(spy, local);
    await kv.batch([], [{ op: "cput", key: k("seq"), value: v("1"), expected: null }]);
    await expect(kv.batch([], [{ op: "cput", key: k("seq"), value: v("2"), expected: null }])).rejects.toMatchObject({ kvError: { code: "condition_failed" } });
    expect(spy.keys).toEqual([]);
    local.clear();
  });
});
