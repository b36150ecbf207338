import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import type { QuotaGrant, QuotaRequest } from "../../../common/quota-protocol.ts";
import { egressRequestUnits, gatewayCpuRequestUnits, kvRequestUnits } from "../../../common/request-units.ts";
import type { TenantQuotaCapability } from "../env.ts";
import { quotaLimits } from "./limits.ts";
import { LocalQuota, localQuotaFor } from "./local-quota.ts";

type Script = Partial<QuotaGrant> | ((r: QuotaRequest) => Partial<QuotaGrant>);

/** A fake QuotaBucket answering from a script (immediate grants of what is asked by default). */
function bucket(script: Script[] = []): TenantQuotaCapability & { calls: QuotaRequest[] } {
  const b = {
    calls: [] as QuotaRequest[],
    async acquire(r: QuotaRequest): Promise<QuotaGrant> {
      b.calls.push(structuredClone(r));
      const next = script.shift();
      const g = typeof next === "function" ? next(r) : (next ?? { grantedRu: r.wantRu });
      return { grantedRu: 0, trickleMs: 0, tokensRu: 0, validForMs: 10_000, ...g };
    },
  };
  return b;
}

/** A clock the test moves, and a sleep that moves it. */
function clock(): { now: () => number; sleep: (ms: number) => Promise<void>; t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

const kv = { readBatches: 1, readRequests: 1, readBytes: 100, writeBatches: 0, writeRequests: 0, writeBytes: 0 };

describe("LocalQuota", () => {
  it("asks the bucket once per batch, not per query, and reports what was spent by part", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 1000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    for (let i = 0; i < 100; i++) {
      (await q.admit())();
      q.chargeKv(kv);
      q.chargeEgress(1000);
      q.chargeCpu(2);
    }
    expect(b.calls).toHaveLength(1);
    expect(b.calls[0]).toMatchObject({ seq: 1, wantRu: quotaLimits.grantRuMin, demandRuPerSecond: null });
    const perQuery = kvRequestUnits(kv) + egressRequestUnits(1000) + gatewayCpuRequestUnits(2);
    c.t = 10_000; // the grant's period ends: the next query asks again, reporting the 100 queries
    (await q.admit())();
    const report = b.calls[1]!;
    expect(report.seq).toBe(2);
    expect(report.consumed.kv).toEqual({ readBatches: 100, readRequests: 100, readBytes: 10_000, writeBatches: 0, writeRequests: 0, writeBytes: 0 });
    expect(report.consumed.egressBytes).toBe(100_000);
    expect(report.consumed.cpuMs).toBe(200);
    expect(report.consumed.ru).toBeCloseTo(100 * perQuery, 9);
    // It asks for about ten seconds of its measured rate, less what it still has.
    expect(report.demandRuPerSecond).toBeCloseTo((100 * perQuery) / 10, 9);
  });

  it("asks again at once when its balance is spent, asking for its debt too", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 1000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    (await q.admit())();
    q.chargeEgress(2 * 1024 * 1024); // 2,048 RU: 1,048 RU of debt
    c.t = 1000;
    (await q.admit())();
    expect(b.calls).toHaveLength(2);
    // Ten seconds of the measured rate (2,048 RU over 1 s) plus the debt.
    expect(b.calls[1]!.wantRu).toBeCloseTo(20_480 + 1048, 6);
  });

  it("waits for a trickling grant instead of failing, and reports that it was held back", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 1000, trickleMs: 10_000, validForMs: 10_000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    (await q.admit())(); // nothing has arrived yet: it waits for the first RU
    expect(c.slept.length).toBeGreaterThan(0);
    expect(q.availableRu).toBeGreaterThan(0);
    q.chargeEgress(300 * 1024); // 300 RU: three seconds of a 100 RU/s trickle
    const before = c.t;
    (await q.admit())();
    expect(c.t - before).toBeGreaterThanOrEqual(2900);
    expect(c.t - before).toBeLessThanOrEqual(3100);
    c.t = 10_000;
    (await q.admit())();
    expect(b.calls[1]!.demandRuPerSecond).toBeNull();
  });

  it("refuses with 53400 when the wait would pass its bound", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 100, trickleMs: 10_000, validForMs: 10_000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    (await q.admit())();
    q.chargeEgress(1024 * 1024); // 1,024 RU at 10 RU/s: far past admitWaitMsMax
    const err = await q.admit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).code).toBe("53400");
    expect(c.t).toBeLessThan(quotaLimits.admitWaitMsMax);
  });

  it("refuses with the bucket's own message while it refuses, and asks again after the refusal expires", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 0, validForMs: 2000, refusal: { message: 'virtual cluster "acme" reached its monthly spend limit of 500 RU', hint: "raise it" } }, { grantedRu: 1000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    for (let i = 0; i < 3; i++) {
      const err = (await q.admit().catch((e: unknown) => e)) as PgError;
      expect(err.code).toBe("53400");
      expect(err.message).toMatch(/spend limit of 500 RU/);
    }
    expect(b.calls).toHaveLength(1);
    c.t = 2000;
    (await q.admit())();
    expect(b.calls).toHaveLength(2);
  });

  it("refuses with 53400 when the bucket grants nothing at all", async () => {
    const q = new LocalQuota(bucket([{ grantedRu: 0 }, { grantedRu: 0 }]), () => 0);
    const err = await q.admit().catch((e: unknown) => e);
    expect((err as PgError).code).toBe("53400");
  });

  it("shares one bucket call between concurrent admissions", async () => {
    const b = bucket([{ grantedRu: 1000 }]);
    const q = new LocalQuota(b, () => 0);
    await Promise.all(Array.from({ length: 20 }, () => q.admit()));
    expect(b.calls).toHaveLength(1);
  });

  it("keeps a report whose request failed and sends it with the next one", async () => {
    const c = clock();
    let fail = true;
    const inner = bucket();
    const b: TenantQuotaCapability = {
      acquire: async (r) => {
        if (fail) throw new Error("bucket unreachable");
        return inner.acquire(r);
      },
    };
    const q = new LocalQuota(b, c.now, c.sleep);
    q.chargeEgress(1024);
    await expect(q.admit()).rejects.toThrow(/unreachable/);
    fail = false;
    (await q.admit())();
    expect(inner.calls[0]!.consumed.egressBytes).toBe(1024);
    expect(inner.calls[0]!.seq).toBe(2);
  });

  it("fails with XX000 when the bucket could not read its request (a gateway bug)", async () => {
    const q = new LocalQuota(bucket([{ malformed: "malformed quota request: seq must be a positive integer" }]), () => 0);
    const err = (await q.admit().catch((e: unknown) => e)) as PgError;
    expect(err.code).toBe("XX000");
    expect(err.message).toMatch(/seq must be a positive integer/);
  });

  it("ignores nonsense charges", () => {
    const q = new LocalQuota(bucket(), () => 0);
    q.chargeCpu(-1);
    q.chargeCpu(Number.NaN);
    q.chargeEgress(Number.POSITIVE_INFINITY);
    expect(q.availableRu).toBe(0);
  });
});

describe("LocalQuota under concurrent statements", () => {
  /** A statement that costs `ru` (as egress, charged after its work) and ends its admission. */
  async function statement(q: LocalQuota, ru: number): Promise<"ran" | string> {
    try {
      const done = await q.admit();
      await new Promise((r) => setTimeout(r, 1));
      q.chargeEgress(ru * 1024);
      done();
      return "ran";
    } catch (err) {
      return (err as PgError).code;
    }
  }

  it("spends at most the grant plus one statement's estimate, however many start at once", async () => {
    // 10 RU granted, then nothing more: 30 statements of 1 RU each start together.
    const b = bucket([{ grantedRu: 10 }, ...Array.from({ length: 100 }, () => ({ grantedRu: 0 }))]);
    const q = new LocalQuota(b);
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => statement(q, 1)));
    const ran = outcomes.filter((o) => o === "ran").length;
    const spentRu = 10 - q.availableRu;
    expect(spentRu).toBeLessThanOrEqual(10 + q.statementEstimateRu);
    expect(ran).toBe(10);
    expect(outcomes.filter((o) => o !== "ran").every((o) => o === "53400")).toBe(true);
    expect(q.runningStatements).toBe(0);
  });

  it("holds an admission back while the running statements have the balance reserved, and lets it in when one ends", async () => {
    const b = bucket([{ grantedRu: 10 }, ...Array.from({ length: 10 }, () => ({ grantedRu: 0 }))]);
    const q = new LocalQuota(b);
    // Admissions taken together while nothing has been charged yet: only as many as the balance covers are let in at once.
    const first = await Promise.all(Array.from({ length: 10 }, () => q.admit()));
    expect(q.runningStatements).toBe(10);
    const late = q.admit();
    let admittedLate = false;
    void late.then(() => (admittedLate = true), () => {});
    await new Promise((r) => setTimeout(r, 20));
    expect(admittedLate).toBe(false);
    // One ends having spent its whole estimate: still nothing is free.
    q.chargeEgress(1024);
    first[0]!();
    await new Promise((r) => setTimeout(r, 20));
    expect(admittedLate).toBe(false);
    // One ends having spent nothing (a cheap statement): its reservation goes to the waiting one.
    first[1]!();
    const done = await late;
    expect(admittedLate).toBe(true);
    done();
    for (const d of first.slice(2)) d();
  });

  it("admits waiting statements in the order they came (a newer one never overtakes)", async () => {
    const q = new LocalQuota(bucket([{ grantedRu: 2 }, ...Array.from({ length: 20 }, () => ({ grantedRu: 0 }))]));
    const [a, b] = await Promise.all([q.admit(), q.admit()]);
    const order: string[] = [];
    const c = q.admit().then((d) => (order.push("c"), d));
    await new Promise((r) => setTimeout(r, 5));
    // One estimate is freed, and a newcomer asks at that very moment: the one waiting gets it.
    a!();
    const d = q.admit().then((e) => (order.push("d"), e));
    (await c)();
    b!();
    (await d)();
    expect(order).toEqual(["c", "d"]);
  });

  it("asks the bucket through the waiting caller's own capability, not a later caller's", async () => {
    // workerd: a capability may only be used from the request it came with.
    const c = clock();
    const a = bucket([{ grantedRu: 1 }, { grantedRu: 0 }, { grantedRu: 0 }]);
    const x = bucket([{ grantedRu: 10 }]);
    const y = bucket();
    const q = new LocalQuota(a, c.now, c.sleep);
    const r = await q.admit(a); // holds the only RU
    const head = q.admit(a).catch((e: unknown) => e); // waits (asks a twice, then for r), in line first
    const xIn = q.admit(x); // in line behind it
    const yIn = q.admit(y); // a later caller: the quota's current capability is now y's
    r();
    q.chargeEgress(1024);
    expect(((await head) as PgError).code).toBe("53400");
    (await xIn)();
    (await yIn)();
    expect(x.calls).toHaveLength(1);
    expect(y.calls).toHaveLength(0);
  });

  it("measures a statement's cost for its reservation (at least statementEstimateRuMin)", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 1000 }, { grantedRu: 1000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    expect(q.statementEstimateRu).toBe(quotaLimits.statementEstimateRuMin);
    for (let i = 0; i < 20; i++) {
      const done = await q.admit();
      q.chargeEgress(5 * 1024); // 5 RU each
      done();
    }
    c.t = 10_000; // the next admission asks again: the period's statements set the estimate
    (await q.admit())();
    expect(q.statementEstimateRu).toBeCloseTo(5, 6);
  });

  it("ending an admission twice counts once", async () => {
    const q = new LocalQuota(bucket([{ grantedRu: 100 }]));
    const done = await q.admit();
    done();
    done();
    expect(q.runningStatements).toBe(0);
  });
});

describe("LocalQuota on a cold gateway (firstStatementCredit)", () => {
  it("runs the first statement while the first grant is asked for; the next waits for the answer", async () => {
    let answer: (g: QuotaGrant) => void = () => {};
    const calls: QuotaRequest[] = [];
    const b: TenantQuotaCapability = {
      acquire: (r) => {
        calls.push(r);
        return new Promise<QuotaGrant>((resolve) => (answer = resolve));
      },
    };
    const q = new LocalQuota(b);
    q.firstStatementCredit = true;
    const first = await q.admit(); // not waiting for the bucket
    expect(calls).toHaveLength(1);
    let secondIn = false;
    const second = q.admit().then((d) => ((secondIn = true), d));
    await new Promise((r) => setTimeout(r, 10));
    expect(secondIn).toBe(false);
    q.chargeEgress(1024);
    first();
    answer({ grantedRu: 1000, trickleMs: 0, tokensRu: 0, validForMs: 10_000 });
    (await second)();
    expect(calls).toHaveLength(1); // the second shared the first's request
  });

  it("lets only that one statement past a refusal", async () => {
    const q = new LocalQuota(bucket([{ grantedRu: 0, validForMs: 10_000, refusal: { message: "spend limit reached" } }]));
    q.firstStatementCredit = true;
    (await q.admit())();
    for (let i = 0; i < 3; i++) {
      const err = (await q.admit().catch((e: unknown) => e)) as PgError;
      expect(err.code).toBe("53400");
    }
  });

  it("is the gateway's default (localQuotaFor), and a plain LocalQuota's is off", () => {
    expect(localQuotaFor("quota-test-credit-default", bucket()).firstStatementCredit).toBe(true);
    expect(new LocalQuota(bucket()).firstStatementCredit).toBe(false);
  });
});

describe("LocalQuota usage reports without a grant request", () => {
  it("flush() reports everything unreported, asks for nothing and keeps the local grant", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 1000 }, { grantedRu: 5 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    (await q.admit())();
    q.chargeKv(kv);
    q.chargeEgress(2048);
    q.countHttpRequest();
    const before = q.availableRu;
    await q.flush();
    expect(b.calls).toHaveLength(2);
    expect(b.calls[1]).toMatchObject({ seq: 2, wantRu: 0 });
    expect(b.calls[1]!.consumed.kv).toEqual(kv);
    expect(b.calls[1]!.consumed.egressBytes).toBe(2048);
    expect(b.calls[1]!.consumed.httpRequests).toBe(1);
    expect(b.calls[1]!.consumed.ru).toBeCloseTo(kvRequestUnits(kv) + egressRequestUnits(2048), 9);
    expect(q.availableRu).toBe(before); // the 5 RU the fake answered were not asked for
    expect(q.hasUnreported).toBe(false);
    await q.flush(); // nothing left: no call
    expect(b.calls).toHaveLength(2);
  });

  it("a final flush reports no demand (the gateway stops spending for the tenant)", async () => {
    const b = bucket([{ grantedRu: 1000 }]);
    const q = new LocalQuota(b, () => 0);
    (await q.admit())();
    q.chargeEgress(1024);
    await q.flush(b, true);
    expect(b.calls.at(-1)).toMatchObject({ wantRu: 0, demandRuPerSecond: 0 });
  });

  it("flushLater() reports once the tenant has been quiet for usageFlushMs, then stops", async () => {
    const c = clock();
    const b = bucket([{ grantedRu: 1000 }]);
    const q = new LocalQuota(b, c.now, c.sleep);
    (await q.admit())();
    q.chargeEgress(3 * 1024);
    const loop = q.flushLater(b);
    expect(loop).not.toBeNull();
    expect(q.flushLater(b)).toBeNull(); // one loop at a time
    await loop;
    expect(c.t).toBe(quotaLimits.usageFlushMs);
    expect(b.calls).toHaveLength(2);
    expect(b.calls[1]!.consumed.egressBytes).toBe(3 * 1024);
    expect(q.flushLater(b)).toBeNull(); // nothing unreported
  });

  it("a report that fails is kept and goes with the next one", async () => {
    const c = clock();
    const inner = bucket([{ grantedRu: 1000 }]);
    let fail = false;
    const b: TenantQuotaCapability = {
      acquire: async (r) => {
        if (fail) throw new Error("bucket unreachable");
        return inner.acquire(r);
      },
    };
    const q = new LocalQuota(b, c.now, c.sleep);
    (await q.admit())();
    q.chargeEgress(1024);
    fail = true;
    await expect(q.flush()).rejects.toThrow(/unreachable/);
    expect(q.hasUnreported).toBe(true);
    fail = false;
    q.chargeEgress(1024);
    await q.flush();
    expect(inner.calls.at(-1)!.consumed.egressBytes).toBe(2048);
  });
});

describe("localQuotaFor", () => {
  it("asks through the latest caller's capability (inline mode: a stub belongs to one request)", async () => {
    // A tenant id no other test uses: localQuotaFor keeps one LocalQuota per tenant per module.
    const first = bucket([{ grantedRu: 1 }]);
    const q = localQuotaFor("quota-test-latest-cap", first);
    (await q.admit())();
    q.chargeEgress(5 * 1024); // the 1-RU grant is spent: the next admit asks again
    const second = bucket([{ grantedRu: 1000 }]);
    expect(localQuotaFor("quota-test-latest-cap", second)).toBe(q);
    (await q.admit())();
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(1);
  });
});

/** Timers the test fires by hand; `drop` makes the timers armed from now on never fire (their request ended). */
function manualTimers(): { setTimer: (ms: number, f: () => void) => () => void; armed: Array<{ ms: number; f: () => void; live: boolean }>; fire(i: number): void } {
  const t = {
    armed: [] as Array<{ ms: number; f: () => void; live: boolean }>,
    setTimer: (ms: number, f: () => void) => {
      const entry = { ms, f, live: true };
      t.armed.push(entry);
      return () => (entry.live = false);
    },
    fire(i: number) {
      const e = t.armed[i]!;
      if (e.live) e.f();
    },
  };
  return t;
}

const never = (): TenantQuotaCapability & { calls: number } => {
  const b = {
    calls: 0,
    acquire(): Promise<QuotaGrant> {
      b.calls++;
      return new Promise<QuotaGrant>(() => {});
    },
  };
  return b;
};

describe("LocalQuota never waits forever (issue 8: sessions waiting on one another's requests)", () => {
  it("a grant request without an answer ends the statement with 53400 (two tries of grantRequestMsMax); the next statement asks again", async () => {
    const c = clock();
    const timers = manualTimers();
    const silent = never();
    const q = new LocalQuota(silent, c.now, c.sleep, timers.setTimer);
    const first = q.admit();
    // Each grant request gets grantRequestMsMax; the first unanswered one is followed by a second.
    for (let tries = 0; tries < 2; tries++) {
      await new Promise((r) => setTimeout(r, 0));
      // (Besides the holder's heartbeat.)
      const bound = timers.armed.filter((e) => e.live && e.ms !== quotaLimits.turnBeatMs);
      expect(bound.map((e) => e.ms)).toEqual([quotaLimits.grantRequestMsMax]);
      c.t += quotaLimits.grantRequestMsMax;
      bound[0]!.f();
    }
    const err = await first.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).code).toBe("53400");
    expect((err as PgError).message).toMatch(/grantRequestMsMax/);
    expect(silent.calls).toBe(2);
    expect(q.runningStatements).toBe(0);
    // The silent requests are given up: the next statement sends its own, through its own capability.
    const b = bucket([{ grantedRu: 1000 }]);
    (await q.admit(b))();
    expect(b.calls).toHaveLength(1);
  });

  it("an admission whose request ended while it held the turn is passed over; the next in line asks through its own capability", async () => {
    const c = clock();
    const timers = manualTimers();
    const q = new LocalQuota(never(), c.now, c.sleep, timers.setTimer);
    // A takes the turn and sends a grant request that never answers; then its request "ends":
    // none of the timers armed for it fires.
    void q.admit().catch(() => {});
    await new Promise((r) => setTimeout(r, 0));
    const armedForA = timers.armed.length;
    // B comes next and waits for the turn on a timer of its own.
    const b = bucket([{ grantedRu: 1000 }]);
    let admitted = false;
    const second = q.admit(b).then((end) => {
      admitted = true;
      end();
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(admitted).toBe(false);
    const own = timers.armed.slice(armedForA).filter((e) => e.live);
    expect(own.map((e) => e.ms)).toEqual([quotaLimits.turnSilentMsMax]);
    // A's heartbeat stopped with its request; past turnSilentMsMax (and past its grant request's
    // bound) A counts as gone: B's own timer wakes it, B takes the turn and asks for itself.
    c.t += quotaLimits.grantRequestMsMax;
    own[0]!.f();
    await second;
    expect(admitted).toBe(true);
    expect(b.calls).toHaveLength(1);
    expect(q.runningStatements).toBe(0);
  });
});
