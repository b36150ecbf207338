// The KV client's page and batch bounds at their edges, observed on the requests a transaction sends.
import { describe, expect, it } from "vitest";
import type { KvRequest, KvResponse } from "../../../common/kv-protocol/messages.ts";
import { Txn } from "../txn/txn.ts";
import { KvClient, type KvTransport } from "./kv-client.ts";
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
