// The spans a `clearRange` write removed (DROP TABLE, TRUNCATE, DROP INDEX), as the node keeps
// them in memory: one index on the writer thread (refuses writes into a cleared span, checks read
// spans at commit) and one on the HTTP thread (refuses reads below the clear, hides what is left
// of the span from reads at or above it). Both are built from the same durable records
// (node-keys.ts CLEAR_RECORD_TAG); see storage-node/README.md, "Clearing spans".
//
// A record lives from the commit that cleared the span until its versions are all deleted AND the
// GC threshold has passed its clearTs (after that no snapshot below clearTs can read or commit).
//
// Lookups are by overlap with a key or span of one tenant. Spans are kept sorted by start with a
// running maximum of ends, so a lookup is a binary search plus a walk back over the spans that can
// still reach it (table and index prefixes nest or are disjoint, so the walk is short).
import { compareBytes } from "../../common/bytes.ts";

export interface ClearRecord {
  tenantId: number;
  start: Uint8Array;
  end: Uint8Array;
  /** The commit timestamp of the clearRange. */
  clearTs: bigint;
  /** Every version in the span has been deleted (the record only waits for the GC threshold). */
  done: boolean;
}

/** The identity of a record: a commit may clear several spans (TRUNCATE a, b) at one clearTs. */
export function sameRecord(a: Pick<ClearRecord, "tenantId" | "start" | "clearTs">, b: Pick<ClearRecord, "tenantId" | "start" | "clearTs">): boolean {
  return a.tenantId === b.tenantId && a.clearTs === b.clearTs && compareBytes(a.start, b.start) === 0;
}

class TenantSpans {
  /** Sorted by start (ties by clearTs). */
  readonly sorted: ClearRecord[] = [];
  /** maxEnd[i] = the largest end among sorted[0..i]. */
  private maxEnd: Uint8Array[] = [];

  add(r: ClearRecord): void {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareBytes(this.sorted[mid]!.start, r.start);
      if (c < 0 || (c === 0 && this.sorted[mid]!.clearTs <= r.clearTs)) lo = mid + 1;
      else hi = mid;
    }
    this.sorted.splice(lo, 0, r);
    this.rebuildFrom(lo);
  }

  remove(r: Pick<ClearRecord, "tenantId" | "start" | "clearTs">): ClearRecord | undefined {
    const i = this.sorted.findIndex((x) => sameRecord(x, r));
    if (i < 0) return undefined;
    const [gone] = this.sorted.splice(i, 1);
    this.maxEnd.length = i;
    this.rebuildFrom(i);
    return gone;
  }

  private rebuildFrom(i: number): void {
    for (let j = i; j < this.sorted.length; j++) {
      const end = this.sorted[j]!.end;
      const prev = j > 0 ? this.maxEnd[j - 1]! : null;
      this.maxEnd[j] = prev !== null && compareBytes(prev, end) > 0 ? prev : end;
    }
    this.maxEnd.length = this.sorted.length;
  }

  /**
   * Calls fn for every record overlapping [start, end) (end null: the single key `start`), until
   * fn returns true. Returns whether it was stopped.
   */
  visit(start: Uint8Array, end: Uint8Array | null, fn: (r: ClearRecord) => boolean): boolean {
    // An empty span overlaps nothing.
    if (end !== null && compareBytes(start, end) >= 0) return false;
    // Candidates begin before the end of the query (point: at or before the key).
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareBytes(this.sorted[mid]!.start, end ?? start);
      if (end === null ? c <= 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo - 1; j >= 0; j--) {
      // No record at or before j reaches past the query's start: none can overlap.
      if (compareBytes(this.maxEnd[j]!, start) <= 0) break;
      const r = this.sorted[j]!;
      if (compareBytes(r.end, start) > 0 && fn(r)) return true;
    }
    return false;
  }
}

export class ClearedSpans {
  private readonly byTenant = new Map<number, TenantSpans>();

  add(r: ClearRecord): void {
    let t = this.byTenant.get(r.tenantId);
    if (t === undefined) {
      t = new TenantSpans();
      this.byTenant.set(r.tenantId, t);
    }
    t.add(r);
  }

  remove(r: Pick<ClearRecord, "tenantId" | "start" | "clearTs">): ClearRecord | undefined {
    const t = this.byTenant.get(r.tenantId);
    const gone = t?.remove(r);
    if (t !== undefined && t.sorted.length === 0) this.byTenant.delete(r.tenantId);
    return gone;
  }

  find(r: Pick<ClearRecord, "tenantId" | "start" | "clearTs">): ClearRecord | undefined {
    return this.byTenant.get(r.tenantId)?.sorted.find((x) => sameRecord(x, r));
  }

  /** Records kept for a tenant (pending or waiting for the GC threshold). */
  count(tenantId: number): number {
    return this.byTenant.get(tenantId)?.sorted.length ?? 0;
  }

  get size(): number {
    let n = 0;
    for (const t of this.byTenant.values()) n += t.sorted.length;
    return n;
  }

  all(): ClearRecord[] {
    const out: ClearRecord[] = [];
    for (const t of this.byTenant.values()) out.push(...t.sorted);
    return out;
  }

  hasTenant(tenantId: number): boolean {
    return this.byTenant.has(tenantId);
  }

  /** The first record overlapping [start, end) (end null: the key `start`) that `pred` accepts. */
  first(tenantId: number, start: Uint8Array, end: Uint8Array | null, pred: (r: ClearRecord) => boolean = () => true): ClearRecord | null {
    const t = this.byTenant.get(tenantId);
    if (t === undefined) return null;
    let found: ClearRecord | null = null;
    t.visit(start, end, (r) => {
      if (!pred(r)) return false;
      found = r;
      return true;
    });
    return found;
  }

  /**
   * What of [start, end) a read at readTs may see: the span minus every span cleared at or below
   * readTs, as sorted disjoint pieces. null when nothing cleared overlaps (the common case).
   */
  visiblePieces(tenantId: number, start: Uint8Array, end: Uint8Array, readTs: bigint): Array<{ start: Uint8Array; end: Uint8Array }> | null {
    const t = this.byTenant.get(tenantId);
    if (t === undefined) return null;
    const holes: Array<{ start: Uint8Array; end: Uint8Array }> = [];
    t.visit(start, end, (r) => {
      if (r.clearTs <= readTs) holes.push({ start: r.start, end: r.end });
      return false;
    });
    if (holes.length === 0) return null;
    holes.sort((a, b) => compareBytes(a.start, b.start));
    const pieces: Array<{ start: Uint8Array; end: Uint8Array }> = [];
    let at = start;
    for (const h of holes) {
      if (compareBytes(h.start, at) > 0) pieces.push({ start: at, end: compareBytes(h.start, end) < 0 ? h.start : end });
      if (compareBytes(h.end, at) > 0) at = h.end;
      if (compareBytes(at, end) >= 0) break;
    }
    if (compareBytes(at, end) < 0) pieces.push({ start: at, end });
    return pieces;
  }
}
