// Turns on the thread: computing statements of one isolate resume one per macrotask, in arrival
// order, and other work queued meanwhile gets in between.
import { describe, expect, it } from "vitest";
import { CpuTurns } from "./cpu-turns.ts";

describe("CpuTurns", () => {
  it("resumes in a later macrotask, never in the same turn", async () => {
    const turns = new CpuTurns();
    let other = false;
    setImmediate(() => (other = true));
    await turns.yieldTurn();
    expect(other).toBe(true);
  });

  it("resumes one waiter at a time, round robin, with a whole macrotask free between two slices", async () => {
    // A macrotask source stepped by hand: step() runs every macrotask queued so far (as the event
    // loop would run every timer that is due), each followed by its microtasks. `together`: all of
    // them first, then the microtasks (the order must not matter).
    let queued: Array<() => void> = [];
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };
    let together = false;
    const step = async (): Promise<void> => {
      const now = queued;
      queued = [];
      for (const run of now) {
        run();
        if (!together) await settle();
      }
      await settle();
    };
    const turns = new CpuTurns(() => new Promise<void>((resolve) => queued.push(resolve)));
    const log: string[] = [];
    const statement = async (name: string, slices: number): Promise<void> => {
      for (let i = 0; i < slices; i++) {
        await turns.yieldTurn();
        log.push(`${name}${i}`);
      }
    };
    const a = statement("a", 2);
    const b = statement("b", 2);
    const c = statement("c", 2);
    await step();
    // Every waiter's wait began before the other two paused, so nobody goes yet.
    expect(log).toEqual([]);
    // Then one turn per round of macrotasks: a waiter that saw another's slice re-waits, so a whole
    // round of the event loop passes between two slices of the isolate.
    const perStep: number[] = [];
    for (let i = 0; i < 12 && log.length < 6; i++) {
      const before = log.length;
      await step();
      perStep.push(log.length - before);
    }
    expect(log).toEqual(["a0", "b0", "c0", "a1", "b1", "c1"]);
    expect(Math.max(...perStep)).toBe(1);
    await Promise.all([a, b, c]);
    expect(turns.waiting).toBe(0);
    // The same with every due macrotask run before any microtask: still one turn per wake.
    together = true;
    log.length = 0;
    const d = statement("d", 1);
    const e = statement("e", 1);
    const perStepTogether: number[] = [];
    for (let i = 0; i < 8 && log.length < 2; i++) {
      const before = log.length;
      await step();
      perStepTogether.push(log.length - before);
    }
    expect(log).toEqual(["d0", "e0"]);
    expect(Math.max(...perStepTogether)).toBe(1);
    await Promise.all([d, e]);
  });

  it("a lone statement pays one macrotask per pause", async () => {
    let queued: Array<() => void> = [];
    const turns = new CpuTurns(() => new Promise<void>((resolve) => queued.push(resolve)));
    let resumed = 0;
    const run = (async () => {
      for (let i = 0; i < 3; i++) {
        await turns.yieldTurn();
        resumed++;
      }
    })();
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 5; k++) await Promise.resolve();
      expect(queued.length).toBe(1);
      const now = queued;
      queued = [];
      now[0]!();
      for (let k = 0; k < 5; k++) await Promise.resolve();
      expect(resumed).toBe(i + 1);
    }
    await run;
  });

  it("a waiter told to leave (canceled, past its deadline) leaves at its next wake, out of turn", async () => {
    const turns = new CpuTurns();
    let go = false;
    const head = turns.yieldTurn(() => false);
    const leaving = turns.yieldTurn(() => go);
    go = true;
    await leaving;
    expect(turns.waiting).toBeLessThanOrEqual(1);
    await head;
    expect(turns.waiting).toBe(0);
  });
});
