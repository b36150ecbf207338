// The KV client's page and batch bounds at their edges, observed on the requests a transaction sends.
import { describe, expect, it } from "vitest";
import type { KvRequest, KvResponse } from "../../../common/kv-protocol/messages.ts";
import { Txn } from "../txn/txn.ts";
import { encodeRequest, encodeResponse } from "../../../common/kv-protocol/codec.ts";
import { capabilityTransport, KvClient, type KvTransport } from "./kv-client.ts";
import { kvLimits } from "./limits.ts";
import { MemoryKv } from "./memory-kv.ts";

class Spy implements KvTransport {
  readonly sent: KvRequest[] = [];
  readonly mem = new MemoryKv();
  async send(r: KvRequest): Promise<KvResponse> {
    this.sent.push(r);
    return this.mem.handle(r);
  }
}

const key = (i: number): Uint8Array => new TextEncoder().encode(`k/${String(i).padStart(6, "0")}`);

describe("KV limits", () => {
  it("pages scans from the hint (or the default) up to scanPageRowsMax", async () => {
    const spy = new Spy();
    const kv = new KvClient(spy);
    const rows = kvLimits.scanPageRowsMax * 3;
    for (let a = 0; a < rows; a += 8000) {
      const w = new Txn(kv);
      for (let i = a; i < Math.min(rows, a + 8000); i++) w.put(key(i), new Uint8Array([1]));
      await w.commit();
    }
    spy.sent.length = 0;
    const t = new Txn(kv);
    let n = 0;
    for await (const page of t.scan(key(0), key(rows))) n += page.length;
    expect(n).toBe(rows);
    const asked = spy.sent.flatMap((r) => (r.type === "read" ? r.ops : [])).map((o) => (o.op === "scan" ? o.maxRows : 0));
    expect(asked[0]).toBe(kvLimits.scanPageRowsDefault);
    expect(Math.max(...asked)).toBe(kvLimits.scanPageRowsMax);
    expect(spy.sent.every((r) => r.type !== "read" || r.ops.every((o) => o.op !== "scan" || o.maxBytes === kvLimits.scanPageBytesMax))).toBe(true);
  });

  it("sends at most getsPerRequestMax gets in one request", async () => {
    const spy = new Spy();
    const t = new Txn(new KvClient(spy));
    await t.getMany(Array.from({ length: kvLimits.getsPerRequestMax + 1 }, (_, i) => key(i)));
    const sizes = spy.sent.map((r) => (r.type === "read" ? r.ops.length : 0));
    expect(sizes).toEqual([kvLimits.getsPerRequestMax, 1]);
  });
});

describe("request size", () => {
  /** A batch writing one value, padded so the encoded request is exactly `size` bytes. */
  function batchOfSize(size: number): KvRequest {
    const k = key(1);
    let pad = size;
    for (;;) {
      const req: KvRequest = { type: "batch", reads: [], writes: [{ op: "put", key: k, value: new Uint8Array(pad) }] };
      const got = encodeRequest(req).length;
      if (got === size) return req;
      pad -= got - size;
    }
  }

  it("sends a request of exactly requestBytesMax encoded bytes; one byte more is 54000 and never sent", async () => {
    const sent: number[] = [];
    const transport = capabilityTransport({
      async batch(request: Uint8Array): Promise<Uint8Array> {
        sent.push(request.length);
        return encodeResponse({ type: "batch", commitTs: 1n, results: [] });
      },
    });
    const at = await transport.send(batchOfSize(kvLimits.requestBytesMax));
    expect(at.type).toBe("batch");
    expect(sent).toEqual([kvLimits.requestBytesMax]);
    await expect(transport.send(batchOfSize(kvLimits.requestBytesMax + 1))).rejects.toMatchObject({ code: "54000" });
    expect(sent).toEqual([kvLimits.requestBytesMax]);
    // Under the Workers RPC bound (32 MiB) and the edge's forwarding bound (16 MiB).
    expect(kvLimits.requestBytesMax).toBeLessThanOrEqual(16 * 1024 * 1024);
  });
});

describe("throttled requests", () => {
  it("re-sends a rate-limited request after the advised wait, for at most throttledRetryMsMax, then 53400", async () => {
    let refusals = 3;
    const sent: KvRequest[] = [];
    const kv = new KvClient({
      async send(r: KvRequest): Promise<KvResponse> {
        sent.push(r);
        if (refusals-- > 0) return { type: "error", error: { code: "rate_limited", message: "over", retryAfterMs: 700 } };
        return { type: "batch", commitTs: 5n, results: [] };
      },
    });
    let now = 0;
    const waits: number[] = [];
    kv.nowMs = () => now;
    kv.sleep = async (ms) => {
      waits.push(ms);
      now += ms;
    };
    expect((await kv.batch([], [{ op: "put", key: key(1), value: new Uint8Array(1) }])).commitTs).toBe(5n);
    expect(waits).toEqual([700, 700, 700]);
    expect(sent.length).toBe(4);

    // Always refused: the waits add up to exactly the budget, then the error surfaces.
    refusals = Number.POSITIVE_INFINITY;
    waits.length = 0;
    now = 0;
    await expect(kv.batch([], [])).rejects.toMatchObject({ kvError: { code: "rate_limited" } });
    expect(waits.reduce((a, b) => a + b, 0)).toBe(kvLimits.throttledRetryMsMax);
  });
});
