import { describe, expect, it } from "vitest";
import { awaitShared, SharedCalls, WakeList, type SetTimer } from "./shared-wait.ts";

/** Timers fired by hand. */
function manual(): { setTimer: SetTimer; live: () => Array<{ ms: number; fire: () => void }> } {
  const armed: Array<{ ms: number; f: () => void; on: boolean }> = [];
  return {
    setTimer: (ms, f) => {
      const e = { ms, f, on: true };
      armed.push(e);
      return () => (e.on = false);
    },
    live: () => armed.filter((e) => e.on).map((e) => ({ ms: e.ms, fire: () => e.on && e.f() })),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("awaitShared", () => {
  it("settles as the shared promise does, and disarms its bound", async () => {
    const t = manual();
    let resolve!: (v: number) => void;
    const shared = new Promise<number>((r) => (resolve = r));
    const own = awaitShared(shared, 500, () => new Error("late"), t.setTimer);
    expect(t.live().map((e) => e.ms)).toEqual([500]);
    resolve(7);
    expect(await own).toBe(7);
    expect(t.live()).toEqual([]);
    await expect(awaitShared(Promise.reject(new Error("no")), 500, () => new Error("late"), t.setTimer)).rejects.toThrow("no");
  });

  it("rejects with the caller's error at its bound when the shared promise never settles", async () => {
    const t = manual();
    const own = awaitShared(new Promise<never>(() => {}), 250, () => new Error("no answer within 250 ms"), t.setTimer);
    t.live()[0]!.fire();
    await expect(own).rejects.toThrow("no answer within 250 ms");
  });
});

describe("WakeList", () => {
  it("wakes every waiter (true), and a waiter nobody wakes ends at its bound (false)", async () => {
    const t = manual();
    const w = new WakeList(t.setTimer);
    const a = w.wait(100);
    const b = w.wait(100);
    expect(w.size).toBe(2);
    w.wakeAll();
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    const c = w.wait(100);
    t.live()[0]!.fire();
    expect(await c).toBe(false);
    expect(w.size).toBe(0);
  });
});

describe("SharedCalls", () => {
  it("shares one call among concurrent callers of a key, and calls again once it is over", async () => {
    const calls = new SharedCalls<number>(1000, (k) => new Error(`${k}: late`));
    let n = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const call = async () => {
      n++;
      await gate;
      return n;
    };
    const a = calls.run("k", call);
    const b = calls.run("k", call);
    await tick();
    release();
    expect([await a, await b]).toEqual([1, 1]);
    expect(calls.size).toBe(0);
    expect(await calls.run("k", async () => 9)).toBe(9);
  });

  it("a call that never settles fails each waiter at the call's bound, and the next caller starts a new call", async () => {
    const t = manual();
    let now = 0;
    const calls = new SharedCalls<string>(1000, (k) => new Error(`${k}: no answer within 1000 ms`), () => now, t.setTimer);
    const first = calls.run("k", () => new Promise<string>(() => {}));
    now = 400;
    const second = calls.run("k", async () => "unused");
    // Each waiter's bound is what is left of the call's 1000 ms.
    expect(t.live().map((e) => e.ms)).toEqual([1000, 600]);
    now = 1000;
    for (const e of t.live()) e.fire();
    await expect(first).rejects.toThrow("k: no answer within 1000 ms");
    await expect(second).rejects.toThrow("k: no answer within 1000 ms");
    expect(await calls.run("k", async () => "fresh")).toBe("fresh");
  });
});
