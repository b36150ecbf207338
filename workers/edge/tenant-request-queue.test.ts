// Per-tenant admission of /sql requests at its edges: exactly sqlRequestsMax run, exactly
// sqlQueueMax wait in arrival order, the next is refused at once (53300), a waiter is refused after
// sqlQueueWaitMs (53300) or when its client goes away (57014), and one tenant's line never holds up
// another's.
import { describe, expect, it } from "vitest";
import type { PgError } from "../../common/errors.ts";
import { TenantRequestQueue } from "./tenant-request-queue.ts";

const acme = { tenantId: 2, name: "acme" };
const other = { tenantId: 3, name: "other" };
const bounds = { sqlRequestsMax: 2, sqlQueueMax: 3, sqlQueueWaitMs: 60_000 };

async function refusal(p: Promise<unknown>): Promise<PgError> {
  try {
    await p;
  } catch (err) {
    return err as PgError;
  }
  throw new Error("expected a refusal");
}

describe("TenantRequestQueue", () => {
  it("runs sqlRequestsMax at once, queues sqlQueueMax, refuses the next at once with 53300 naming the limit", async () => {
    const q = new TenantRequestQueue();
    const running = [await q.acquire(acme, bounds), await q.acquire(acme, bounds)];
    const waiting = [q.acquire(acme, bounds), q.acquire(acme, bounds), q.acquire(acme, bounds)];
    expect(q.stats(2)).toEqual({ running: 2, waiting: 3 });
    const err = await refusal(q.acquire(acme, bounds));
    expect(err.code).toBe("53300");
    expect(err.message).toBe('too many concurrent /sql requests for virtual cluster "acme": 2 running and 3 waiting (per edge isolate)');
    expect(err.hint).toMatch(/Retry/);
    expect(q.stats(2)).toEqual({ running: 2, waiting: 3 });
    for (const r of running) r();
    const next = await Promise.all(waiting.slice(0, 2));
    expect(q.stats(2)).toEqual({ running: 2, waiting: 1 });
    for (const r of next) r();
    (await waiting[2]!)();
    expect(q.stats(2)).toEqual({ running: 0, waiting: 0 });
    expect(q.tenantsTracked).toBe(0);
  });

  it("hands freed slots to waiters in arrival order", async () => {
    const q = new TenantRequestQueue();
    const b = { ...bounds, sqlRequestsMax: 1 };
    const first = await q.acquire(acme, b);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => q.acquire(acme, b).then((release) => (order.push(n), release)));
    first();
    for (const w of waiters) (await w)();
    expect(order).toEqual([1, 2, 3]);
  });

  it("refuses a waiter after sqlQueueWaitMs (53300) and gives its place up", async () => {
    const q = new TenantRequestQueue();
    const b = { sqlRequestsMax: 1, sqlQueueMax: 1, sqlQueueWaitMs: 100 };
    const held = await q.acquire(acme, b);
    const t0 = performance.now();
    const err = await refusal(q.acquire(acme, b));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(err.code).toBe("53300");
    expect(err.message).toBe('a /sql request for virtual cluster "acme" waited 100 ms for one of its 1 concurrent slots (per edge isolate)');
    expect(q.stats(2)).toEqual({ running: 1, waiting: 0 });
    const next = q.acquire(acme, b); // the place is free again
    held();
    (await next)();
  });

  it("drops a waiter whose client went away (57014); an aborted signal is refused before queueing", async () => {
    const q = new TenantRequestQueue();
    const b = { ...bounds, sqlRequestsMax: 1 };
    const held = await q.acquire(acme, b);
    const client = new AbortController();
    const waiting = q.acquire(acme, b, client.signal);
    expect(q.stats(2).waiting).toBe(1);
    client.abort();
    expect((await refusal(waiting)).code).toBe("57014");
    expect(q.stats(2).waiting).toBe(0);
    expect((await refusal(q.acquire(acme, b, client.signal))).code).toBe("57014");
    held();
    expect(q.tenantsTracked).toBe(0);
  });

  it("keeps tenants apart: one tenant's full line does not delay another", async () => {
    const q = new TenantRequestQueue();
    const b = { sqlRequestsMax: 1, sqlQueueMax: 0, sqlQueueWaitMs: 1000 };
    const held = await q.acquire(acme, b);
    expect((await refusal(q.acquire(acme, b))).code).toBe("53300");
    const release = await q.acquire(other, b);
    expect(q.stats(3)).toEqual({ running: 1, waiting: 0 });
    release();
    held();
  });

  it("ignores a second release (a slot is never handed out twice)", async () => {
    const q = new TenantRequestQueue();
    const b = { ...bounds, sqlRequestsMax: 1 };
    const r = await q.acquire(acme, b);
    const w = q.acquire(acme, b);
    r();
    r();
    const r2 = await w;
    expect(q.stats(2)).toEqual({ running: 1, waiting: 0 });
    r2();
    expect(q.stats(2)).toEqual({ running: 0, waiting: 0 });
  });

  it("holds the refusal of a request whose line is full for about refusalHoldMs, at most refusalsHeldMax at once, and not for a client that went away", async () => {
    const q = new TenantRequestQueue();
    const b = { sqlRequestsMax: 1, sqlQueueMax: 1, sqlQueueWaitMs: 60_000, refusalHoldMs: 300, refusalsHeldMax: 2 };
    const running = await q.acquire(acme, b);
    expect(q.full(2, b)).toBe(false); // one running, nobody waiting: the next one waits
    const waiting = q.acquire(acme, b);
    expect(q.full(2, b)).toBe(true);
    expect(q.full(3, b)).toBe(false); // another tenant's line is its own
    const t0 = performance.now();
    const held = [q.refuse(acme, b), q.refuse(acme, b)].map((p) => refusal(p).then((err) => ({ err, ms: performance.now() - t0 })));
    expect(q.heldRefusals(2)).toBe(2);
    // Past refusalsHeldMax: refused at once.
    const third = await refusal(q.refuse(acme, b));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(third.code).toBe("53300");
    // A client that went away is not held.
    const gone = new AbortController();
    gone.abort();
    expect((await refusal(q.refuse(acme, b, gone.signal))).code).toBe("53300");
    for (const h of await Promise.all(held)) {
      expect(h.err.code).toBe("53300");
      expect(h.err.message).toBe('too many concurrent /sql requests for virtual cluster "acme": 1 running and 1 waiting (per edge isolate)');
      expect(h.ms).toBeGreaterThanOrEqual(125); // held 0.5–1.5 × 300 ms
    }
    expect(q.heldRefusals(2)).toBe(0);
    // A client that goes away during the hold ends it early.
    const leaving = new AbortController();
    const t1 = performance.now();
    const p = refusal(q.refuse(acme, b, leaving.signal));
    leaving.abort();
    expect((await p).code).toBe("53300");
    expect(performance.now() - t1).toBeLessThan(100);
    running();
    (await waiting)();
    expect(q.tenantsTracked).toBe(0);
  });

  it("paces a tenant's held refusals at refusalsPerSecond, holding each at most refusalHoldMsMax; another tenant's are paced apart", async () => {
    const q = new TenantRequestQueue();
    // 10 a second: one every 100 ms; a hold of 20 ms (10–30 with the jitter) alone would send all at once.
    const b = { sqlRequestsMax: 1, sqlQueueMax: 0, sqlQueueWaitMs: 0, refusalHoldMs: 20, refusalsHeldMax: 100, refusalsPerSecond: 10, refusalHoldMsMax: 350 };
    const release = await q.acquire(acme, b);
    const other = { tenantId: 3, name: "other" };
    const releaseOther = await q.acquire(other, b);
    const t0 = performance.now();
    const timed = (p: Promise<never>) => refusal(p).then((err) => ({ code: err.code, ms: performance.now() - t0 }));
    const acmes = Array.from({ length: 6 }, () => timed(q.refuse(acme, b)));
    const others = [timed(q.refuse(other, b))];
    const [a, o] = [await Promise.all(acmes), await Promise.all(others)];
    for (const r of [...a, ...o]) expect(r.code).toBe("53300");
    const ms = a.map((r) => r.ms).sort((x, y) => x - y);
    // Paced: the k-th refusal leaves no earlier than about k × 100 ms (timers may fire a little early).
    for (let k = 1; k < 4; k++) expect(ms[k]!).toBeGreaterThanOrEqual(k * 100 - 15);
    // Capped: the 5th and 6th would be due at ~400 and ~500 ms; they are held 350 ms at most.
    expect(ms[4]!).toBeGreaterThanOrEqual(350 - 15);
    expect(ms[5]!).toBeLessThan(350 + 250); // a timer on a loaded machine, not a pacing slot at 500
    // Another tenant's refusal is not behind acme's.
    expect(o[0]!.ms).toBeLessThan(100);
    release();
    releaseOther();
    expect(q.tenantsTracked).toBe(0);
  });
});
