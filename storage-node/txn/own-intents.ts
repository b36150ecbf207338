// Read-your-own-writes for a transaction's intents: its reads see the values it wrote as intents
// (flushed from the gateway before commit) over the committed snapshot. Other transactions'
// intents are never visible to a read (see storage-node/README.md, "Why readers skip intents").
import type { ReadOp, ReadResult } from "../../common/kv-protocol/messages.ts";
import { bytesEqual, compareBytes } from "../../common/bytes.ts";
import type { EngineReader } from "../engine/engine.ts";
import { decodeIntent, intentKey, intentSpan, intentUserKey } from "../node-keys.ts";

export function overlayOwnIntents(engine: EngineReader, txnId: Uint8Array, ops: ReadOp[], results: ReadResult[]): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const res = results[i]!;
    if (op.op === "get" && res.op === "get") {
      const stored = engine.get(intentKey(op.key));
      if (stored === undefined) continue;
      const d = decodeIntent(stored);
      if (bytesEqual(d.txnId, txnId)) res.value = d.value === null ? null : d.value.slice();
    } else if (op.op === "scan" && res.op === "scan") {
      // The span this page covers: what the next page does not.
      const start = op.reverse ? (res.resumeKey ?? op.start) : op.start;
      const end = op.reverse ? op.end : (res.resumeKey ?? op.end);
      if (compareBytes(start, end) >= 0) continue;
      const span = intentSpan(start, end);
      let own: Map<string, { key: Uint8Array; value: Uint8Array | null }> | null = null;
      for (const e of engine.range({ low: span.low, high: span.high })) {
        const d = decodeIntent(e.value);
        if (!bytesEqual(d.txnId, txnId)) continue;
        const key = intentUserKey(e.key).slice();
        own ??= new Map();
        own.set(Buffer.from(key).toString("latin1"), { key, value: d.value === null ? null : d.value.slice() });
      }
      if (own === null) continue;
      const merged = new Map<string, { key: Uint8Array; value: Uint8Array }>();
      for (const r of res.rows) merged.set(Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength).toString("latin1"), r);
      for (const [id, w] of own) {
        if (w.value === null) merged.delete(id);
        else merged.set(id, { key: w.key, value: w.value });
      }
      const ids = [...merged.keys()].sort();
      if (op.reverse) ids.reverse();
      res.rows = ids.map((id) => merged.get(id)!);
    }
  }
}
