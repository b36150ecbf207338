// A set of string keys (rowHashKey's) kept in typed arrays rather than as JavaScript strings and a
// JavaScript Set, for DISTINCT inside aggregates (count(distinct …)).
//
// Why not a Set<string>: a statement's budget can interrupt it only between rows, and two things a
// big Set does are single uninterruptible steps that grow with its size:
//   - growth: a Set rehashes every entry at once when it doubles; measured in Node on this
//     (loaded) machine, the add that took a Set past 2^20 entries took 1,271 ms, and locally every
//     tenant's isolate shares workerd's one thread for that long;
//   - garbage collection: every key is a heap object that survives, so each scavenge copies the
//     new ones and a full collection marks them all (183–410 ms scavenges and a 222 ms mark-compact
//     over 1.2 M keys there).
// Here the keys' characters live in chunks of a Uint16Array arena and the table is an Int32Array:
// a handful of large objects that the collector does not trace into, and the keys that `add` is
// given die young. The table grows by incremental rehashing: a grown table is filled from the old
// one a few slots per add (sqlLimits.keySetRehashSlotsPerAdd) while both are searched, so no add
// moves more than that; the arena grows a chunk at a time (sqlLimits.keySetChunkChars), and
// per-entry arrays in blocks of ENTRY_BLOCK entries, so no step copies more than one chunk or block.
// Nor does any step allocate more than that: allocation itself costs (workerd zeroes a typed array
// at ~3 ms per MiB, see slot-table.ts), so the table is in segments, and the next table's segments
// are allocated ahead, one every SEGMENT_EVERY_ADDS adds from 3/8 load on (PREPARE_AT_EIGHTHS).
//
//   slots (open addressing, linear probing):  0 empty · 1 moved to the new table · id + 2
//   entry id → hash (Int32) and ref: ≥ 0 position of the key in the arena (u16 length, then its
//              UTF-16 code units; chunk = ref / keySetChunkChars), < 0 index -ref-1 of a key too
//              long for a chunk, kept as a string (few can exist: each holds a chunk's worth)
//
// The hash is seeded per set, so which keys collide cannot be planned by a client that sends them.
import { sqlLimits } from "../limits.ts";
import { SlotTable, SlotTableBuilder } from "./slot-table.ts";

const EMPTY = 0;
const MOVED = 1;
/** Entries per block of the per-entry arrays (the last block grows by doubling up to it). */
const ENTRY_BLOCK_BITS = 14;
const ENTRY_BLOCK = 1 << ENTRY_BLOCK_BITS;
/** A table is grown when it would be more than half full (linear probing stays short). */
const SLOTS_INITIAL = 16;
const CHUNK = sqlLimits.keySetChunkChars;
/**
 * The next table's segments are allocated from this many eighths of the current table's load on.
 * A table doubles at 4/8 and then holds twice the slots, so between 3/8 and 4/8 there are
 * length/8 adds for its 2·length/hashSegmentSlots segments.
 */
const PREPARE_AT_EIGHTHS = 3;
/**
 * One segment per this many adds while preparing: hashSegmentSlots/16 would finish exactly at 4/8
 * load; half that finishes with room to spare, and a slice of a few thousand adds then allocates a
 * few segments (each well under a millisecond).
 */
const SEGMENT_EVERY_ADDS = Math.max(1, sqlLimits.hashSegmentSlots / 32);

export class KeySet {
  private readonly seed = (Math.random() * 0x1_0000_0000) | 0;
  private slots: SlotTable = new SlotTableBuilder(SLOTS_INITIAL).finish().table;
  /** The table being emptied into `slots`, and the next of its slots to move. */
  private old: SlotTable | null = null;
  private oldNext = 0;
  /** The next table (twice `slots`), being allocated a segment at a time; null until 3/8 load. */
  private next: SlotTableBuilder | null = null;
  private count = 0;
  private readonly hashes: Int32Array[] = [];
  private readonly refs: Int32Array[] = [];
  private readonly chunks: Uint16Array[] = [];
  /** Next free position in the last chunk. */
  private tail = 0;
  private readonly large: string[] = [];
  /** Bytes of everything above now, and the most they have been. */
  private bytes = SLOTS_INITIAL * 4;
  private bytesPeak = this.bytes;
  private largestAllocation = 0;

  get size(): number {
    return this.count;
  }

  /** The most bytes the set has held at once (tables, arena, entry blocks, long keys): what it is charged. */
  get heldBytes(): number {
    return this.bytesPeak;
  }

  /** The most bytes one step allocated at once (a segment, a chunk, a block): what one add may cost beyond its key. */
  get largestAllocationBytes(): number {
    return this.largestAllocation;
  }

  /** Adds `key`; true when it was not in the set yet. */
  add(key: string): boolean {
    return this.intern(key) < 0;
  }

  /**
   * The id of `key` (0, 1, 2… in the order keys were first added; key-map.ts keeps values by it):
   * its id when it was in the set already, else it is added and `-(id + 1)` is returned.
   */
  intern(key: string): number {
    if (this.old !== null) this.migrate(sqlLimits.keySetRehashSlotsPerAdd);
    const h = hashOf(key, this.seed);
    const found = this.lookup(key, h);
    if (found >= 0) return found;
    this.prepare();
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const id = this.count++;
    this.store(id, key, h);
    place(this.slots, h, id + 2);
    return -(id + 1);
  }

  has(key: string): boolean {
    return this.idOf(key) >= 0;
  }

  /** The id of `key`, or -1 when it is not in the set. */
  idOf(key: string): number {
    return this.lookup(key, hashOf(key, this.seed));
  }

  private lookup(key: string, h: number): number {
    const id = this.find(this.slots, key, h);
    return id >= 0 || this.old === null ? id : this.find(this.old, key, h);
  }

  private find(table: SlotTable, key: string, h: number): number {
    const mask = table.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = table.get(i);
      if (v === EMPTY) return -1;
      if (v !== MOVED && this.hashAt(v - 2) === h && this.keyEquals(v - 2, key)) return v - 2;
    }
  }

  /** From 3/8 load on, allocates the next table's segments, one every SEGMENT_EVERY_ADDS adds. */
  private prepare(): void {
    if (this.next === null) {
      if (this.count * 8 < this.slots.length * PREPARE_AT_EIGHTHS) return;
      this.next = new SlotTableBuilder(this.slots.length * 2);
    } else if (this.next.done || this.count % SEGMENT_EVERY_ADDS !== 0) {
      return;
    }
    this.held(this.next.step());
  }

  /** Starts filling the table twice the size; the current one is emptied into it add by add. */
  private grow(): void {
    // Emptied long before: a table doubles after count/2 more adds and is emptied in
    // length/keySetRehashSlotsPerAdd of them (≥ 2 slots per add would do). Finish it if not.
    if (this.old !== null) this.migrate(this.old.length);
    const { table, allocatedBytes } = (this.next ?? new SlotTableBuilder(this.slots.length * 2)).finish();
    this.held(allocatedBytes);
    this.next = null;
    this.old = this.slots;
    this.oldNext = 0;
    this.slots = table;
  }

  private migrate(n: number): void {
    const old = this.old!;
    const end = Math.min(old.length, this.oldNext + n);
    for (let i = this.oldNext; i < end; i++) {
      const v = old.get(i);
      if (v >= 2) {
        place(this.slots, this.hashAt(v - 2), v);
        old.set(i, MOVED);
      }
    }
    this.oldNext = end;
    if (end === old.length) {
      this.old = null;
      this.held(-old.byteLength);
    }
  }

  private hashAt(id: number): number {
    return this.hashes[id >>> ENTRY_BLOCK_BITS]![id & (ENTRY_BLOCK - 1)]!;
  }

  private keyEquals(id: number, key: string): boolean {
    const ref = this.refs[id >>> ENTRY_BLOCK_BITS]![id & (ENTRY_BLOCK - 1)]!;
    if (ref < 0) return this.large[-ref - 1] === key;
    const chunk = this.chunks[Math.floor(ref / CHUNK)]!;
    let at = ref % CHUNK;
    if (chunk[at] !== key.length) return false;
    at++;
    for (let i = 0; i < key.length; i++) if (chunk[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  private store(id: number, key: string, h: number): void {
    const block = id >>> ENTRY_BLOCK_BITS;
    const at = id & (ENTRY_BLOCK - 1);
    if (at === 0) {
      const n = block === 0 ? 8 : ENTRY_BLOCK;
      this.hashes.push(new Int32Array(n));
      this.refs.push(new Int32Array(n));
      this.held(8 * n);
    } else if (at === this.hashes[block]!.length) {
      // Only the first block starts small (a set per group of a GROUP BY may hold a few keys).
      this.hashes[block] = grown(this.hashes[block]!, at * 2);
      this.refs[block] = grown(this.refs[block]!, at * 2);
      this.held(8 * at);
    }
    this.hashes[block]![at] = h;
    this.refs[block]![at] = this.storeKey(key);
  }

  /** Copies the key into the arena (or keeps a key longer than a chunk whole); returns its ref. */
  private storeKey(key: string): number {
    const need = key.length + 1;
    if (need > CHUNK) {
      this.held(2 * key.length + 16);
      return -this.large.push(key);
    }
    let last = this.chunks.length - 1;
    if (last < 0 || this.tail + need > this.chunks[last]!.length) {
      const c = last < 0 ? null : this.chunks[last]!;
      if (c !== null && c.length < CHUNK) {
        // The first chunk starts small and doubles up to a whole chunk (at most one chunk copied).
        let size = c.length * 2;
        while (size < this.tail + need) size *= 2;
        this.chunks[last] = grown(c, Math.min(CHUNK, size));
        this.held(2 * (this.chunks[last]!.length - c.length));
      }
      if (last < 0 || this.tail + need > this.chunks[last]!.length) {
        this.chunks.push(new Uint16Array(last < 0 ? Math.min(CHUNK, Math.max(64, 2 * need)) : CHUNK));
        this.held(2 * this.chunks.at(-1)!.length);
        last++;
        this.tail = 0;
      }
    }
    const chunk = this.chunks[last]!;
    const at = this.tail;
    chunk[at] = key.length;
    for (let i = 0; i < key.length; i++) chunk[at + 1 + i] = key.charCodeAt(i);
    this.tail += need;
    const ref = last * CHUNK + at;
    if (!(ref <= 0x7fff_ffff)) throw new Error(`key set arena past 2^31 code units (${ref})`);
    return ref;
  }

  private held(delta: number): void {
    if (delta > this.largestAllocation) this.largestAllocation = delta;
    this.bytes += delta;
    if (this.bytes > this.bytesPeak) this.bytesPeak = this.bytes;
  }
}

function place(table: SlotTable, h: number, v: number): void {
  const mask = table.mask;
  let i = h & mask;
  while (table.get(i) !== EMPTY) i = (i + 1) & mask;
  table.set(i, v);
}

function grown<T extends Int32Array | Uint16Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/** FNV-1a over the UTF-16 code units from a per-set seed, then MurmurHash3's finalizer (spreads the low bits the table uses). */
function hashOf(s: string, seed: number): number {
  let h = seed ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x0100_0193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h;
}
