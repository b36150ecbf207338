// Request Units end to end, on the real stack (storage node, wrangler dev, Durable Objects):
//   - a tight loop of point selects, inserts and scans is charged what the storage node measured
//     for it plus egress plus gateway CPU (within 10 %; the KV parts exactly), and
//     `warren tenant usage` and the admin API agree with the storage node's counters;
//   - at a spend limit with "refuse" queries fail with 53400 naming the limit; with "throttle" they
//     go on at the free baseline rate;
//   - the usage history and the storage node's counters survive a restart of the whole stack.
// The 100 RU/s-over-60-s acceptance test is test/quota-rate.test.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantUsage } from "../cli/admin-client.ts";
import { egressRequestUnits, FREE_TIER, gatewayCpuRequestUnits } from "../common/request-units.ts";
import { alter, flushReports, kvPartOf, nodeCounters, sleep, sqlBytes, usageOf, type NodeCounters } from "./harness/metering.ts";
import { startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-ru-metering-"));
let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ dataDir });
});
afterAll(async () => {
  try {
    await stack?.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

function live(): Stack {
  if (stack === undefined) throw new Error("the stack did not start");
  return stack;
}

let meter: TenantConnection;
/** What the storage node and the usage history said before the restart. */
let beforeRestart: { usage: TenantUsage; node: NodeCounters } | undefined;

describe("Request Units for everything", () => {
  it("charges a loop of point selects, inserts and scans what the storage node measured + egress + CPU", async () => {
    const s = live();
    meter = await s.createTenant("meter");
    let egress = 0;
    const run = async (q: string, params: unknown[] = []) => {
      egress += (await sqlBytes(meter, q, params)).bytes;
    };
    await run("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)");
    for (let i = 0; i < 60; i++) await run("INSERT INTO t VALUES ($1, $2)", [i, `value ${i} `.repeat(8)]);
    for (let i = 0; i < 120; i++) await run("SELECT v FROM t WHERE id = $1", [i % 60]);
    for (let i = 0; i < 20; i++) await run("SELECT id, v FROM t ORDER BY id LIMIT 50");

    const node = await nodeCounters(s, Number(meter.id));
    await flushReports(meter);
    const usage = await usageOf(s, "meter");

    // The KV parts are the storage node's own numbers, exactly (each response reported them).
    expect(usage.totals.kv).toEqual(kvPartOf(node));
    expect(usage.totals.egressBytes).toBe(egress);
    const expected = node.requestUnits + egressRequestUnits(egress) + gatewayCpuRequestUnits(usage.totals.cpuMs);
    expect(usage.totals.ru).toBeGreaterThan(expected * 0.9);
    expect(usage.totals.ru).toBeLessThan(expected * 1.1);
    // The storage node's work is most of it: egress alone (all that was charged before) is far less.
    expect(node.requestUnits).toBeGreaterThan(egressRequestUnits(egress));
    // Per hour too: the hours add up to the totals.
    expect(usage.hours.reduce((a, h) => a + h.ru, 0)).toBeCloseTo(usage.totals.ru, 6);
    expect(usage.totals.httpRequests).toBeGreaterThanOrEqual(201);
    // The hour's storage bytes, sampled from the storage node.
    expect(usage.hours.at(-1)?.storage).not.toBeNull();
  });

  it("`warren tenant usage` and the admin API agree with the storage node's counters", async () => {
    const s = live();
    const node = await nodeCounters(s, Number(meter.id));
    const api = await usageOf(s, "meter");
    const cli = await s.warren(["tenant", "usage", "meter", "--since", "24h", "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    const viaCli = JSON.parse(cli.stdout) as TenantUsage;
    // Everything was reported by the gateway's quiet-time report (flushReports sends no query).
    for (const u of [api, viaCli]) {
      expect(u.storageNode).toMatchObject(kvPartOf(node));
      expect(u.totals.kv.readRequests).toBeLessThanOrEqual(node.readRequests);
      expect(node.readRequests - u.totals.kv.readRequests).toBeLessThanOrEqual(5);
      expect(u.totals.kv.writeRequests).toBe(node.writeRequests);
    }
    expect(viaCli.totals).toEqual(api.totals);
    const text = await s.warren(["tenant", "usage", "meter"]);
    expect(text.stdout).toMatch(/^storage node: .* RU; reads \d+ in \d+ batches/m);
    expect(text.stdout).toMatch(/^HOUR \(UTC\) +RU +READS/m);
  });
});

describe("spend limits", () => {
  it("refuses with 53400 naming the limit once a month's spend reaches it (at-limit refuse)", async () => {
    const s = live();
    const capped = await s.createTenant("capped");
    await sqlBytes(capped, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)");
    const set = await s.warren(["tenant", "alter", "capped", "--spend-limit", "300", "--at-limit", "refuse"]);
    expect(set.code, set.stderr).toBe(0);
    let refusal: { code?: string; message: string } | undefined;
    const deadline = Date.now() + 60_000;
    for (let i = 0; Date.now() < deadline && refusal === undefined; i++) {
      try {
        await sqlBytes(capped, "INSERT INTO t VALUES ($1, $2)", [i, "x".repeat(500)]);
      } catch (err) {
        refusal = err as { code?: string; message: string };
      }
    }
    expect(refusal?.code).toBe("53400");
    expect(refusal?.message).toMatch(/virtual cluster "capped" reached its monthly spend limit of 300 RU/);
    const u = await usageOf(s, "capped");
    expect(u.month).toMatchObject({ limitRu: 300, atLimit: true, atSpendLimit: "refuse" });
    // A raised limit lets it go on (a refusal is cached for 2 s at most).
    await s.warren(["tenant", "alter", "capped", "--spend-limit", "none"]);
    await sleep(2_500);
    await sqlBytes(capped, "SELECT count(*) FROM t");
  });

  it("throttles to the free baseline rate at the limit instead (at-limit throttle)", async () => {
    const s = live();
    const slow = await s.createTenant("slow");
    await sqlBytes(slow, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)");
    // 20 rows of 1,000 characters: each full scan sends about 20 KB, about 20 RU of egress.
    await sqlBytes(slow, "INSERT INTO t SELECT g, repeat('x', 1000) FROM generate_series(1, 20) g");
    await alter(s, "slow", { ruPerSecond: 5000, burstRu: 5000, spendLimitRu: 400, atSpendLimit: "throttle" });
    // Long enough to reach the limit, wait for a report and measure 20 s up to a second one.
    const stop = Date.now() + 60_000;
    let errors = 0;
    // Four clients scanning as fast as they can: far more than 100 RU/s (measured: ~250 RU/s and up).
    const loops = [0, 1, 2, 3].map(async () => {
      while (Date.now() < stop) {
        await sqlBytes(slow, "SELECT v FROM t").catch(() => errors++);
      }
    });
    try {
      let at = await usageOf(s, "slow");
      while (!at.month.atLimit && Date.now() < stop - 40_000) {
        await sleep(500);
        at = await usageOf(s, "slow");
      }
      expect(at.month.atLimit).toBe(true);
      expect(at.bucket.refillRuPerSecond).toBe(FREE_TIER.refillRuPerSecond);
      // Past the limit queries still succeed, at about the baseline rate: two reports ~20 s apart.
      const first = await nextReport(s, "slow", 0);
      const last = await nextReport(s, "slow", first.totals.lastReportMs + 19_000);
      expect(last.totals.lastReportMs).toBeLessThan(stop);
      const rate = (last.totals.ru - first.totals.ru) / ((last.totals.lastReportMs - first.totals.lastReportMs) / 1000);
      expect(rate).toBeGreaterThan(FREE_TIER.refillRuPerSecond * 0.8);
      expect(rate).toBeLessThan(FREE_TIER.refillRuPerSecond * 1.2);
    } finally {
      await Promise.all(loops);
    }
    expect(errors).toBe(0);
  });
});

/** Polls the usage until a report at or after `afterMs` has landed. */
async function nextReport(s: Stack, name: string, afterMs: number): Promise<TenantUsage> {
  const start = await usageOf(s, name);
  for (const deadline = Date.now() + 40_000; Date.now() < deadline; ) {
    const u = await usageOf(s, name);
    if (u.totals.lastReportMs > start.totals.lastReportMs && u.totals.lastReportMs >= afterMs) return u;
    await sleep(250);
  }
  throw new Error(`no usage report for ${name} after ${new Date(afterMs).toISOString()}`);
}

describe("usage history across a restart of the whole stack", () => {
  it("keeps the history, the spend and the storage node's counters", async () => {
    const s = live();
    const usage = await usageOf(s, "meter");
    const node = await nodeCounters(s, Number(meter.id));
    beforeRestart = { usage, node };
    stack = undefined;
    await s.stop();
    stack = await startStack({ dataDir });
    const again = await usageOf(live(), "meter");
    expect(again.totals).toEqual(beforeRestart.usage.totals);
    expect(again.hours.map((h) => [h.hourStartMs, h.ru, h.kv])).toEqual(beforeRestart.usage.hours.map((h) => [h.hourStartMs, h.ru, h.kv]));
    expect(again.month).toEqual(beforeRestart.usage.month);
    const nodeAgain = await nodeCounters(live(), Number(meter.id));
    expect(kvPartOf(nodeAgain)).toEqual(kvPartOf(beforeRestart.node));
    expect(nodeAgain.requestUnits).toBeCloseTo(beforeRestart.node.requestUnits, 6);
    // The spend limit set before the restart still holds.
    expect((await usageOf(live(), "capped")).config.spendLimitRu).toBeNull();
    expect((await usageOf(live(), "slow")).month.atLimit).toBe(true);
  });
});
