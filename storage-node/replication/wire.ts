// Replication messages as JSON over HTTP (POST /v1/replication). Payloads travel as base64. The
// decoder checks every field: a message is input from the network like any other.
import type { LogEntry } from "./log.ts";
import type { ReplicationMessage } from "./messages.ts";

interface WireEntry {
  seq: number;
  epoch: number;
  payload: string | null;
}

export function encodeMessage(m: ReplicationMessage): string {
  if (m.kind !== "prepare") return JSON.stringify(m);
  const entries: WireEntry[] = m.entries.map((e) => ({ seq: e.seq, epoch: e.epoch, payload: e.payload === null ? null : Buffer.from(e.payload).toString("base64") }));
  return JSON.stringify({ ...m, entries });
}

const nat = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const str = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 64;

/** The message, or throws a RangeError naming what is wrong. */
export function decodeMessage(text: string): ReplicationMessage {
  const v = JSON.parse(text) as Record<string, unknown>;
  if (typeof v !== "object" || v === null) throw new RangeError("a replication message is a JSON object");
  if (!nat(v.shardId) || !nat(v.epoch) || !str(v.from)) throw new RangeError("shardId, epoch and from are required");
  const base = { shardId: v.shardId, epoch: v.epoch, from: v.from };
  switch (v.kind) {
    case "stale":
      return { kind: "stale", ...base };
    case "ack":
      if (typeof v.ok !== "boolean" || !nat(v.matchSeq)) throw new RangeError("an ack needs ok and matchSeq");
      return { kind: "ack", ...base, ok: v.ok, matchSeq: v.matchSeq };
    case "snapshot":
      if (!nat(v.baseSeq) || !nat(v.baseEpoch) || v.baseEpoch > v.epoch) throw new RangeError("a snapshot notice needs baseSeq and baseEpoch");
      return { kind: "snapshot", ...base, baseSeq: v.baseSeq, baseEpoch: v.baseEpoch };
    case "prepare": {
      if (!nat(v.prevSeq) || !nat(v.prevEpoch) || !nat(v.committedSeq) || !Array.isArray(v.entries)) throw new RangeError("a prepare needs prevSeq, prevEpoch, committedSeq and entries");
      const entries: LogEntry[] = (v.entries as WireEntry[]).map((e, i) => {
        if (!nat(e.seq) || e.seq !== (v.prevSeq as number) + i + 1 || !nat(e.epoch) || e.epoch > (v.epoch as number)) throw new RangeError(`entry ${i} is malformed`);
        if (e.payload !== null && typeof e.payload !== "string") throw new RangeError(`entry ${i} has a bad payload`);
        return { seq: e.seq, epoch: e.epoch, payload: e.payload === null ? null : new Uint8Array(Buffer.from(e.payload, "base64")) };
      });
      return { kind: "prepare", ...base, prevSeq: v.prevSeq, prevEpoch: v.prevEpoch, committedSeq: v.committedSeq, entries };
    }
    default:
      throw new RangeError(`unknown message kind ${JSON.stringify(v.kind)}`);
  }
}
