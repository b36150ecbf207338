import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { EngineLog } from "./engine-log.ts";
import { MemoryLog, type ReplicationLog } from "./log.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("EngineLog (LMDB)", () => {
  it("behaves like MemoryLog through random appends, truncations and epochs, and survives a reopen", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-log-"));
    dirs.push(dir);
    let engine = new LmdbEngine({ path: dir, noSync: true });
    let log: ReplicationLog = new EngineLog(engine);
    const model = new MemoryLog();
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 400; step++) {
      const r = rnd();
      if (r < 0.05) {
        const e = model.epoch() + 1;
        model.setEpoch(e);
        log.setEpoch(e);
      } else if (r < 0.12) {
        const from = model.firstSeq() + Math.floor(rnd() * (model.lastSeq() - model.firstSeq() + 2));
        model.truncateFrom(from);
        log.truncateFrom(from);
      } else if (r < 0.16) {
        const through = model.firstSeq() - 1 + Math.floor(rnd() * (model.lastSeq() - model.firstSeq() + 2));
        model.truncatePrefix(through);
        log.truncatePrefix(through);
      } else if (model.epoch() > 0) {
        const entry = { seq: model.lastSeq() + 1, epoch: model.epoch(), payload: rnd() < 0.1 ? null : new Uint8Array([step & 255, 0, 0xff]) };
        const next = { ...entry, seq: entry.seq + 1 };
        const batch = rnd() < 0.3 ? [entry, next] : [entry];
        model.append(batch);
        log.append(batch);
      }
      if (step % 100 === 99) {
        await engine.close();
        engine = new LmdbEngine({ path: dir, noSync: true });
        log = new EngineLog(engine);
      }
      expect(log.lastSeq()).toBe(model.lastSeq());
      expect(log.firstSeq()).toBe(model.firstSeq());
      expect(log.epochAt(model.firstSeq() - 1)).toBe(model.epochAt(model.firstSeq() - 1));
      expect(log.epoch()).toBe(model.epoch());
    }
    expect(model.firstSeq()).toBeGreaterThan(1); // the run did drop a prefix
    expect(log.entry(model.firstSeq() - 1)).toBeUndefined();
    expect(() => log.truncateFrom(model.firstSeq() - 1)).toThrow(/applied base/);
    expect(log.entries(1, 10_000)).toEqual(model.entries(1, 10_000));
    expect(log.entry(model.lastSeq())).toEqual(model.entry(model.lastSeq()));
    expect(log.entry(model.lastSeq() + 1)).toBeUndefined();
    expect(() => log.append([{ seq: model.lastSeq() + 2, epoch: 1, payload: null }])).toThrow(/out of order/);
    await engine.close();
  });
});
