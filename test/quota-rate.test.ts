// The acceptance test of a tenant's Request-Unit rate (issue 11, item 4), against the real stack:
// a tenant set to 100 RU/s with a burst of 1,000 RU, driven by two clients that want far more,
// is held to 100 RU/s ± 10 % over 60 s, while a default tenant's point-select p50 latency changes
// by less than 20 % (against the range of its unloaded p50 before and after). It runs about two
// and a half minutes: in the e2e group, on its own.
//
// The rate is measured from the QuotaBucket's own record: each report of a gateway carries what it
// consumed since its previous report, so the consumption between two reports divided by the time
// between them is exact (the gateway's unspent or overdrawn balance at either end is at most one
// query's worth per client, about 50 RU here). The limited tenant's queries are few and large
// (50 KB scans, about 50 RU each) so that its 100 RU/s cost the shared machine little CPU: on the
// 2-core dev box one POST /sql costs the stack tens of ms whatever its size, and the neighbour's
// latency would measure that per-request overhead, not the limiter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantUsage } from "../cli/admin-client.ts";
import { alter, sleep, sqlBytes, usageOf } from "./harness/metering.ts";
import { startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const RATE = 100;
const WINDOW_MS = 60_000;

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

function live(): Stack {
  if (stack === undefined) throw new Error("the stack did not start");
  return stack;
}

/** Point selects on `tenant` for `ms`; their latencies. */
async function pointSelects(tenant: TenantConnection, ms: number): Promise<number[]> {
  const out: number[] = [];
  for (const stop = Date.now() + ms; Date.now() < stop; ) {
    const t0 = performance.now();
    await sqlBytes(tenant, "SELECT v FROM t WHERE id = $1", [1 + (out.length % 20)]);
    out.push(performance.now() - t0);
  }
  return out;
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Polls the usage until a report at or after `afterMs` has landed (reports land every ~10 s). */
async function reportAfter(name: string, afterMs: number, previousMs: number): Promise<TenantUsage> {
  for (const deadline = Math.max(Date.now(), afterMs) + 30_000; Date.now() < deadline; ) {
    const u = await usageOf(live(), name);
    if (u.totals.lastReportMs > previousMs && u.totals.lastReportMs >= afterMs) return u;
    await sleep(200);
  }
  throw new Error(`no usage report for ${name} after ${new Date(afterMs).toISOString()}`);
}

describe("a tenant's Request-Unit rate", () => {
  it("holds a tenant set to 100 RU/s (burst 1,000) to 100 RU/s ± 10 % over 60 s; a default tenant's p50 moves < 20 %", async () => {
    const s = live();
    const limited = await s.createTenant("limited");
    const neighbour = await s.createTenant("neighbour");
    for (const t of [limited, neighbour]) {
      await sqlBytes(t, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)");
      // 50 rows of 1,000 characters: a full scan sends about 50 KB, about 50 RU.
      await sqlBytes(t, "INSERT INTO t SELECT g, repeat('x', 1000) FROM generate_series(1, 50) g");
    }
    const set = await s.warren(["tenant", "alter", "limited", "--ru-per-second", String(RATE), "--burst", "1000"]);
    expect(set.code, set.stderr).toBe(0);

    // Warm-up: the first seconds of a new tenant (isolate start, JIT, the warm pool's refill) are
    // slower than its steady state, and would make the "before" window the odd one out.
    await pointSelects(neighbour, 8_000);
    const before = await pointSelects(neighbour, 15_000);

    let stop = Number.POSITIVE_INFINITY;
    let errors = 0;
    let queries = 0;
    const clients = [0, 1].map(async () => {
      while (Date.now() < stop) {
        await sqlBytes(limited, "SELECT v FROM t")
          .then(() => queries++)
          .catch(() => errors++);
      }
    });
    try {
      // The burst is spent within seconds; from the first report after that, 60 s of trickle.
      await sleep(12_000);
      const first = await reportAfter("limited", 0, 0);
      const during = pointSelects(neighbour, WINDOW_MS - 5_000);
      let last: TenantUsage;
      try {
        last = await reportAfter("limited", first.totals.lastReportMs + WINDOW_MS, first.totals.lastReportMs);
      } finally {
        await during.catch(() => undefined);
      }
      const loaded = await during;
      stop = 0;
      await Promise.all(clients);
      const after = await pointSelects(neighbour, 15_000);

      const seconds = (last.totals.lastReportMs - first.totals.lastReportMs) / 1000;
      const rate = (last.totals.ru - first.totals.ru) / seconds;
      // The unloaded p50 itself drifts between the "before" and "after" windows (by up to ~35 % in
      // CI logs: 15.8 / 10.3 ms, 11.9 / 13.9 ms), which is the machine, not the limiter. So the
      // loaded p50 is held to within 20 % of the range the unloaded p50 took: below the lower
      // unloaded figure by < 20 %, above the higher one by < 20 %.
      const low = Math.min(p50(before), p50(after));
      const high = Math.max(p50(before), p50(after));
      console.log(
        `limited: ${rate.toFixed(1)} RU/s over ${seconds.toFixed(1)} s (${queries} queries, ${errors} refused); ` +
          `neighbour p50 ${p50(before).toFixed(1)} / ${p50(loaded).toFixed(1)} / ${p50(after).toFixed(1)} ms (before / during / after)`,
      );
      expect(seconds).toBeGreaterThanOrEqual(WINDOW_MS / 1000);
      expect(rate).toBeGreaterThan(RATE * 0.9);
      expect(rate).toBeLessThan(RATE * 1.1);
      // The clients wanted far more: the bucket, not the clients, set the pace.
      expect(last.totals.grantedRu - first.totals.grantedRu).toBeLessThan(RATE * seconds * 1.15);
      expect(p50(loaded)).toBeGreaterThan(low * 0.8);
      expect(p50(loaded)).toBeLessThan(high * 1.2);
      expect(errors).toBe(0);
    } finally {
      stop = 0;
      await Promise.all(clients);
    }
  });
});
