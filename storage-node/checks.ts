// Checks every request passes before it runs: every key and span inside the caller's tenant span,
// and every size within limits.ts. Both refuse the whole request; nothing is partly executed.
import type { KvError, KvRequest, ReadOp, Span, WriteOp } from "../common/kv-protocol/messages.ts";
import { tenantSpan } from "../common/tenant-prefix.ts";
import type { StorageLimits } from "./limits.ts";
import { compareBytes } from "../common/bytes.ts";

interface Bounds {
  start: Uint8Array;
  end: Uint8Array;
}

/**
 * The last tenant's span, kept: building one (two arrays, BigInt arithmetic) was most of this
 * check's cost, paid per request, and a KV stream sends one tenant's requests back to back. Never
 * handed out, never written to.
 */
let lastSpan: { tenantId: number; span: Bounds } | null = null;

function spanOf(tenantId: number): Bounds {
  if (lastSpan === null || lastSpan.tenantId !== tenantId) lastSpan = { tenantId, span: tenantSpan(tenantId) };
  return lastSpan.span;
}

/** Returns the error for the first key or span outside [tenant start, tenant end), or null. */
export function checkTenantSpans(req: KvRequest, tenantId: number): KvError | null {
  const t = spanOf(tenantId);
  const outside = (key: Uint8Array, what: string): KvError => ({
    code: "outside_tenant_span",
    message: `${what} is outside tenant ${tenantId}'s keyspace; the whole request was refused`,
    key,
  });
  const key = (k: Uint8Array, what: string): KvError | null =>
    compareBytes(k, t.start) >= 0 && compareBytes(k, t.end) < 0 ? null : outside(k, what);
  const span = (s: Bounds, what: string): KvError | null => {
    if (compareBytes(s.start, s.end) > 0) {
      return { code: "malformed_request", message: `${what} has start after end`, key: s.start };
    }
    if (compareBytes(s.start, t.start) < 0) return outside(s.start, `${what} start`);
    if (compareBytes(s.end, t.end) > 0) return outside(s.end, `${what} end`);
    if (compareBytes(s.start, t.end) >= 0) return outside(s.start, `${what} start`);
    return null;
  };
  const readOp = (op: ReadOp): KvError | null => (op.op === "get" ? key(op.key, "get key") : span(op, "scan span"));
  const writeOp = (op: WriteOp): KvError | null =>
    op.op === "deleteRange" || op.op === "clearRange" ? span(op, `${op.op} span`) : key(op.key, `${op.op} key`);
  switch (req.type) {
    case "begin":
    case "abort":
    case "heartbeat":
      return null;
    case "txnRead":
    case "read":
      for (const op of req.ops) {
        const e = readOp(op);
        if (e) return e;
      }
      return null;
    case "refresh":
      for (const s of req.spans) {
        const e = span(s, "refresh span");
        if (e) return e;
      }
      return null;
    case "txnWrite":
      for (const op of req.writes) {
        const e = writeOp(op);
        if (e) return e;
      }
      return null;
    case "unlock":
      for (const k of req.keys) {
        const e = key(k, "unlock key");
        if (e) return e;
      }
      return null;
    case "commit":
      for (const s of req.readSpans) {
        const e = span(s, "read span");
        if (e) return e;
      }
      for (const op of req.writes) {
        const e = writeOp(op);
        if (e) return e;
      }
      return null;
    case "batch":
      for (const op of req.reads) {
        const e = readOp(op);
        if (e) return e;
      }
      for (const op of req.writes) {
        const e = writeOp(op);
        if (e) return e;
      }
      return null;
  }
}

function limit(message: string, key?: Uint8Array): KvError {
  return key === undefined ? { code: "limit_exceeded", message } : { code: "limit_exceeded", message, key };
}

/** Returns the error for the first limit the request crosses, or null. */
export function checkLimits(req: KvRequest, limits: StorageLimits): KvError | null {
  const keyTooBig = (k: Uint8Array, what: string): KvError | null =>
    k.length > limits.keyBytesMax ? limit(`${what} is ${k.length} bytes; keys are limited to ${limits.keyBytesMax} bytes (keyBytesMax)`, k.subarray(0, 64)) : null;
  const spanTooBig = (s: Span | Bounds, what: string): KvError | null => keyTooBig(s.start, `${what} start`) ?? keyTooBig(s.end, `${what} end`);
  let reads: ReadOp[] = [];
  let writes: WriteOp[] = [];
  let spans: Span[] = [];
  if (req.type === "read" || req.type === "txnRead") reads = req.ops;
  else if (req.type === "batch") {
    reads = req.reads;
    writes = req.writes;
  } else if (req.type === "commit") {
    writes = req.writes;
    spans = req.readSpans;
  } else if (req.type === "txnWrite") writes = req.writes;
  else if (req.type === "refresh") spans = req.spans;
  else if (req.type === "unlock") reads = req.keys.map((key): ReadOp => ({ op: "get", key }));
  if (req.type === "commit" || req.type === "abort" || req.type === "txnRead" || req.type === "txnWrite" || req.type === "refresh" || req.type === "heartbeat" || req.type === "unlock") {
    if (req.txnId.length === 0 || req.txnId.length > limits.txnIdBytesMax) {
      return { code: "malformed_request", message: `txnId must be 1 to ${limits.txnIdBytesMax} bytes, got ${req.txnId.length}` };
    }
  }
  const entries = reads.length + writes.length + spans.length;
  if (entries > limits.batchEntriesMax) {
    return limit(`request has ${entries} operations and spans; the limit is ${limits.batchEntriesMax} (batchEntriesMax): split it`);
  }
  for (const op of reads) {
    const e = op.op === "get" ? keyTooBig(op.key, "get key") : spanTooBig(op, "scan span");
    if (e) return e;
  }
  for (const s of spans) {
    const e = spanTooBig(s, "read span");
    if (e) return e;
  }
  let writeBytes = 0;
  for (const op of writes) {
    if (op.op === "deleteRange" || op.op === "clearRange") {
      const e = spanTooBig(op, `${op.op} span`);
      if (e) return e;
      continue;
    }
    const e = keyTooBig(op.key, `${op.op} key`);
    if (e) return e;
    const value = op.op === "put" ? op.value : op.op === "cput" ? op.value : null;
    if (value !== null && value.length > limits.valueBytesMax) {
      return limit(`value is ${value.length} bytes; values are limited to ${limits.valueBytesMax} bytes (valueBytesMax)`, op.key);
    }
    if (op.op === "cput" && op.expected !== null && op.expected.length > limits.valueBytesMax) {
      return limit(`expected value is ${op.expected.length} bytes; values are limited to ${limits.valueBytesMax} bytes (valueBytesMax)`, op.key);
    }
    writeBytes += op.key.length + (value?.length ?? 0);
  }
  if (writeBytes > limits.txnWriteBytesMax) {
    return limit(`request writes ${writeBytes} bytes; one commit is limited to ${limits.txnWriteBytesMax} bytes (txnWriteBytesMax): split it`);
  }
  return null;
}

/**
 * A request may not write inside a span it also clears (clearRange): the clear removes the span
 * whole and the node refuses later writes into it, so such a write is a client bug whichever order
 * it comes in. The gateway drops its buffered writes in a span when it clears it.
 */
export function checkClearOverlaps(req: KvRequest): KvError | null {
  const writes = req.type === "commit" || req.type === "batch" ? req.writes : [];
  const clears: Bounds[] = [];
  for (const op of writes) if (op.op === "clearRange" && compareBytes(op.start, op.end) < 0) clears.push(op);
  if (clears.length === 0) return null;
  // Their union as sorted disjoint spans (ends increase too), so each write is one binary search.
  clears.sort((a, b) => compareBytes(a.start, b.start));
  const union: Bounds[] = [];
  for (const c of clears) {
    const last = union[union.length - 1];
    if (last !== undefined && compareBytes(c.start, last.end) <= 0) {
      if (compareBytes(c.end, last.end) > 0) last.end = c.end;
    } else union.push({ start: c.start, end: c.end });
  }
  for (const op of writes) {
    if (op.op === "clearRange") continue;
    const start = op.op === "deleteRange" ? op.start : op.key;
    // The first union span ending after `start` is the only one that can hold it or overlap from it.
    let lo = 0;
    let hi = union.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareBytes(union[mid]!.end, start) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const u = union[lo];
    if (u === undefined) continue;
    const overlaps = op.op === "deleteRange" ? compareBytes(u.start, op.end) < 0 && compareBytes(op.start, op.end) < 0 : compareBytes(u.start, start) <= 0;
    if (overlaps) {
      return { code: "malformed_request", message: `${op.op} inside a span the same request clears (clearRange); nothing was written`, key: start };
    }
  }
  return null;
}
