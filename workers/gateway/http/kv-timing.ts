// The wall-clock time a request spent waiting on storage, for its Server-Timing (`kv`): the sum of
// its KV round trips through the TenantKV capability (TenantKV's invocation, the storage node and
// back). What `exec` spends beyond it is the gateway's own work (parse, plan, catalog decoding).
// `npm run bench:tenants` splits a first query's time by these hops.
import type { TenantKvCapability } from "../kv/capability.ts";

export class TimedKv implements TenantKvCapability {
  /** Milliseconds spent in batch() calls (overlapping calls counted each: an upper bound). */
  waitedMs = 0;
  /** batch() calls made. */
  calls = 0;
  private readonly inner: TenantKvCapability;

  constructor(inner: TenantKvCapability) {
    this.inner = inner;
  }

  async batch(request: Uint8Array): Promise<Uint8Array> {
    const startMs = Date.now();
    this.calls++;
    try {
      return await this.inner.batch(request);
    } finally {
      this.waitedMs += Date.now() - startMs;
    }
  }
}
