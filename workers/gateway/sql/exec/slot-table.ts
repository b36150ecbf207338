// The slots of a hash table (exec/key-set.ts) as Int32 segments of at most
// sqlLimits.hashSegmentSlots each, allocated a few at a time, instead of one Int32Array.
//
// Why: allocating a typed array is one step that zeroes all of it, and inside workerd it is slow —
// measured at ~13 ms per 4 MiB (new Int32Array(2^20) 14 ms, 2^22 52 ms, machine at load ~5). A
// table that doubles to 2^22 slots in one allocation therefore held the thread for 52–56 ms at once,
// which every other tenant's request waited out (locally all isolates share workerd's one thread),
// whatever the statement's slices were. Split into segments, the next table's memory is allocated
// ahead of its use, one segment at a time spread over many adds (SlotTableBuilder), so no single
// step allocates more than one segment.
import { sqlLimits } from "../limits.ts";

const SEGMENT_BITS = Math.log2(sqlLimits.hashSegmentSlots);
const SEGMENT_MASK = sqlLimits.hashSegmentSlots - 1;
/** Int32 slots in a 4 KiB memory page. */
const PAGE_SLOTS = 1024;

export class SlotTable {
  /** Slots in all (a power of two), and the mask that maps a hash to one. */
  readonly length: number;
  readonly mask: number;
  private readonly segments: readonly Int32Array[];

  constructor(segments: readonly Int32Array[], length: number) {
    this.segments = segments;
    this.length = length;
    this.mask = length - 1;
  }

  get(i: number): number {
    return this.segments[i >>> SEGMENT_BITS]![i & SEGMENT_MASK]!;
  }

  set(i: number, v: number): void {
    this.segments[i >>> SEGMENT_BITS]![i & SEGMENT_MASK] = v;
  }

  get byteLength(): number {
    return this.length * 4;
  }
}

/** Allocates the segments of a table of `length` slots (a power of two), one per `step()`. */
export class SlotTableBuilder {
  readonly length: number;
  private readonly segments: Int32Array[] = [];
  private readonly segmentSlots: number;
  private readonly segmentCount: number;

  constructor(length: number) {
    if (!(length > 0 && (length & (length - 1)) === 0)) throw new Error(`slot table length must be a power of two, got ${length}`);
    this.length = length;
    this.segmentSlots = Math.min(length, sqlLimits.hashSegmentSlots);
    this.segmentCount = length / this.segmentSlots;
  }

  get done(): boolean {
    return this.segments.length === this.segmentCount;
  }

  /** Allocates the next segment if any is missing; returns the bytes it allocated. */
  step(): number {
    if (this.done) return 0;
    const segment = new Int32Array(this.segmentSlots);
    // Where the allocator maps zero pages lazily (Node), the first write to each page faults; a
    // write per 4 KiB page here takes those faults now rather than in one burst when the table is
    // first filled (measured in Node: 15–25 ms per 1,024 adds right after a doubling, without).
    for (let i = 0; i < segment.length; i += PAGE_SLOTS) segment[i] = 0;
    this.segments.push(segment);
    return this.segmentSlots * 4;
  }

  /** The table, allocating what is still missing (all of it at once: the caller started too late); returns it with the bytes allocated now. */
  finish(): { table: SlotTable; allocatedBytes: number } {
    let allocatedBytes = 0;
    while (!this.done) allocatedBytes += this.step();
    return { table: new SlotTable(this.segments, this.length), allocatedBytes };
  }
}
