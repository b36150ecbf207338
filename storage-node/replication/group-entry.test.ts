// A write transaction captured as a log entry applies the same puts and removes, in order, elsewhere.
import { describe, expect, it } from "vitest";
import type { EngineWriter } from "../engine/engine.ts";
import { applyGroupEntry, encodeGroupEntry, recordingWriter, type GroupOp } from "./group-entry.ts";

/** An in-memory writer over a Map (keys as hex), enough to check what an entry does. */
function mapWriter(m: Map<string, Uint8Array>): EngineWriter {
  const hex = (k: Uint8Array) => Buffer.from(k).toString("hex");
  return {
    get: (k) => m.get(hex(k)),
    range: () => [],
    put: (k, v) => void m.set(hex(k), v.slice()),
    remove: (k) => void m.delete(hex(k)),
  };
}

describe("group entries", () => {
  it("replays a recorded transaction on another store: same keys, same values, removes in order", () => {
    const a = new Map<string, Uint8Array>();
    const ops: GroupOp[] = [];
    const w = recordingWriter(mapWriter(a), ops);
    const buf = new Uint8Array([1, 2, 3]);
    w.put(new Uint8Array([0x74, 1]), buf);
    buf[0] = 9; // the caller reuses its buffer: the recorded value is a copy
    w.put(new Uint8Array([0x74, 2]), new Uint8Array(0));
    w.remove(new Uint8Array([0x74, 1]));
    w.put(new Uint8Array([0x74, 1]), new Uint8Array([7]));
    const b = new Map<string, Uint8Array>();
    expect(applyGroupEntry(mapWriter(b), encodeGroupEntry(ops))).toBe(4);
    expect([...b.entries()]).toEqual([...a.entries()]);
    expect(b.get("7401")).toEqual(new Uint8Array([7]));
    expect(b.get("7402")).toEqual(new Uint8Array(0));
  });

  it("refuses a truncated or unknown entry", () => {
    const entry = encodeGroupEntry([{ put: true, key: new Uint8Array([1, 2]), value: new Uint8Array([3, 4, 5]) }]);
    expect(() => applyGroupEntry(mapWriter(new Map()), entry.subarray(0, entry.length - 1))).toThrow(/truncated/);
    expect(() => applyGroupEntry(mapWriter(new Map()), new Uint8Array([9, 0, 0, 0, 0]))).toThrow(/unknown op 9/);
  });
});
