import { describe, expect, it } from "vitest";
import type { ReplicationMessage } from "./messages.ts";
import { decodeMessage, encodeMessage } from "./wire.ts";

describe("replication wire format", () => {
  it("round-trips every message kind, payloads and no-ops included", () => {
    const messages: ReplicationMessage[] = [
      { kind: "prepare", shardId: 1, epoch: 4, from: "n1", prevSeq: 9, prevEpoch: 3, committedSeq: 8, entries: [
        { seq: 10, epoch: 3, payload: new Uint8Array([0, 255, 1]) },
        { seq: 11, epoch: 4, payload: null },
      ] },
      { kind: "prepare", shardId: 1, epoch: 4, from: "n1", prevSeq: 11, prevEpoch: 4, committedSeq: 11, entries: [] },
      { kind: "ack", shardId: 1, epoch: 4, from: "n2", ok: false, matchSeq: 3 },
      { kind: "stale", shardId: 2, epoch: 9, from: "n3" },
      { kind: "snapshot", shardId: 2, epoch: 9, from: "n1", baseSeq: 4_000, baseEpoch: 8 },
    ];
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it("refuses malformed messages with a RangeError or SyntaxError, never a half-read message", () => {
    const good = JSON.parse(encodeMessage({ kind: "prepare", shardId: 1, epoch: 2, from: "n1", prevSeq: 0, prevEpoch: 0, committedSeq: 0, entries: [{ seq: 1, epoch: 2, payload: null }] }));
    const bad: unknown[] = [
      { ...good, kind: "vote" },
      { ...good, epoch: -1 },
      { ...good, from: "" },
      { ...good, entries: [{ seq: 2, epoch: 2, payload: null }] }, // not prevSeq + 1
      { ...good, entries: [{ seq: 1, epoch: 3, payload: null }] }, // entry from a later epoch than the message
      { ...good, entries: [{ seq: 1, epoch: 2, payload: 5 }] },
      { ...good, committedSeq: 1.5 },
      { kind: "ack", shardId: 1, epoch: 1, from: "n2", ok: "yes", matchSeq: 1 },
      { kind: "snapshot", shardId: 1, epoch: 3, from: "n1", baseSeq: 10 }, // no baseEpoch
      { kind: "snapshot", shardId: 1, epoch: 3, from: "n1", baseSeq: 10, baseEpoch: 4 }, // base from a later epoch
    ];
    for (const b of bad) expect(() => decodeMessage(JSON.stringify(b)), JSON.stringify(b)).toThrow(RangeError);
    expect(() => decodeMessage("{")).toThrow(SyntaxError);
    expect(() => decodeMessage("null")).toThrow(RangeError);
  });
});
