import { describe, expect, it } from "vitest";
import { limits as edgeLimits } from "../../edge/limits.ts";
import type { TenantKvCapability } from "./capability.ts";
import { requestKv } from "./kv-channel.ts";
import { kvLimits } from "./limits.ts";

/** A TenantKV stand-in that records which channel served each batch and which were disposed. */
function fakeTenantKv() {
  const log = { opened: 0, direct: 0, served: [] as number[], disposed: [] as number[] };
  const cap = {
    async batch(r: Uint8Array): Promise<Uint8Array> {
      log.direct++;
      return r;
    },
    async open() {
      const id = ++log.opened;
      return {
        async batch(r: Uint8Array): Promise<Uint8Array> {
          log.served.push(id);
          return new Uint8Array([id, ...r]);
        },
        [(Symbol as unknown as { dispose: symbol }).dispose]: () => log.disposed.push(id),
      };
    },
  };
  return { cap: cap as TenantKvCapability, log };
}

describe("requestKv", () => {
  it("sends every batch of a request through one channel and disposes it on close", async () => {
    const { cap, log } = fakeTenantKv();
    const rkv = requestKv(cap);
    expect(Array.from(await rkv.kv.batch(new Uint8Array([9])))).toEqual([1, 9]);
    await rkv.kv.batch(new Uint8Array([8]));
    expect(log).toMatchObject({ opened: 1, direct: 0, served: [1, 1], disposed: [] });
    rkv.close();
    rkv.close();
    await Promise.resolve();
    expect(log.disposed).toEqual([1]);
  });

  it("opens nothing for a request that sends no batch", () => {
    const { cap, log } = fakeTenantKv();
    requestKv(cap).close();
    expect(log.opened).toBe(0);
  });

  it("replaces the channel after kvChannelBatchesMax batches, disposing the old one", async () => {
    const { cap, log } = fakeTenantKv();
    const rkv = requestKv(cap, 2);
    for (let i = 0; i < 5; i++) await rkv.kv.batch(new Uint8Array([i]));
    await Promise.resolve();
    expect(log.served).toEqual([1, 1, 2, 2, 3]);
    expect(log.disposed).toEqual([1, 2]);
    rkv.close();
    await Promise.resolve();
    expect(log.disposed).toEqual([1, 2, 3]);
  });

  it("on close, disposes the channel at once even with a batch in flight (an abandoned statement's), and that batch still gets its answer", async () => {
    let answer: (v: Uint8Array) => void = () => {};
    const disposed: string[] = [];
    const cap = {
      batch: async (r: Uint8Array) => r,
      open: async () => ({
        batch: () => new Promise<Uint8Array>((resolve) => (answer = resolve)),
        [(Symbol as unknown as { dispose: symbol }).dispose]: () => disposed.push("x"),
      }),
    } as unknown as TenantKvCapability;
    const rkv = requestKv(cap);
    const pending = rkv.kv.batch(new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 0));
    rkv.close();
    await Promise.resolve();
    expect(disposed).toEqual(["x"]);
    answer(new Uint8Array([7]));
    expect(Array.from(await pending)).toEqual([7]);
    await Promise.resolve();
    expect(disposed).toEqual(["x"]);
  });

  it("disposes a channel replaced after kvChannelBatchesMax only after its batch in flight is answered", async () => {
    const answers: ((v: Uint8Array) => void)[] = [];
    const disposed: number[] = [];
    let opened = 0;
    const cap = {
      batch: async (r: Uint8Array) => r,
      open: async () => {
        const id = ++opened;
        return {
          batch: () => new Promise<Uint8Array>((resolve) => answers.push(resolve)),
          [(Symbol as unknown as { dispose: symbol }).dispose]: () => disposed.push(id),
        };
      },
    } as unknown as TenantKvCapability;
    const rkv = requestKv(cap, 1);
    const first = rkv.kv.batch(new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 0));
    const second = rkv.kv.batch(new Uint8Array([2])); // channel 1 is retired, its batch in flight
    await new Promise((r) => setTimeout(r, 0));
    expect(disposed).toEqual([]);
    answers[0]!(new Uint8Array([1]));
    await first;
    await Promise.resolve();
    expect(disposed).toEqual([1]);
    answers[1]!(new Uint8Array([2]));
    await second;
    rkv.close();
    await Promise.resolve();
    expect(disposed).toEqual([1, 2]);
  });

  it("uses a capability without open() (an in-memory KV) as it is", async () => {
    const cap: TenantKvCapability = { batch: async (r) => r };
    const rkv = requestKv(cap);
    expect(rkv.kv).toBe(cap);
  });

  it("rotates at the edge's bound", () => {
    expect(kvLimits.kvChannelBatchesMax).toBe(edgeLimits.kvChannelBatchesMax);
  });
});
