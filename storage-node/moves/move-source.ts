// The source's part of a tenant move, read on a replica's replication port (replicated-node.ts):
//
//   GET /v1/tenant-export?tenant=N          the tenant's whole state at the replica's apply point S:
//       header {seq: S, keys, bytes}, chunks of puts. One synchronous pass over one LMDB read
//       state (the replica applies entries on this same thread), so it is the state right after S.
//   POST /v1/tenant-fence?tenant=N&after=S  (the leaseholder) fences the tenant in its KV service,
//       then answers as the tail below, with `clockAtLeast` in the header: fence and last tail in
//       one round trip, since the write pause is made of round trips.
//   GET /v1/tenant-tail?tenant=N&after=S    what changed in the tenant's state after S: the
//       operations on its keys of every applied log entry in (S, A], in order, where A is the apply
//       point now; header {through: A, digest, keys}: the digest of the tenant's whole state at A,
//       taken in the same pass. 410 when the log no longer holds entry S + 1 (truncated: the move
//       starts over with a new export).
//
// Why the log and not a second scan: a commit's effects on the tenant are exactly the puts and
// removes its log entry carries (intents, commit records, GC-queue entries, clear records
// included), so replaying them on the target gives the source's bytes at A without comparing
// anything, and the tail of a fenced tenant costs what was written since S, not the tenant's size.
import type { Engine, EngineReader } from "../engine/engine.ts";
import { appliedPosition } from "../replication/engine-log.ts";
import { encodeGroupEntry, forEachGroupOp, type GroupOp } from "../replication/group-entry.ts";
import type { ReplicationLog } from "../replication/log.ts";
import { encodeMoveBody } from "./move-wire.ts";
import { isTenantStateKey, tenantState, tenantStateDigest, tenantStateSpans, touchedKeysDigest } from "./tenant-keys.ts";

export { tenantStateDigest };

export class MoveTooLarge extends Error {}
export class TailGone extends Error {}

/** Splits operations into encoded group entries of about `chunkBytesMax` each. */
function chunked(ops: Iterable<GroupOp>, chunkBytesMax: number, bytesMax: number): { chunks: Uint8Array[]; keys: number; bytes: number } {
  const chunks: Uint8Array[] = [];
  let batch: GroupOp[] = [];
  let size = 0;
  let bytes = 0;
  let keys = 0;
  for (const op of ops) {
    const n = op.key.length + (op.put ? op.value.length : 0);
    if (batch.length > 0 && size + n > chunkBytesMax) {
      chunks.push(encodeGroupEntry(batch));
      batch = [];
      size = 0;
    }
    batch.push(op);
    size += n;
    bytes += n;
    keys++;
    if (bytes > bytesMax) throw new MoveTooLarge(`the tenant's state passes ${bytesMax} bytes (moveExportBytesMax); a streamed export is not built`);
  }
  if (batch.length > 0) chunks.push(encodeGroupEntry(batch));
  return { chunks, keys, bytes };
}

export function exportTenant(engine: Engine, tenantId: number, chunkBytesMax: number, bytesMax: number): Uint8Array {
  engine.refresh();
  const seq = appliedPosition(engine).seq;
  const ops = (function* () {
    for (const e of tenantState(engine, tenantId)) yield { put: true as const, key: e.key, value: e.value };
  })();
  const { chunks, keys, bytes } = chunked(ops, chunkBytesMax, bytesMax);
  return encodeMoveBody({ tenantId, seq, keys, bytes }, chunks);
}

/**
 * `touched`: the digest is of the keys the tail touches (touchedKeysDigest), not of the tenant's
 * whole state, when the tail is one chunk (the target checks it against that one chunk); the
 * header's `digestOf` says which was taken.
 */
export function tenantTail(engine: Engine, log: ReplicationLog, tenantId: number, afterSeq: number, chunkBytesMax: number, bytesMax: number, extra: object = {}, touched = false): Uint8Array {
  const startedMs = performance.now();
  engine.refresh();
  const through = appliedPosition(engine).seq;
  if (afterSeq > through) throw new TailGone(`entry ${afterSeq} is not applied here (applied through ${through}): ask the shard's leaseholder`);
  if (afterSeq + 1 < log.firstSeq()) throw new TailGone(`the log starts at ${log.firstSeq()}, after entry ${afterSeq + 1}: start the move over`);
  const spans = tenantStateSpans(tenantId);
  const ops: GroupOp[] = [];
  for (let from = afterSeq + 1; from <= through; ) {
    const entries = log.entries(from, 1024).filter((e) => e.seq <= through);
    if (entries.length === 0 || entries[0]!.seq !== from) throw new TailGone(`log entry ${from} is missing: start the move over`);
    for (const e of entries) {
      if (e.payload !== null) forEachGroupOp(e.payload, (o) => {
        if (isTenantStateKey(spans, o.key)) ops.push(o.put ? { put: true, key: o.key.slice(), value: o.value.slice() } : { put: false, key: o.key.slice() });
      });
    }
    from = entries[entries.length - 1]!.seq + 1;
  }
  const { chunks, keys } = chunked(ops, chunkBytesMax, bytesMax);
  const readMs = performance.now() - startedMs;
  const digestOf = touched && chunks.length <= 1 ? "touched" : "state";
  const digest = digestOf === "touched" ? touchedKeysDigest(engine, chunks[0]) : tenantStateDigest(engine, tenantId);
  // Where a fenced tail's time goes (the mover reports it with the write pause).
  const timing = { readMs: Math.round(readMs), digestMs: Math.round(performance.now() - startedMs - readMs) };
  return encodeMoveBody({ ...extra, tenantId, after: afterSeq, through, ops: keys, digest: digest.sha256, digestOf, stateKeys: digest.keys, timing }, chunks);
}
