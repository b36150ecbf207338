// The KV conformance suite: the wire contract (common/kv-protocol/messages.ts) as cases, run
// against every implementation of TenantKvCapability — the in-memory KV (memory-kv.test.ts), the
// real storage node (storage-node/kv-conformance.test.ts) and the edge's TenantKV in front of a
// real storage node (workers/edge/tenant-kv.worker.test.ts). One suite, so a behaviour the
// gateway relies on cannot hold on the stand-in and not on the real thing.
//
// Every case works in its own tenant (keys under that tenant's prefix), so the implementations
// that share one store across cases need no cleanup. An implementation that deliberately does not
// enforce part of the contract says so in `enforces`; those cases are skipped with that reason,
// visible in the test output, rather than silently passing.
import { describe, expect, it } from "vitest";
import { compareBytes, concatBytes, keyNext, prefixEnd } from "../../../common/bytes.ts";
import { decodeResponse, encodeRequest, FRAME_MAGIC, FRAME_VERSION } from "../../../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse, ReadOp, WriteOp } from "../../../common/kv-protocol/messages.ts";
import { tenantPrefix } from "../../../common/tenant-prefix.ts";
import type { TenantKvCapability } from "./capability.ts";

export interface KvConformanceTarget {
  /** A capability bound to `tenantId`. Called once per case, each case with a new tenant. */
  capability(tenantId: number): Promise<TenantKvCapability>;
  /** Parts of the contract this implementation enforces; the cases of the others are skipped. */
  enforces: {
    /** keyBytesMax and valueBytesMax (limit_exceeded). */
    limits: boolean;
    /** Keys outside the capability's tenant are refused (outside_tenant_span). */
    tenantSpans: boolean;
    /** Bytes that are not a frame are answered with malformed_request (not thrown). */
    malformedAnswered: boolean;
  };
  /** The key size the implementation refuses (storage-node/limits.ts keyBytesMax), when it enforces limits. */
  keyBytesMax?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Tenant ids from `firstTenantId` on, one per case. */
export function kvConformanceSuite(name: string, target: () => KvConformanceTarget, firstTenantId: number): void {
  let nextTenant = firstTenantId;

  /** A fresh tenant for one case: its capability, a key builder and request helpers. */
  async function tenant() {
    const tenantId = nextTenant++;
    const cap = await target().capability(tenantId);
    const prefix = tenantPrefix(tenantId);
    const key = (s: string) => concatBytes([prefix, enc.encode(s)]);
    const send = async (req: KvRequest): Promise<KvResponse> => decodeResponse(await cap.batch(encodeRequest(req)));
    const ok = async <T extends KvResponse["type"]>(req: KvRequest, type: T): Promise<Extract<KvResponse, { type: T }>> => {
      const res = await send(req);
      if (res.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(res, (_k, v) => (typeof v === "bigint" ? String(v) : v instanceof Uint8Array ? dec.decode(v) : v))}`);
      return res as Extract<KvResponse, { type: T }>;
    };
    const put = (k: string, v: string): WriteOp => ({ op: "put", key: key(k), value: enc.encode(v) });
    const write = (...writes: WriteOp[]) => ok({ type: "batch", reads: [], writes }, "batch");
    const scanOp = (start: Uint8Array, end: Uint8Array, opts: { reverse?: boolean; maxRows?: number } = {}): ReadOp => ({
      op: "scan", start, end, reverse: opts.reverse ?? false, maxRows: opts.maxRows ?? 1000, maxBytes: 1 << 20,
    });
    /** Values of `keys` at `readTs` (null: latest), as strings (null = absent). */
    const get = async (readTs: bigint | null, ...keys: string[]) => {
      const res = await ok({ type: "read", readTs, ops: keys.map((k) => ({ op: "get" as const, key: key(k) })) }, "read");
      return res.results.map((r) => (r.op === "get" && r.value !== null ? dec.decode(r.value) : null));
    };
    const scan = async (op: ReadOp, readTs: bigint | null = null) => {
      const res = await ok({ type: "read", readTs, ops: [op] }, "read");
      const r = res.results[0]!;
      if (r.op !== "scan") throw new Error("scan result expected");
      return {
        rows: r.rows.map((x) => `${dec.decode(x.key.subarray(prefix.length))}=${dec.decode(x.value)}`),
        resumeKey: r.resumeKey === null ? null : dec.decode(r.resumeKey.subarray(prefix.length)),
        resume: r.resumeKey,
      };
    };
    const begin = async () => (await ok({ type: "begin" }, "begin")).readTs;
    let txnSeq = 0;
    const txnId = () => enc.encode(`conformance-${tenantId}-${txnSeq++}`);
    const all = () => scanOp(prefix, prefixEnd(prefix));
    return { tenantId, prefix, key, send, ok, put, write, scanOp, get, scan, begin, txnId, all };
  }

  describe(`KV conformance: ${name}`, () => {
    describe("writes", () => {
      it("a batch applies puts and deletes; scans return keys in byte order", async () => {
        const t = await tenant();
        await t.write(t.put("b", "2"), t.put("a", "1"), t.put("c", "3"), t.put("a\u0000", "1.5"));
        await t.write({ op: "delete", key: t.key("c") });
        expect((await t.scan(t.all())).rows).toEqual(["a=1", "a\u0000=1.5", "b=2"]);
        expect(await t.get(null, "a", "c", "never")).toEqual(["1", null, null]);
      });

      it("a batch reads before its own writes, at the timestamp it commits after", async () => {
        const t = await tenant();
        const first = await t.write(t.put("k", "old"));
        const res = await t.ok({ type: "batch", reads: [{ op: "get", key: t.key("k") }], writes: [t.put("k", "new")] }, "batch");
        expect(res.results.map((r) => (r.op === "get" && r.value ? dec.decode(r.value) : null))).toEqual(["old"]);
        expect(res.commitTs > first.commitTs).toBe(true);
        expect(await t.get(null, "k")).toEqual(["new"]);
      });

      it("cput writes only when the current value is the expected one, else condition_failed with the actual value", async () => {
        const t = await tenant();
        await t.write({ op: "cput", key: t.key("c"), value: enc.encode("1"), expected: null });
        const refused = await t.send({ type: "batch", reads: [], writes: [{ op: "cput", key: t.key("c"), value: enc.encode("2"), expected: enc.encode("0") }] });
        expect(refused).toMatchObject({ type: "error", error: { code: "condition_failed" } });
        if (refused.type === "error" && refused.error.actual !== undefined) expect(dec.decode(refused.error.actual!)).toBe("1");
        await t.write({ op: "cput", key: t.key("c"), value: null, expected: enc.encode("1") });
        expect(await t.get(null, "c")).toEqual([null]);
      });

      it("deleteRange removes exactly the half-open span", async () => {
        const t = await tenant();
        await t.write(t.put("a", "1"), t.put("b", "2"), t.put("b1", "3"), t.put("c", "4"));
        await t.write({ op: "deleteRange", start: t.key("b"), end: t.key("c") });
        expect((await t.scan(t.all())).rows).toEqual(["a=1", "c=4"]);
      });
    });

    describe("reads at snapshots", () => {
      it("a read at a transaction's timestamp sees neither later writes nor later deletes", async () => {
        const t = await tenant();
        await t.write(t.put("k", "v1"), t.put("gone", "here"));
        const ts = await t.begin();
        await t.write(t.put("k", "v2"), t.put("new", "x"), { op: "delete", key: t.key("gone") });
        expect(await t.get(ts, "k", "gone", "new")).toEqual(["v1", "here", null]);
        expect((await t.scan(t.all(), ts)).rows).toEqual(["gone=here", "k=v1"]);
        expect(await t.get(null, "k", "gone", "new")).toEqual(["v2", null, "x"]);
      });

      it("a read without a timestamp reports the one it read at, which a later read can reuse", async () => {
        const t = await tenant();
        await t.write(t.put("k", "v1"));
        const first = await t.ok({ type: "read", readTs: null, ops: [{ op: "get", key: t.key("k") }] }, "read");
        await t.write(t.put("k", "v2"));
        expect(await t.get(first.readTs, "k")).toEqual(["v1"]);
      });
    });

    describe("transactions and conflicts", () => {
      it("a commit applies every write at a timestamp after its read timestamp", async () => {
        const t = await tenant();
        const readTs = await t.begin();
        const res = await t.ok({ type: "commit", txnId: t.txnId(), readTs, readSpans: [], writes: [t.put("x", "1"), t.put("y", "2")] }, "commit");
        expect(res.commitTs > readTs).toBe(true);
        expect(await t.get(res.commitTs, "x", "y")).toEqual(["1", "2"]);
      });

      it("a write inside a read span after the read timestamp makes the commit conflict, and nothing is applied", async () => {
        const t = await tenant();
        await t.write(t.put("r1", "a"));
        const readTs = await t.begin();
        await t.write(t.put("r2", "other")); // inside [r, s), after readTs
        const res = await t.send({ type: "commit", txnId: t.txnId(), readTs, readSpans: [{ start: t.key("r"), end: t.key("s") }], writes: [t.put("w", "1")] });
        expect(res).toMatchObject({ type: "error", error: { code: "conflict" } });
        expect(await t.get(null, "w")).toEqual([null]);
      });

      it("a write to a key the transaction writes, after its read timestamp, makes the commit conflict", async () => {
        const t = await tenant();
        const readTs = await t.begin();
        await t.write(t.put("w", "theirs"));
        const res = await t.send({ type: "commit", txnId: t.txnId(), readTs, readSpans: [], writes: [t.put("w", "mine")] });
        expect(res).toMatchObject({ type: "error", error: { code: "conflict" } });
        expect(await t.get(null, "w")).toEqual(["theirs"]);
      });

      it("writes outside the read spans and written keys do not conflict", async () => {
        const t = await tenant();
        const readTs = await t.begin();
        await t.write(t.put("elsewhere", "1"), t.put("s", "at the span's exclusive end"));
        await t.ok({ type: "commit", txnId: t.txnId(), readTs, readSpans: [{ start: t.key("r"), end: t.key("s") }], writes: [t.put("w", "1")] }, "commit");
        expect(await t.get(null, "w")).toEqual(["1"]);
      });

      it("a commit retried with the same txnId returns the first outcome and applies once", async () => {
        const t = await tenant();
        const readTs = await t.begin();
        const txnId = t.txnId();
        const commit: KvRequest = { type: "commit", txnId, readTs, readSpans: [], writes: [t.put("once", "1")] };
        const first = await t.ok(commit, "commit");
        await t.write(t.put("once", "2"));
        const again = await t.ok(commit, "commit");
        expect(again.commitTs).toBe(first.commitTs);
        expect(await t.get(null, "once")).toEqual(["2"]);
      });

      it("an aborted transaction leaves nothing behind", async () => {
        const t = await tenant();
        const readTs = await t.begin();
        await t.ok({ type: "abort", txnId: t.txnId(), readTs }, "abort");
        expect((await t.scan(t.all())).rows).toEqual([]);
      });
    });

    describe("spans", () => {
      it("forward scans page by maxRows; the resume key is the first unread key", async () => {
        const t = await tenant();
        await t.write(...["k1", "k2", "k3", "k4", "k5"].map((k) => t.put(k, k)));
        const p1 = await t.scan(t.scanOp(t.key("k1"), t.key("k5"), { maxRows: 2 }));
        expect(p1).toMatchObject({ rows: ["k1=k1", "k2=k2"], resumeKey: "k3" });
        const p2 = await t.scan(t.scanOp(t.key(p1.resumeKey!), t.key("k5"), { maxRows: 2 }));
        expect(p2.rows).toEqual(["k3=k3", "k4=k4"]);
        // A page that ends exactly at the span's end may or may not know it is the last one.
        if (p2.resumeKey !== null) expect((await t.scan(t.scanOp(t.key(p2.resumeKey), t.key("k5")))).rows).toEqual([]);
      });

      it("reverse scans return keys in descending order; the resume key is an exclusive end of the rest", async () => {
        const t = await tenant();
        await t.write(...["k1", "k2", "k3", "k4"].map((k) => t.put(k, k)));
        const p1 = await t.scan(t.scanOp(t.key("k1"), t.key("k4"), { reverse: true, maxRows: 2 }));
        expect(p1.rows).toEqual(["k3=k3", "k2=k2"]);
        // Any end in (k1, k2] is exact: the in-memory KV returns k2 (the last key read), the storage
        // node the successor of k1 (the next unread key); the contract only says "exclusive end".
        expect(compareBytes(p1.resume!, t.key("k1"))).toBeGreaterThan(0);
        expect(compareBytes(p1.resume!, t.key("k2"))).toBeLessThanOrEqual(0);
        const p2 = await t.scan(t.scanOp(t.key("k1"), p1.resume!, { reverse: true, maxRows: 2 }));
        expect(p2.rows).toEqual(["k1=k1"]);
      });

      it("a span is half-open: its start is in, its end is out; an empty span reads nothing", async () => {
        const t = await tenant();
        await t.write(t.put("a", "1"), t.put("b", "2"));
        expect((await t.scan(t.scanOp(t.key("a"), t.key("b")))).rows).toEqual(["a=1"]);
        expect((await t.scan(t.scanOp(t.key("a"), keyNext(t.key("a"))))).rows).toEqual(["a=1"]);
        expect((await t.scan(t.scanOp(t.key("b"), t.key("b")))).rows).toEqual([]);
      });

      it("clearRange empties the span; a snapshot from before the clear gets snapshot_too_old", async () => {
        const t = await tenant();
        await t.write(t.put("t1", "1"), t.put("t2", "2"), t.put("u", "kept"));
        const before = await t.begin();
        await t.write({ op: "clearRange", start: t.key("t"), end: t.key("u") });
        expect((await t.scan(t.all())).rows).toEqual(["u=kept"]);
        const stale = await t.send({ type: "read", readTs: before, ops: [t.scanOp(t.key("t"), t.key("u"))] });
        expect(stale).toMatchObject({ type: "error", error: { code: "snapshot_too_old" } });
      });
    });

    describe("limits and errors", () => {
      const e = () => target().enforces;

      it("a key over keyBytesMax is refused with limit_exceeded and nothing is written", async (ctx) => {
        if (!e().limits) return ctx.skip("this implementation does not enforce key and value limits");
        const t = await tenant();
        const long = "x".repeat(target().keyBytesMax! + 1);
        const res = await t.send({ type: "batch", reads: [], writes: [t.put("fine", "1"), t.put(long, "1")] });
        expect(res).toMatchObject({ type: "error", error: { code: "limit_exceeded" } });
        expect(await t.get(null, "fine")).toEqual([null]);
      });

      it("a key outside the capability's tenant is refused with outside_tenant_span", async (ctx) => {
        if (!e().tenantSpans) return ctx.skip("this implementation does not check tenant spans");
        const t = await tenant();
        const foreign = concatBytes([tenantPrefix(t.tenantId + 1_000_000), enc.encode("k")]);
        const write = await t.send({ type: "batch", reads: [], writes: [{ op: "put", key: foreign, value: enc.encode("1") }] });
        expect(write).toMatchObject({ type: "error", error: { code: "outside_tenant_span" } });
        const read = await t.send({ type: "read", readTs: null, ops: [{ op: "get", key: foreign }] });
        expect(read).toMatchObject({ type: "error", error: { code: "outside_tenant_span" } });
      });

      it("bytes that are not a request frame are answered with malformed_request", async (ctx) => {
        if (!e().malformedAnswered) return ctx.skip("this implementation throws on a malformed frame instead of answering");
        const cap = await target().capability(nextTenant++);
        const res = decodeResponse(await cap.batch(Uint8Array.of(FRAME_MAGIC, FRAME_VERSION, 0x63, 0xff)));
        expect(res).toMatchObject({ type: "error", error: { code: "malformed_request" } });
      });
    });
  });
}
